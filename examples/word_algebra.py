"""Word algebra with word vectors: Rome - Italy + France = Paris.

    ./word_algebra.sh "rome - italy + france"          paris 0.858 ...  (quotes optional)
    ./word_algebra.sh "king - man + woman" --topn 3
    ./word_algebra.sh --evaluate                       the classic analogy test set, per section

What it shows: words trained on co-occurrence (here GloVe, 400,000 words x 50 numbers) land in a
space where directions mean something. "rome - italy" is roughly "capital of", and adding "france"
lands near "paris". gensim's most_similar(positive, negative) does the arithmetic on unit vectors
and returns the nearest words by cosine similarity, leaving out the words of the question.
"""
import argparse
import difflib
import re
from pathlib import Path

from dlkit.assets import asset_path
from dlkit.errors import UserError, main_guard


def load_vectors(name="vectors"):
    """The image's word vectors (a gensim KeyedVectors), memory-mapped: loads in a blink."""
    from gensim.models import KeyedVectors
    path = Path(asset_path(name))
    return KeyedVectors.load(str(path / "vectors.kv" if path.is_dir() else path), mmap="r")


def parse(expression, known=lambda word: False):
    """'rome - italy + france' -> (['rome', 'france'], ['italy']). A + or - on its own is an operator;
    a word the vectors know stays whole with its hyphen (well-known); others split: 'rome-italy'."""
    tokens = []
    for chunk in expression.split():
        tokens += [chunk] if chunk not in "+-" and known(chunk) else re.findall(r"[+-]|[^+-]+", chunk)
    positive, negative, sign = [], [], "+"
    for t in tokens:
        if t in "+-":
            sign = t
            continue
        (positive if sign == "+" else negative).append(t)
        sign = "+"
    if not positive:
        raise UserError(f"nothing to add up in {expression!r}: write words joined by + and -, e.g. \"king - man + woman\"")
    return positive, negative


def in_vocabulary(kv, word):
    """The word as the vectors spell it (GloVe is lower-case), or a one-line error with suggestions."""
    for candidate in (word, word.lower()):
        if candidate in kv.key_to_index:
            return candidate
    w = word.lower()
    # Compare with words of a similar length and the same first letter: fast and usually right.
    pool = [k for k in kv.index_to_key[:200000] if k[:1] == w[:1] and abs(len(k) - len(w)) <= 2]
    close = difflib.get_close_matches(w, pool, n=3, cutoff=0.7)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    raise UserError(f"unknown word {word!r}: it is not among the {len(kv.key_to_index):,} words of the vectors{hint}")


def solve(kv, expression, topn=5):
    """[(word, cosine similarity)] for an expression such as 'rome - italy + france'."""
    positive, negative = parse(expression, lambda w: w in kv.key_to_index or w.lower() in kv.key_to_index)
    positive = [in_vocabulary(kv, w) for w in positive]
    negative = [in_vocabulary(kv, w) for w in negative]
    total = sum(kv.get_vector(w, norm=True) for w in positive) - sum(kv.get_vector(w, norm=True) for w in negative)
    if float((total ** 2).sum()) < 1e-6:  # e.g. "rome - rome": every word would be as near as any other
        raise UserError(f"{expression!r} adds up to nothing: the words cancel out")
    return kv.most_similar(positive=positive, negative=negative, topn=topn)


def evaluate(kv, restrict_vocab=30000):
    """Accuracy on gensim's questions-words.txt (Mikolov et al.), per section and overall."""
    from gensim.test.utils import datapath
    score, sections = kv.evaluate_word_analogies(datapath("questions-words.txt"), restrict_vocab=restrict_vocab,
                                                 case_insensitive=True)
    rows = [(s["section"], len(s["correct"]), len(s["correct"]) + len(s["incorrect"])) for s in sections]
    return score, [("overall" if name == "Total accuracy" else name, c, t) for name, c, t in rows]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("expression", nargs="*", help='e.g. "rome - italy + france" (quotes optional)')
    p.add_argument("--topn", type=int, default=5)
    p.add_argument("--evaluate", action="store_true", help="run the analogy test set instead")
    p.add_argument("--restrict_vocab", type=int, default=30000, help="with --evaluate: the most frequent N words")
    args = p.parse_args(argv)
    args.expression = " ".join(args.expression)  # rome - italy + france, quoted or not
    if not args.evaluate and not args.expression:
        p.error('give an expression such as "rome - italy + france", or --evaluate')
    if not args.evaluate and not args.expression.strip():
        raise UserError("the expression is empty")
    if args.topn < 1:
        p.error("--topn must be at least 1")
    kv = load_vectors()
    if args.evaluate:
        overall, sections = evaluate(kv, args.restrict_vocab)
        for name, correct, total in sections:
            print(f"{name:32s} {correct / total if total else 0:7.1%}  ({correct}/{total})")
        return 0
    for word, score in solve(kv, args.expression, args.topn):
        print(f"{word} {score:.3f}")
    return 0


if __name__ == "__main__":
    main_guard("word_algebra", main)
