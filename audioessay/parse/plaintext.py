"""Plain text: a book's or an essay's structure recognised from its layout alone.

Two layouts are common. Hard-wrapped text (Project Gutenberg) separates paragraphs with blank
lines and wraps lines near 70 characters; web-copied text (the reference essay) puts each
paragraph on one long line, often with no blank lines at all. The text is cut into units (a
paragraph, or one short line), and each unit is judged by what it is and what surrounds it.

A unit is a heading when it has one of these forms, stands alone, is not indented, and is
followed by the text it heads:

- a label: ``CHAPTER I.``, ``Chapter 1``, ``BOOK II``, ``PART III``, ``LECTURE IV``,
  ``ESSAY V``, ``LETTER XII``, ``No. 12.``, a series and number (``THE SPECTATOR No. 10``), or
  a Roman numeral alone; a title line right after a label joins it;
- a Roman numeral with its title on one line (``III THE ORIGIN OF SONG``, ``II. On Walking``,
  ``IV.—TRUTH OF INTERCOURSE``);
- a line in capitals, with or without a final full stop; consecutive lines in capitals that
  lead into the text are one heading (``TO`` / ``M. TALLEYRAND PERIGORD,`` / ``LATE BISHOP``);
- a short title-case line with no final punctuation.

A unit is never a heading when it is indented (verse, epigraphs, contents entries), continues
the sentence before it or follows text that introduces it (``…by Mr. Cotton.--``), follows
verse (an epigraph's attribution), is a byline (``by …``) or a date, or is followed by another
heading or by nothing: signatures, valedictions and datelines close what they end.

Around the body:

- the title page (short lines before the first heading, with no paragraph of prose) is left
  out, as is a line repeating the book's title (a half-title);
- a contents table (``CONTENTS``, ``Table of Contents``, or a list whose entries name the
  headings that follow) is left out with one spoken sentence, as is an index; sections before
  the contents other than a preface, introduction, foreword or dedication (an e-text
  producer's "Source" or "The Author") are left out too;
- after ``THE END`` or ``FINIS`` only notes are read; a transcriber's notes are left out;
- ``[Footnote 1: …]``, ``[1] …`` and ``¹ …`` notes are read at the end, under "Notes";
  ``[Illustration: …]`` is read as "Illustration: …"; a line of nothing but symbols
  (``* * *``) is a pause.

A numbered series of headings right under a heading with no text of its own is that heading's
parts, one level down (``“VIRGINIBUS PUERISQUE”`` / ``I.`` / ``II.``); ``PART`` and ``BOOK``
are a level above their chapters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Protocol

from ..model import Omission
from ._build import RawSection, SubHeading
from .sentences import split_sentences

_WRAP_WIDTH = 90
"""Hard-wrapped prose has no line longer than this."""
_MAX_HEADING_CHARS = 160
_MAX_HEADING_WORDS = 24
_INDENT = 2
"""Lines indented this much or more are verse, epigraphs or entries, never headings."""
_PROSE_WORDS = 40
"""A paragraph this long is prose: a title page has none."""

_ROMAN = r"(?=[IVXLC])C{0,3}(?:XC|XL|L?X{0,3})(?:IX|IV|V?I{0,3})"
_LABEL_WORDS = "chapter|book|part|lecture|essay|letter|section|canto|act|scene|volume|appendix"
_LABEL = re.compile(
    rf"^(?:(?:{_LABEL_WORDS})\s+(?:{_ROMAN}|\d+|[a-z]+)\b|no\.\s*\d+|[A-Z][A-Za-z ]+\sNo\.\s*\d+)"
    r"(?P<rest>.*)$",
    re.IGNORECASE,
)
_PART_LABEL = re.compile(r"^(?:part|book|volume)\b", re.IGNORECASE)
_NUMERAL = re.compile(rf"^(?![LCDM]\.?$)(?:{_ROMAN})\.?$")
"""A Roman numeral alone; a lone L, C, D or M is an initial or an index letter, not a number."""
_INITIALS = re.compile(r"^(?:[A-Z]{1,2}\.\s?){1,4}$")
"""A line of initials ("H. M.", "E.V.L.", "C."): a signature."""
_NUMERAL_TITLE = re.compile(rf"^(?:{_ROMAN})(?P<sep>\.\s*[—–-]*\s*|\.?\s*[—–]\s*|\s+)(?P<rest>\S.*)$")
_KEYWORDS = re.compile(
    r"^(?:preface|introduction|introductory|foreword|prologue|epilogue|afterword|dedication|"
    r"acknowledgements?|appendix|contents|table of contents|index|notes|footnotes|endnotes|"
    r"list of illustrations|illustrations|transcriber'?s'? notes?)\.?$",
    re.IGNORECASE,
)
_FRONT_KEYWORDS = re.compile(r"^(?:preface|introduction|introductory|foreword|dedication)\b", re.IGNORECASE)
_CONTENTS = re.compile(r"^(?:contents|table of contents|list of illustrations|illustrations)\.?$", re.IGNORECASE)
_INDEX = re.compile(r"^index\.?$", re.IGNORECASE)
_NOTES_HEADING = re.compile(r"^(?:foot|end)?notes[.:]?$", re.IGNORECASE)
_TRANSCRIBER = re.compile(r"^transcriber'?s'? notes?\.?$", re.IGNORECASE)
_THE_END = re.compile(r"^(?:the\s+end|f\s*i\s*n\s*i\s*s)\.?$", re.IGNORECASE)
_BYLINE = re.compile(r"^(?:by|edited by|translated by)\b", re.IGNORECASE)
_DATE = re.compile(
    r"^(?:\d{4}|[\w., ]*\b(?:1[0-9]|20)\d\d\.?|\d{1,2} \w+,? \d{4}\.?)$"
)
_FOOTNOTE = re.compile(r"^\[(?:Footnote|Note)\s*\w*:", re.IGNORECASE)
_NOTE = re.compile(r"^\s*(?:\[\d+\]|[⁰¹²³⁴⁵⁶⁷⁸⁹]+)\s*\S")
_ILLUSTRATION = re.compile(r"^\[Illustration(?::\s*(?P<caption>.*?))?\]$", re.IGNORECASE | re.DOTALL)
_MARKERS = re.compile(r"\s*\[\d+\]|\{\d+\}")
_SALUTATION = re.compile(r"^[A-Z][\w .']{0,40}[,:](?:--|—)?$")
_PAGE_NUMBER = re.compile(r"(?:\s\.?\s?|\.{2,}\s*|\s{2,})(?:\d+|[ivxlc]+)(?:\s+\d+)*\s*$")
_NON_FINAL = ",;:—–-"
_OPENS_QUOTE = "\"'“‘«([—–-*•>"
CONTENTS_NOTE = "The table of contents is left out."
INDEX_NOTE = "The index is left out."


@dataclass
class _Unit:
    """A candidate paragraph: one line, or a whole hard-wrapped block."""

    text: str
    single_line: bool
    indent: int
    lines: int = 1
    heading: str | None = None
    """Why the unit is a heading (its form), or None."""
    title: str | None = None
    """The heading's title, with a joined title line."""
    level: int = 1


