"""Natural language processing with spaCy: tokens, parts of speech, dependencies, entities.

    ./spacy_nlp.sh "Apple is looking at buying U.K. startup for $1 billion"
    echo "some text" | ./spacy_nlp.sh            (or --file notes.txt; --encoding latin-1)
    ./spacy_nlp.sh "..." --output models/sentence.html

What it shows: a trained pipeline (en_core_web_sm) splits text into tokens, tags each with its part
of speech and lemma, parses the grammar into a tree of dependencies, groups noun chunks and finds
named entities (ORG, GPE, MONEY...). displaCy draws the tree and the entities into an HTML page
(and the tree alone as SVG). Word similarity needs word vectors, which the small pipeline lacks:
it says so instead of printing meaningless numbers. Memory stays bounded: texts up to 100,000
characters (about 30 pages), and the pictures show the first 10 sentences.
"""
import argparse
import codecs
import sys
from pathlib import Path

from dlkit.errors import UserError, main_guard

MAX_CHARS = 100_000  # a 900 KB text took 2.7 GiB and 42 s in one go
DRAWN_SENTENCES = 10  # displaCy draws every token: a book would make a page of hundreds of MB


def load_pipeline(name="en_core_web_sm"):
    """spaCy's small English pipeline, installed in the image as a package: the tutorials' call."""
    import spacy
    try:
        return spacy.load(name)
    except OSError:  # spaCy's E050: no package of that name
        raise UserError(f"the spaCy pipeline {name} is not installed (spacy info lists the installed ones)")


def analyse(nlp, text):
    """A dict of what spaCy finds in text."""
    doc = nlp(text)
    return {
        "doc": doc,
        "tokens": [(t.text, t.lemma_, t.pos_, t.dep_, t.head.text) for t in doc],
        "noun_chunks": [c.text for c in doc.noun_chunks],
        "entities": [(e.text, e.label_) for e in doc.ents],
        "has_vectors": nlp.vocab.vectors.shape[0] > 0,
    }


def write_displacy(doc, output):
    """An HTML page with the dependency tree and the entities, and the tree alone as SVG, of the
    first DRAWN_SENTENCES sentences."""
    from spacy import displacy
    sentences = list(doc.sents)
    if len(sentences) > DRAWN_SENTENCES:
        doc = doc[:sentences[DRAWN_SENTENCES - 1].end].as_doc()
    output.parent.mkdir(parents=True, exist_ok=True)
    deps = displacy.render(doc, style="dep", page=False, jupyter=False)
    ents = displacy.render(doc, style="ent", page=False, jupyter=False)
    output.write_text(f"<!doctype html><meta charset=utf-8><title>spaCy</title>"
                      f"<h2>Dependencies</h2>{deps}<h2>Entities</h2>{ents}", encoding="utf-8")
    output.with_suffix(".svg").write_text(deps, encoding="utf-8")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("text", nargs="?", help="the text (default: --file, else standard input)")
    p.add_argument("--file", type=Path)
    p.add_argument("--encoding", default="utf-8", help="of --file or standard input, e.g. latin-1, cp1252")
    p.add_argument("--output", type=Path, default=Path("models/spacy.html"), help="displaCy page (and .svg)")
    args = p.parse_args(argv)
    try:
        codecs.lookup(args.encoding)
    except LookupError:
        raise UserError(f"--encoding {args.encoding}: no such text encoding (try utf-8, latin-1, cp1252)")
    advice = f"is not {args.encoding} text: give its encoding, e.g. --encoding latin-1"
    if args.text is not None:
        text = args.text
    elif args.file:
        try:
            text = args.file.read_text(encoding=args.encoding)
        except FileNotFoundError:
            raise UserError(f"{args.file}: no such file")
        except UnicodeDecodeError:
            raise UserError(f"{args.file} {advice}")
    elif not sys.stdin.isatty():
        try:
            text = sys.stdin.buffer.read().decode(args.encoding)
        except UnicodeDecodeError:
            raise UserError(f"standard input {advice}")
    else:
        p.error("give a text, --file, or pipe text in")
    if not text.strip():
        raise UserError("the text is empty: nothing to analyse")
    if len(text) > MAX_CHARS:
        raise UserError(f"the text has {len(text):,} characters; this example analyses up to {MAX_CHARS:,} "
                        f"(about 30 pages): give it a part")

    nlp = load_pipeline()
    found = analyse(nlp, text)
    print(f"{'token':14} {'lemma':14} {'POS':6} {'dep':10} head")
    for token, lemma, pos, dep, head in found["tokens"]:
        print(f"{token:14} {lemma:14} {pos:6} {dep:10} {head}")
    print("\nnoun chunks: " + (", ".join(found["noun_chunks"]) or "-"))
    print("entities:    " + (", ".join(f"{t} ({label})" for t, label in found["entities"]) or "-"))
    if not found["has_vectors"]:
        print(f"similarity:  {nlp.meta.get('name', 'this pipeline')} has no word vectors, so similarity "
              f"scores would be meaningless; a pipeline with vectors (en_core_web_md/lg) gives real ones")
    write_displacy(found["doc"], args.output)
    print(f"displaCy:    {args.output} and {args.output.with_suffix('.svg')}")
    return 0


if __name__ == "__main__":
    main_guard("spacy_nlp", main)
