"""Plain text: headings recognised from layout alone.

Two layouts are common. Hard-wrapped text (Project Gutenberg) separates paragraphs with blank
lines and wraps lines near 70 characters; web-copied text (the reference essay) puts each
paragraph on one long line, often with no blank lines at all. Headings are short lines standing
alone between paragraphs, or labels such as ``CHAPTER IV.``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ._build import RawSection, SubHeading

_WRAP_WIDTH = 90
"""Hard-wrapped prose has no line longer than this."""
_MAX_HEADING_CHARS = 100
_MAX_HEADING_WORDS = 14
_LABEL = re.compile(
    r"""^(?:(?:chapter|lecture|book|part|section|essay|canto|act|scene|letter|volume|
          appendix|preface|introduction|epilogue|prologue)
          (?:\s+(?:[ivxlcdm]+|\d+|[a-z]+))?
        |[IVXLCDM]+)\.?$""",
    re.IGNORECASE | re.VERBOSE,
)
_LABEL_WITH_TITLE = re.compile(
    r"^(?:chapter|lecture|book|part|section|essay)\s+(?:[ivxlcdm]+|\d+)[.:]\s+\S",
    re.IGNORECASE,
)
_NON_FINAL = ".,;:!?…\"'”’»)]}—–-"
_NON_INITIAL = "\"'“‘«([—–-*•>"


@dataclass
class _Unit:
    """A candidate paragraph: one line, or a whole hard-wrapped block."""

    text: str
    single_line: bool


def parse_plain_text(text: str) -> list[RawSection]:
    """Split plain text into sections; text before the first heading has no title."""
    units = _units(text)
    sections: list[RawSection] = [RawSection(None, 1)]
    i = 0
    while i < len(units):
        unit = units[i]
        if _is_heading(units, i):
            title = unit.text
            # "CHAPTER IV." followed by its own title line: one heading, as written.
            if (
                _LABEL.match(title)
                and i + 1 < len(units)
                and _is_heading(units, i + 1, label=False)
            ):
                title = f"{title} {units[i + 1].text}"
                i += 1
            sections.append(RawSection(title, 1))
        else:
            sections[-1].paragraphs.append(unit.text)
        i += 1
    return _gather_notes(sections)


_NOTE = re.compile(r"^\s*(?:\[\d+\]|[⁰¹²³⁴⁵⁶⁷⁸⁹]+)\s*\S")
_NOTES_TITLE = re.compile(r"^(?:foot|end)?notes?|references|sources$", re.IGNORECASE)


def _gather_notes(sections: list[RawSection]) -> list[RawSection]:
    """Notes at the end ("[1] …" or "¹ …" paragraphs) are read last, under a spoken "Notes".

    Their markers in the text are not read (see :mod:`audioessay.speech`); the notes are read
    once, at the end, as in Markdown. Under a heading that already says Notes, nothing moves.
    """
    last = sections[-1]
    if last.title is not None and _NOTES_TITLE.match(last.title.strip().rstrip(":.")):
        return sections
    count = 0
    while count < len(last.paragraphs) and _is_note(last.paragraphs[-1 - count]):
        count += 1
    if count == 0 or count == len(last.paragraphs):
        return sections
    notes = last.paragraphs[-count:]
    del last.paragraphs[-count:]
    last.paragraphs.append(SubHeading("Notes", last.level + 1))
    last.paragraphs.extend(notes)
    return sections


def _is_note(paragraph: object) -> bool:
    return isinstance(paragraph, str) and _NOTE.match(paragraph) is not None


def _units(text: str) -> list[_Unit]:
    """Cut the text into candidate paragraphs, joining hard-wrapped lines."""
    units: list[_Unit] = []
    for block in re.split(r"\n\s*\n", text):
        lines = [line.strip() for line in block.split("\n") if line.strip()]
        if not lines:
            continue
        if len(lines) == 1:
            units.append(_Unit(lines[0], True))
        elif _hard_wrapped(lines):
            if _LABEL.match(lines[0]):
                units.append(_Unit(lines[0], True))
                lines = lines[1:]
            units.append(_Unit(" ".join(lines), len(lines) == 1))
        else:
            units.extend(_Unit(line, True) for line in lines)
    return units


def _hard_wrapped(lines: list[str]) -> bool:
    """True for prose wrapped at a fixed width: no line is long, and every line but the last
    fills at least half the width (a short line inside a block ends something)."""
    width = max(len(line) for line in lines)
    return width <= _WRAP_WIDTH and all(len(line) >= width / 2 for line in lines[:-1])


def _is_heading(units: list[_Unit], i: int, *, label: bool = True) -> bool:
    """Decide from the unit and its neighbours whether it is a heading."""
    unit = units[i]
    text = unit.text
    if not unit.single_line or len(text) > _MAX_HEADING_CHARS:
        return False
    if label and (_LABEL.match(text) or _LABEL_WITH_TITLE.match(text)):
        return True
    if i + 1 >= len(units):
        return False  # a closing line (a signature, a sign-off) is not a heading
    words = text.split()
    if len(words) > _MAX_HEADING_WORDS or text[-1] in _NON_FINAL or text[0] in _NON_INITIAL:
        return False
    if not (text[0].isupper() or text[0].isdigit()):
        return False
    if re.search(r"[.!?]\s", text):
        return False  # two sentences on one line
    if text.isupper():
        return True
    long_words = [w for w in words if sum(c.isalpha() for c in w) >= 4]
    if not long_words:
        return len(words) <= 3 and all(w[0].isupper() for w in words if w[0].isalpha())
    capitalised = sum(1 for w in long_words if w.lstrip("\"'“‘(")[:1].isupper())
    return capitalised / len(long_words) >= 0.7