@dataclass
class PlainText:
    """What the reader found: sections, what it left out, and why it decided as it did."""

    sections: list[RawSection]
    omitted: list[Omission] = field(default_factory=list)
    decisions: list[tuple[str, str]] = field(default_factory=list)
    """(line, reason) for every heading and every near miss, for ``chapters --explain``."""
    notes: list[str] = field(default_factory=list)
    """Footnotes, read last under a spoken "Notes"."""


class HeadingMatcher(Protocol):
    """The user's heading pattern (:class:`audioessay.parse.HeadingPattern`)."""

    def matches(self, line: str) -> bool: ...


def parse_plain_text(
    text: str, book_title: str | None = None, headings: HeadingMatcher | None = None
) -> PlainText:
    """Split plain text into sections; text before the first heading has no title.

    ``headings``, the user's pattern, replaces the rules: the lines it matches are the
    headings, and no other line is.
    """
    result = PlainText([])
    units = _units(text)
    units = _set_aside_notes(units, result)
    if headings is not None:
        for unit in units:
            if unit.single_line and headings.matches(unit.text):
                unit.heading = "your pattern"
                result.decisions.append((unit.text, "heading: matches the headings pattern"))
    else:
        _mark_headings(units, result)
        _close_contents(units, result)
    _join_titles(units)
    units = _drop_title_page(units, result, book_title)
    _drop_half_titles(units, result, book_title)
    _set_levels(units)
    sections = _sections(units, result)
    result.sections = _back_matter(_front_matter(sections, result), result)
    _read_notes_last(result)
    return result


