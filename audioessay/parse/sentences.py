"""Split paragraph text into sentences without cutting one in the middle.

A boundary is a run of ``.``, ``!``, ``?`` or ``…`` (with any closing quotes or brackets),
then white space, then something that can start a sentence. Abbreviations, initials, dotted
acronyms and decimals are not boundaries; a lower-case continuation never is.
"""

from __future__ import annotations

import re

# Abbreviations that are followed by a name or a number, so never end a sentence.
_TITLES = frozenset(
    [
        "mr",
        "mrs",
        "ms",
        "mx",
        "dr",
        "prof",
        "rev",
        "fr",
        "sr",
        "jr",
        "st",
        "mt",
        "ft",
        "gen",
        "col",
        "capt",
        "cpt",
        "lt",
        "sgt",
        "cmdr",
        "adm",
        "gov",
        "sen",
        "rep",
        "pres",
        "hon",
        "messrs",
        "mme",
        "mlle",
        "no",
        "nos",
        "vol",
        "vols",
        "p",
        "pp",
        "ch",
        "chap",
        "fig",
        "figs",
        "cf",
        "vs",
        "v",
        "op",
        "ed",
        "eds",
        "trans",
        "approx",
        "dept",
        "est",
        "jan",
        "feb",
        "mar",
        "apr",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "oct",
        "nov",
        "dec",
        "mon",
        "tue",
        "tues",
        "wed",
        "thu",
        "thur",
        "thurs",
        "fri",
        "sat",
        "sun",
        "e.g",
        "i.e",
        "viz",
        "al",
        "ibid",
        "cit",
        "capt",
        "ca",
        "fl",
    ]
)
_BEFORE_NUMBERS = frozenset(["b", "c", "ca", "d", "fl", "r", "m", "n"])
"""Scholarly abbreviations that stand before a year or a number: born, circa, died, flourished,
reigned, married, note."""
# Abbreviations that may also end a sentence: a boundary only when a common sentence opener
# follows ("... and so on, etc. The next ...").
_ENDABLE = frozenset(
    [
        "etc",
        "inc",
        "ltd",
        "co",
        "corp",
        "bros",
        "esq",
        "ave",
        "blvd",
        "rd",
        "ph.d",
        "a.m",
        "p.m",
        "b.c",
        "a.d",
    ]
)
_OPENERS = frozenset(
    [
        "a",
        "an",
        "the",
        "i",
        "it",
        "he",
        "she",
        "we",
        "they",
        "you",
        "this",
        "that",
        "these",
        "those",
        "there",
        "then",
        "but",
        "and",
        "or",
        "so",
        "yet",
        "in",
        "on",
        "at",
        "as",
        "if",
        "when",
        "while",
        "after",
        "before",
        "my",
        "our",
        "his",
        "her",
        "their",
        "its",
        "what",
        "who",
        "why",
        "how",
        "one",
        "no",
        "not",
        "all",
        "some",
        "many",
        "most",
        "each",
        "every",
    ]
)

_CLOSERS = "\"'”’»)]}"
_BOUNDARY = re.compile(
    r"""(?P<end>[.!?…]+[\"'”’»)\]}]*(?:[⁰¹²³⁴⁵⁶⁷⁸⁹]+|\[\d+\])?)   # end, closing marks, note marker
        (?P<space>\s+)
        (?=[\"'“‘«(\[]*[^\s\"'“‘«(\[])     # the next visible character""",
    re.VERBOSE,
)
_WORD_BEFORE = re.compile(r"([\w.’'-]+)$")
_WINDOW = 100
"""Characters looked at before and after a candidate boundary (longer than any word)."""


def split_sentences(text: str) -> list[str]:
    """Return the sentences of ``text`` in order; joined with spaces they give the text back."""
    text = " ".join(text.split())
    if not text:
        return []
    sentences: list[str] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        if _is_boundary(text, match):
            sentences.append(text[start : match.end("end")])
            start = match.end("space")
    sentences.append(text[start:])
    return [s for s in sentences if s]


def _is_boundary(text: str, match: re.Match[str]) -> bool:
    """Decide whether the punctuation in ``match`` really ends a sentence."""
    end = match.group("end")
    # Look only a short way either side: slicing the rest of the paragraph, or scanning back
    # to its start, for every full stop made splitting quadratic in a paragraph's length.
    following = text[match.end("space") : match.end("space") + _WINDOW].lstrip("\"'“‘«([")
    if not following:
        return False
    nxt = following[0]
    if nxt.islower():
        return False  # "“Really?” she asked." / "e.g. this"
    if end[0] in "!?…" or len(end.rstrip(_CLOSERS)) > 1:
        return True  # "?", "!", "...", "?!" end sentences before anything but lower case
    if end.rstrip(_CLOSERS) != end:
        return True  # a full stop inside closing quotes: '... he said."'
    word_match = _WORD_BEFORE.search(text, max(0, match.start("end") - _WINDOW), match.start("end"))
    word = word_match.group(1) if word_match else ""
    bare = word.lower().strip("’'-")
    if not bare:
        return True
    if bare in _TITLES:
        return False
    if bare in _BEFORE_NUMBERS and nxt.isdigit():
        return False  # "b. 1804", "d. 1864", "c. 1200", "fl. 1590"
    if bare in _ENDABLE or _is_acronym(word):
        next_word = re.match(r"[\w’']+", following)
        return bool(next_word and next_word.group(0).lower() in _OPENERS)
    # An initial ("J. R. R. Tolkien", "Harry S. Truman") does not end a sentence.
    return not (len(bare) == 1 and bare.isalpha() and word[0].isupper())


def _is_acronym(word: str) -> bool:
    """True for dotted abbreviations such as ``U.S`` or ``e.g`` (the final dot is outside)."""
    return "." in word and all(len(part) <= 2 for part in word.split(".") if part)
