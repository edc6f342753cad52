"""The lessons' own small functions, imported from examples/ as an attendee's notebook does."""

import importlib.util
from pathlib import Path

import pytest

from dlkit.errors import UserError

REPO = Path(__file__).resolve().parents[2]


def lesson(name):
    spec = importlib.util.spec_from_file_location(name, REPO / "examples" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


VOCABULARY = {"rome", "italy", "france", "well-known", "known", "well", "-", "+"}


@pytest.mark.parametrize(
    "expression, positive, negative",
    [
        ("rome - italy + france", ["rome", "france"], ["italy"]),
        ("rome-italy+france", ["rome", "france"], ["italy"]),  # not a word: split at the operators
        ("well-known - known", ["well-known"], ["known"]),  # a word of the vocabulary keeps its hyphen
        ("- italy + rome", ["rome"], ["italy"]),
        ("nine-tenths + rome", ["nine", "rome"], ["tenths"]),  # unknown whole: split, each part checked later
    ],
)
def test_word_algebra_reads_operators_and_hyphenated_words(expression, positive, negative):
    parse = lesson("word_algebra").parse
    assert parse(expression, VOCABULARY.__contains__) == (positive, negative)


def test_word_algebra_says_what_to_write_when_nothing_adds_up():
    with pytest.raises(UserError, match="nothing to add up in '- italy'"):
        lesson("word_algebra").parse("- italy", VOCABULARY.__contains__)