# -- units ---------------------------------------------------------------------------------


def _units(text: str) -> list[_Unit]:
    """Cut the text into candidate paragraphs, joining hard-wrapped lines."""
    units: list[_Unit] = []
    for block in re.split(r"\n[ \t]*\n", text):
        raw = [line.rstrip() for line in block.split("\n") if line.strip()]
        if not raw:
            continue
        lines = [line.strip() for line in raw]
        indents = [len(line) - len(line.lstrip()) for line in raw]
        if len(lines) == 1:
            units.append(_Unit(lines[0], True, indents[0]))
        elif len(lines) <= 3 and max(indents) < _INDENT and all(_caps(line) for line in lines):
            units.append(_Unit(" ".join(lines), True, indents[0], len(lines)))  # a wrapped heading
        elif _hard_wrapped(lines) and min(indents) < _INDENT:
            first = 0
            label = _LABEL.match(lines[0])
            if (label and not label["rest"].strip(" .:")) or _NUMERAL.match(lines[0]):
                units.append(_Unit(lines[0], True, indents[0]))
                first = 1
            rest = lines[first:]
            units.append(_Unit(" ".join(rest), len(rest) == 1, min(indents[first:]), len(rest)))
        else:
            units.extend(_Unit(line, True, indent) for line, indent in zip(lines, indents, strict=True))
    return [u for u in units if u.text]


def _hard_wrapped(lines: list[str]) -> bool:
    """True for prose wrapped at a fixed width: no line is long, and every line but the last
    fills at least half the width (a short line inside a block ends something)."""
    width = max(len(line) for line in lines)
    return width <= _WRAP_WIDTH and all(len(line) >= width / 2 for line in lines[:-1])


def _set_aside_notes(units: list[_Unit], result: PlainText) -> list[_Unit]:
    """Footnote blocks are taken out of the flow (to be read last); illustrations become
    their captions; lines of nothing but symbols become nothing (a pause)."""
    kept: list[_Unit] = []
    notes: list[str] = []
    for unit in units:
        if _FOOTNOTE.match(unit.text):
            notes.append(unit.text.strip("[]"))
            continue
        illustration = _ILLUSTRATION.match(unit.text)
        if illustration:
            caption = (illustration["caption"] or "").strip()
            if caption:
                unit.text = f"Illustration: {caption}"
            else:
                result.omitted.append(Omission("illustration", "no caption", unit.text))
                continue
        marks = {c for c in unit.text if not c.isspace()}
        if not any(c.isalnum() for c in unit.text) and len(marks) <= 2:
            continue  # "* * *", "-----": a section break, heard as a pause
        kind = _non_prose(unit.text)
        if kind is not None:
            result.omitted.append(Omission(kind, "not prose", unit.text))
            note = f"A {kind} is left out."
            if not (kept and kept[-1].text == note):  # one sentence for a whole run
                kept.append(_Unit(note, True, 0))
            continue
        kept.append(unit)
    result.notes.extend(notes)
    return kept


_BARRED = re.compile(r"[\[(]?\s*(?:\S{1,2}\s+){2,}(?:[|‖¦]\s*(?:\S{1,2}\s+)+){2,}[|‖¦]?\s*\S{0,2}\s*[\])]?")
"""Bars of one- and two-character tokens between bar lines, three bars or more, with no
word among them: rhythm or chord notation ("[4 8 4 | 4 8 8 8 | 8 4 8 8]", "C G | Am F |
C G | F"). Read aloud it is a run of numbers or letters that means nothing to a listener."""


