set -e
./retrain.sh --how_many_training_steps 50 | grep '^Final test accuracy'
./evaluate.sh --model_dir models/retrained --top_k 1 "$(dl-assets path dataset)" | grep -c '^  [a-z ]* 0\.'  
./word_algebra.sh "king - man + woman" --topn 1
./spacy_nlp.sh 'Apple is looking at buying U.K. startup for $1 billion' | grep '^entities'
./faces.sh --sample astronaut | head -n 1
./tune.sh --n_iter 2 --json | grep -c '"method"'
./learning_curves.sh --epochs 5 | tail -n 1
dl-assets verify | grep -vc ' ok$' || true