def _non_prose(text: str) -> str | None:
    """What a block that is no prose is ("line of musical notation", "table of figures"),
    or None. Notation is mostly marks and bars; a table of figures is mostly numbers set in
    columns. Either is announced in one sentence, never spelled out."""
    visible = [c for c in text if not c.isspace()]
    if len(visible) < 6 and any(c.isalnum() for c in visible):
        return None
    letters = sum(c.isalpha() for c in visible)
    digits = sum(c.isdigit() for c in visible)
    if letters + digits < 0.4 * len(visible):
        return "passage of notation"
    if _BARRED.fullmatch(text.strip()):
        return "passage of notation"
    numbers = re.findall(r"\d[\d,.]*", text)
    if len(numbers) >= 3 and digits > letters and re.search(r"\S\s{2,}\S", text):
        return "table of figures"
    return None


# -- headings ------------------------------------------------------------------------------


_ADDRESS = re.compile(r"^To (?:the|my|all|our) (?:Right |Most )?[A-Z][a-z]")
"""An open letter's or dedication's address: "To the Representatives of the …"."""


def _form(unit: _Unit) -> str | None:
    """The heading form a unit has on its own, or None."""
    text = _MARKERS.sub("", unit.text).strip()
    address = not unit.single_line and unit.indent < _INDENT and _ADDRESS.match(text) is not None
    if address and len(text.split()) <= 120 and len(split_sentences(text)) == 1:
        return "address"  # a one-sentence paragraph naming whom a letter is to
    if not unit.single_line or unit.indent >= _INDENT or len(text) > _MAX_HEADING_CHARS:
        return None
    if len(text.split()) > _MAX_HEADING_WORDS:
        return None
    if _INITIALS.match(text) and not _NUMERAL.match(text):
        return None
    if _LABEL.match(text):
        return "label"
    if _THE_END.match(text) or re.search(r"\S\s{3,}\S", text):
        return None  # the end of the book; a row of a table set in columns
    if _NUMERAL.match(text):
        return "numeral"
    if _KEYWORDS.match(text):
        return "keyword"
    match = _NUMERAL_TITLE.match(text)
    if match:
        # After "III." or "IV.—" any title; after a bare space ("III THE ORIGIN OF SONG") only
        # a title in capitals or title case, or "I found myself" would be lecture one.
        strict = not match["sep"].strip()
        rest = match["rest"]
        if (_caps(rest) or _title_like(rest)) if strict else _title_like(rest, numbered=True):
            return "numeral and title"
    if _BYLINE.match(text) or _DATE.match(text):
        return None
    if _caps(text):
        return "capitals"
    if _title_like(text):
        return "title case"
    return None


def _caps(text: str) -> bool:
    text = re.sub(r"\s*\([^()]*\)\.?$", "", text)  # "OPERA (Continued)"
    letters = [c for c in text if c.isalpha()]
    return len(letters) >= 2 and all(c.isupper() for c in letters) and text[0] not in _OPENS_QUOTE[5:]


def _title_like(text: str, numbered: bool = False) -> bool:
    """A short line in title case (or any short line after a numeral) with no final comma."""
    if not text or text[-1] in _NON_FINAL or text[0] in _OPENS_QUOTE[6:]:
        return False
    if not numbered and len(split_sentences(text)) > 1:
        return False  # two sentences on one line ("Mr. Booker T. Washington" is one)
    if numbered or _caps(text):
        return True
    if text[-1] in ".!?…\"'”’»)]}":
        return False
    if not (text[0].isupper() or text[0].isdigit() or text[0] in "\"“‘'"):
        return False
    words = text.split()
    long_words = [w for w in words if sum(c.isalpha() for c in w) >= 4]
    if not long_words:
        return len(words) <= 3 and all(w[0].isupper() for w in words if w[0].isalpha())
    capitalised = sum(1 for w in long_words if w.lstrip("\"'“‘(")[:1].isupper())
    return capitalised / len(long_words) >= 0.7


def _is_body(unit: _Unit) -> bool:
    """Text a heading can head: not indented, not itself heading-like, not a byline."""
    return (
        unit.heading is None
        and (not unit.single_line or unit.indent < _INDENT)
        and _form(unit) is None
        and not _BYLINE.match(unit.text)
    )


def _is_prose(unit: _Unit) -> bool:
    """A paragraph: several wrapped lines, or one long line, not set in capitals."""
    letters = [c for c in unit.text if c.isalpha()]
    if letters and sum(c.isupper() for c in letters) > 0.8 * len(letters):
        return False
    return not unit.single_line or len(unit.text.split()) >= 8


def _mark_headings(units: list[_Unit], result: PlainText) -> None:
    """Decide which units are headings, from their form and their neighbours."""
    for i, unit in enumerate(units):
        form = _form(unit)
        if form is None:
            continue
        reason = _refusal(units, i, form)
        if reason is None:
            unit.heading = form
            result.decisions.append((unit.text, f"heading: {form}"))
        else:
            result.decisions.append((unit.text, f"not a heading: {reason}"))


def _is_paragraph(unit: _Unit, words: int = 25) -> bool:
    """Running prose for certain: 25 words or more, not in capitals, not an entry ending in
    a page number, not indented."""
    return (
        len(unit.text.split()) >= words
        and _is_prose(unit)
        and unit.indent < _INDENT
        and not _PAGE_NUMBER.search(unit.text)
        and _form(unit) is None
    )


def _close_contents(units: list[_Unit], result: PlainText) -> None:
    """A contents table runs from its heading to the first paragraph of prose: its entries
    are no headings, however much they look like them. The last heading-like line before
    that prose is the first real heading."""
    for i, unit in enumerate(units):
        if unit.heading != "keyword" or not _CONTENTS.match(unit.text):
            continue
        end = next((j for j in range(i + 1, len(units)) if _is_paragraph(units[j])), len(units))
        first = next((j for j in range(end - 1, i, -1) if _form(units[j]) is not None and units[j].indent < _INDENT), None)
        if first is not None and _form(units[first - 1]) in ("label", "numeral") and first - 1 > i:
            first -= 1  # "CHAPTER I." over its title line
        for j in range(i + 1, end):
            if j == first:
                units[j].heading = _form(units[j])
            elif units[j].heading:
                units[j].heading = None
                result.decisions.append((units[j].text, "not a heading: an entry of the contents"))


def _refusal(units: list[_Unit], i: int, form: str) -> str | None:
    """Why the unit at ``i`` is not a heading although it looks like one, or None."""
    before = units[i - 1] if i else None
    if before is not None and before.text.strip().lower() == "by":
        return "it is the author's name under a byline"
    ends = ".!?…\"'”’»)]}:"
    continues = before is not None and not before.single_line and before.text[-1:] not in ends
    if before is not None and continues and form not in ("keyword", "label") and not before.text.endswith(("--", "—")):
        return "it continues the sentence before it"
    if before is not None and (before.text.endswith((":", "--", "—", ":--"))) and form not in ("label", "keyword"):
        return "the text before it introduces it (a title of a quoted piece)"
    if before is not None and before.indent >= _INDENT and before.single_line and form == "capitals" and units[i].text.endswith("."):
        return "it follows verse: an attribution"
    if form == "keyword" and (_CONTENTS.match(units[i].text) or _INDEX.match(units[i].text) or _NOTES_HEADING.match(units[i].text)):
        return None  # a contents table, an index or notes: entries, not prose, follow
    nxt = _next_body(units, i, form)
    if nxt is None:
        return "nothing follows it but another heading: a closing line, signature or title"
    return None


def _next_body(units: list[_Unit], i: int, form: str) -> int | None:
    """The index of the text the unit at ``i`` heads, or None if it heads nothing.

    A title line after a label, an epigraph (indented lines and their attribution), a
    salutation ("Sir,") and more capitals lines of the same heading are passed over.
    """
    j = i + 1
    if form in ("label", "numeral") and j < len(units) and _form(units[j]) in ("capitals", "title case", "keyword", "numeral and title"):
        j += 1  # "CHAPTER I." / "THE TITLE"
    while j < len(units):
        unit = units[j]
        if unit.indent >= _INDENT and unit.single_line:
            j += 1  # an epigraph, or verse
            continue
        if unit.single_line and _BYLINE.match(unit.text) and j == i + 1:
            j += 1  # "by Henry David Thoreau", right under its title
            continue
        if j == i + 1 and form not in ("numeral", "numeral and title") and _form(unit) in ("numeral", "numeral and title"):
            return j  # a title over numbered parts: "“VIRGINIBUS PUERISQUE”" / "I."
        if j > i + 1 and units[j - 1].indent >= _INDENT and _form(unit) == "capitals" and unit.text.endswith("."):
            j += 1  # the epigraph's attribution
            continue
        if unit.single_line and _SALUTATION.match(unit.text) and len(unit.text.split()) <= 5:
            j += 1  # "My Lord,", "Sir:--"
            continue
        if form == "capitals" and _form(unit) == "capitals" and not _LABEL.match(unit.text) and j - i <= 3:
            j += 1  # a heading in capitals set over up to four lines
            continue
        if not _is_body(unit):
            return None
        # A label or a numeral heads any text; a line in capitals or title case, which prose
        # and title pages have plenty of, must head prose or a short line leading into it.
        if form in _STRONG or _is_prose(unit):
            return j
        following = units[j + 1] if j + 1 < len(units) else None
        return j if following is not None and _is_body(following) and _is_prose(following) else None
    return None


_STRONG = frozenset(["label", "numeral", "numeral and title", "keyword", "address"])


def _join_titles(units: list[_Unit]) -> None:
    """Give each heading its title: a label joins the title line under it, and consecutive
    lines in capitals that lead into the text are one heading."""
    i = 0
    while i < len(units):
        unit = units[i]
        if unit.heading is None:
            i += 1
            continue
        title = unit.text
        j = i + 1
        joinable = ("capitals", "title case", "keyword", "numeral and title")
        if unit.heading in ("label", "numeral") and j < len(units) and _form(units[j]) in joinable:
            title = f"{title} {units[j].text}"
            units[j].heading, units[j].text = None, ""
            j += 1
        elif unit.heading == "capitals":
            while j < len(units) and units[j].heading == "capitals" and not _LABEL.match(units[j].text):
                title = f"{title} {units[j].text}"
                units[j].heading, units[j].text = None, ""
                j += 1
        unit.title = " ".join(title.split())
        i = j


def _drop_title_page(units: list[_Unit], result: PlainText, book_title: str | None) -> list[_Unit]:
    """Short lines before the first heading, with no prose among them: the title page."""
    if units and units[0].heading:
        # The text opens with its first heading: no title page, but a byline under it
        # ("by Henry David Thoreau") is the title's, not the text's.
        if len(units) > 1 and units[1].single_line and _BYLINE.match(units[1].text):
            result.omitted.append(Omission("byline", "the author, under the title", units[1].text))
            result.decisions.append((units[1].text, "left out: the byline under the title"))
            return [units[0], *units[2:]]
        return units
    first = next((n for n, u in enumerate(units) if u.heading and _heads_paragraph(units, n)), None)
    if first is None or first == 0:
        return units
    leading = [u for u in units[:first] if u.text]
    if any(len(u.text.split()) >= _PROSE_WORDS for u in leading):
        return units  # an untitled opening, read as written
    result.omitted.append(Omission("title page", "title, author and imprint", "\n".join(u.text for u in leading)))
    result.decisions += [(u.text, "left out: title page") for u in leading]
    return units[first:]


def _heads_paragraph(units: list[_Unit], n: int) -> bool:
    """Whether the heading at ``n`` has a real paragraph (40 words or more) before the next
    heading; a title over numbered parts heads what its first part heads."""
    for k in range(n + 1, len(units)):
        unit = units[k]
        if unit.heading and not (k == n + 1 and unit.heading in ("numeral", "numeral and title")):
            return False
        if _is_paragraph(unit, 40):
            return True
    return False


def _key(text: str) -> str:
    """A title for loose comparison: no leading article, case, spacing or punctuation."""
    text = re.sub(r"^(?:the|a|an)\s+", "", text.casefold().strip("\"'“”‘’ "))
    return re.sub(r"[\W_]+", "", text)


def _drop_half_titles(units: list[_Unit], result: PlainText, book_title: str | None) -> None:
    """A line that only repeats the book's title (a half-title) is no heading and not read."""
    if not book_title:
        return
    wanted = _key(book_title)
    for unit in units:
        key = _key(unit.title or unit.text) if unit.text else ""
        if key and len(key) > 6 and (key == wanted or wanted.startswith(key) or key.startswith(wanted)):
            if unit.heading is None and not unit.single_line:
                continue  # prose that happens to begin with the title
            result.omitted.append(Omission("half-title", "repeats the book's title", unit.title or unit.text))
            result.decisions.append((unit.text, "left out: repeats the book's title"))
            unit.text, unit.heading = "", None


def _set_levels(units: list[_Unit]) -> None:
    """Parts above chapters; a numbered series right under a heading with no text of its
    own is that heading's parts, one level down."""
    headings = [u for u in units if u.heading and u.text]
    has_parts = any(_PART_LABEL.match(u.text) for u in headings)
    for unit in headings:
        unit.level = 2 if has_parts and not _PART_LABEL.match(unit.text) else 1
    _sections_of_numbered_chapters(headings)
    parent: _Unit | None = None
    previous: _Unit | None = None
    body_since = True
    for unit in units:
        if not unit.text:
            continue
        if not unit.heading:
            body_since = True
            continue
        numbered = unit.heading in ("numeral", "numeral and title")
        if numbered and previous is not None and (parent is not None or not body_since):
            parent = parent or previous
            unit.level = parent.level + 1
        else:
            parent = None
        previous, body_since = unit, False


def _is_numbered(unit: _Unit) -> bool:
    if unit.heading in ("numeral", "numeral and title"):
        return True
    return unit.heading == "label" and not _PART_LABEL.match(unit.text)


def _sections_of_numbered_chapters(headings: list[_Unit]) -> None:
    """In a book whose chapters are numbered (lectures I to XXI), a heading without a number
    between two numbered ones is a section of the chapter above it: a summary, a list, a
    sub-heading. Front and back matter (PREFACE, APPENDIX) keep their own level."""
    numbered = [n for n, u in enumerate(headings) if _is_numbered(u)]
    plain = [u for u in headings if not _is_numbered(u) and u.heading not in ("keyword",)]
    if len(numbered) < 3 or len(numbered) < len(plain):
        return
    for unit in headings[numbered[0] : numbered[-1]]:
        if not _is_numbered(unit) and unit.heading != "keyword":
            unit.level = max(u.level for u in headings if _is_numbered(u)) + 1


# -- sections, front and back matter ---------------------------------------------------------


def _sections(units: list[_Unit], result: PlainText) -> list[RawSection]:
    sections = [RawSection(None, 1)]
    for unit in units:
        if not unit.text:
            continue
        if unit.heading:
            sections.append(RawSection(unit.title or unit.text, unit.level))
        else:
            sections[-1].paragraphs.append(unit.text)
    return sections


def _leave_out(section: RawSection, why: str, result: PlainText) -> None:
    text = "\n".join([section.title or "", *(p for p in section.paragraphs if isinstance(p, str))])
    result.omitted.append(Omission(section.title or "text", why, text))
    result.decisions.append((section.title or "", f"left out: {why}"))


def _is_contents(section: RawSection, later: list[RawSection]) -> bool:
    """A contents table: so titled, or a list of short entries naming the headings after it."""
    if section.title and _CONTENTS.match(section.title.strip()):
        return True
    entries = [p for p in section.paragraphs if isinstance(p, str)]
    if len(entries) < 3:
        return False
    titles = [_key(re.sub(rf"^(?:{_ROMAN}|\d+)[.\s]+", "", s.title or "")) for s in later if s.title]
    titles = [t for t in titles if t]

    def names_a_heading(entry: str) -> bool:
        entry = _key(re.sub(rf"^(?:{_ROMAN}|\d+)[.\s]+", "", _PAGE_NUMBER.sub("", entry)))
        return bool(entry) and any(t.startswith(entry[:12]) or entry.startswith(t[:12]) for t in titles)

    short = [e for e in entries if len(e.split()) <= 14]
    return len(short) >= 0.6 * len(entries) and sum(map(names_a_heading, short)) >= 0.5 * len(short)


def _front_matter(sections: list[RawSection], result: PlainText) -> list[RawSection]:
    """Leave out the contents table, and what an e-text's producers put before it."""
    index = next((n for n, s in enumerate(sections) if s.title and _is_contents(s, sections[n + 1 :])), None)
    if index is None:
        return sections
    kept: list[RawSection] = []
    for n, section in enumerate(sections):
        if n == index:
            _leave_out(section, "contents", result)
            note_to = kept[-1] if kept and kept[-1].title else None
            if note_to is not None:
                note_to.paragraphs.append(CONTENTS_NOTE)
            elif n + 1 < len(sections):
                sections[n + 1].paragraphs.insert(0, CONTENTS_NOTE)
        elif (n < index and section.title and not _is_front_section(section.title)) or (n < index and section.title is None and section.paragraphs):
            _leave_out(section, "notes before the book's contents", result)
        else:
            kept.append(section)
    return kept


def _is_front_section(title: str) -> bool:
    """A preface, introduction, foreword or dedication: part of the book, read as a chapter."""
    return bool(_FRONT_KEYWORDS.match(title)) or title.upper().startswith("TO ")


def _back_matter(sections: list[RawSection], result: PlainText) -> list[RawSection]:
    """Index and transcriber's notes left out; after THE END or FINIS only notes; a notes
    section read last, under "Notes"."""
    kept: list[RawSection] = []
    ended = False
    for section in sections:
        title = (section.title or "").strip()
        if title and _NOTES_HEADING.match(title):
            result.notes.extend(p for p in section.paragraphs if isinstance(p, str))
            result.omitted.append(Omission(title, "read as the spoken heading Notes", title))
            result.decisions.append((title, "read last, under Notes"))
            continue
        if ended or (title and (_INDEX.match(title) or _TRANSCRIBER.match(title))):
            _leave_out(section, "index" if _INDEX.match(title) else "back matter", result)
            if _INDEX.match(title):
                ended = True  # the index runs to the end: its letters are no chapters
                if kept:
                    kept[-1].paragraphs.append(INDEX_NOTE)
            continue
        end = next((n for n, p in enumerate(section.paragraphs) if isinstance(p, str) and _THE_END.match(p.strip())), None)
        if end is not None:
            tail = section.paragraphs[end:]
            del section.paragraphs[end:]
            result.omitted.append(Omission("the end", "end of the book", "\n".join(p for p in tail if isinstance(p, str))))
            ended = True
        kept.append(section)
    return kept


def _read_notes_last(result: PlainText) -> None:
    """Footnotes go to the end of the last chapter, under a spoken "Notes"; so do the
    "[1] …" and "¹ …" paragraphs that close the text."""
    last = result.sections[-1]
    count = 0
    while count < len(last.paragraphs) and _is_note(last.paragraphs[-1 - count]):
        count += 1
    if 0 < count < len(last.paragraphs):
        result.notes.extend(p for p in last.paragraphs[-count:] if isinstance(p, str))
        del last.paragraphs[-count:]
    if result.notes:
        top = min((s.level for s in result.sections if s.title is not None), default=1)
        last.paragraphs.append(SubHeading("Notes", top + 1))
        last.paragraphs.extend(result.notes)


def _is_note(paragraph: object) -> bool:
    return isinstance(paragraph, str) and _NOTE.match(paragraph) is not None
