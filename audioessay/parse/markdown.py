"""Markdown through a CommonMark parser (markdown-it-py), turned into words a voice can say.

Emphasis is dropped, links are read as their text and images as their alt text, lists and
block quotes are read as paragraphs, code blocks are replaced by a short spoken note, tables
are read row by row, and footnotes are gathered into a final "Notes" section.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import yaml
from markdown_it import MarkdownIt
from markdown_it.token import Token
from mdit_py_plugins.footnote import footnote_plugin
from mdit_py_plugins.front_matter import front_matter_plugin

from ..errors import ParseError
from ..model import written_words
from ._build import RawSection

# Inline HTML tags that only format text: their tags are dropped, their text is read. Any
# other tag (<speak>, <foo>) is not markup we know, so it is read out as the text it is.
_FORMATTING_TAGS = frozenset(
    [
        "a",
        "abbr",
        "b",
        "bdi",
        "bdo",
        "big",
        "br",
        "cite",
        "code",
        "del",
        "dfn",
        "em",
        "font",
        "i",
        "ins",
        "kbd",
        "mark",
        "q",
        "s",
        "samp",
        "small",
        "span",
        "strong",
        "sub",
        "sup",
        "time",
        "tt",
        "u",
        "var",
        "wbr",
    ]
)
_TAG = re.compile(r"</?([A-Za-z][A-Za-z0-9-]*)\b[^>]*/?>")
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)


_MAX_NESTING = 400
"""markdown-it's own limit is 20: a list ten deep, or a block quote twenty deep, made it skip
the rest of the document without a word. 400 stays well inside Python's recursion limit."""
_MAX_QUOTE_DEPTH = 100
_MAX_INDENT = 200
"""Deeper block quotes and indents are flattened to these before parsing, so nesting beyond
the parser's limit is read as the deepest level it can hold instead of being lost."""
_QUOTE_MARKERS = re.compile(rf"^((?: {{0,3}}> ?){{{_MAX_QUOTE_DEPTH}}})(?: {{0,3}}> ?)+")
_CONTAINERS = frozenset(
    ["bullet_list_open", "ordered_list_open", "list_item_open", "blockquote_open"]
)
_REFERENCE = re.compile(r"^ {0,3}\[[^\]]+\]:\s*\S")
"""A link reference definition: markup, with no token of its own and nothing to say."""


def _parser() -> MarkdownIt:
    return (
        MarkdownIt("commonmark", {"maxNesting": _MAX_NESTING})
        .enable("table")
        .use(front_matter_plugin)
        .use(footnote_plugin)
    )


def parse_markdown(text: str) -> tuple[dict[str, Any], list[RawSection], str | None, list[str]]:
    """Return (front matter, sections, sole leading H1 title or None, written words).

    The written words are every word the reader met in the text, plus the words of any line
    the parser produced no token for: the coverage check holds the script to them.
    """
    text = _flatten(text)
    tokens = _parser().parse(text)
    written = _uncovered_words(text, tokens)
    front: dict[str, Any] = {}
    if tokens and tokens[0].type == "front_matter":
        front = _front_matter(tokens[0].content)
        tokens = tokens[1:]
    h1_count = sum(1 for t in tokens if t.type == "heading_open" and t.tag == "h1")
    leading_h1 = (
        h1_count == 1
        and bool(tokens)
        and tokens[0].type == "heading_open"
        and (tokens[0].tag == "h1")
    )
    written.extend(_written_words(tokens))
    reader = _Reader()
    reader.read(tokens)
    title = reader.sections[1].title if leading_h1 else None
    return front, reader.sections, title, written


def merge_title_heading(sections: list[RawSection]) -> list[RawSection]:
    """The sections once a sole leading H1 has become the essay's title: its text joins the
    opening (which the title announces) instead of being a chapter of its own."""
    opening, heading, *rest = sections
    return [RawSection(None, 1, [*opening.paragraphs, *heading.paragraphs]), *rest]


def _written_words(tokens: Sequence[Token]) -> list[str]:
    """Every word of the parsed text, gathered apart from the reader so as to check it."""
    words: list[str] = []
    for token in tokens:
        if token.type == "inline":
            words.extend(written_words(_inline_text(token)))
        elif token.type == "html_block":
            words.extend(written_words(_html_text(token.content)))
    return words


def _flatten(text: str) -> str:
    """Cap block-quote depth and indentation where they exceed what the parser can nest."""
    lines = text.split("\n")
    for n, line in enumerate(lines):
        if line.startswith((" " * _MAX_INDENT, "\t")) or ">" * 8 in line.replace(" ", ""):
            line = _QUOTE_MARKERS.sub(r"\1", line)
            indent = len(line.expandtabs(4)) - len(line.expandtabs(4).lstrip(" "))
            if indent > _MAX_INDENT:
                line = " " * _MAX_INDENT + line.expandtabs(4).lstrip(" ")
            lines[n] = line
    return "\n".join(lines)


def _uncovered_words(text: str, tokens: Sequence[Token]) -> list[str]:
    """Words on lines that no leaf block claims: text the parser skipped (or markup)."""
    covered = bytearray(text.count("\n") + 1)
    for token in tokens:
        if token.map is not None and token.type not in _CONTAINERS:
            start, end = token.map
            covered[start:end] = b"\x01" * (end - start)
    words: list[str] = []
    for number, line in enumerate(text.split("\n")):
        if not covered[number] and not _REFERENCE.match(line.lstrip("> ")):
            words.extend(written_words(line))
    return words


class _FrontMatterLoader(yaml.SafeLoader):
    """YAML as front matter needs it, safe against hostile files.

    Aliases are refused: a few lines of nested aliases expand to gigabytes (a "billion laughs"),
    and no essay needs them. Timestamps stay text, so a date such as 2026-02-30 is reported by
    the key that holds it; integers too long for Python stay text as well.
    """

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event: Any = self.peek_event()  # type: ignore[no-untyped-call]
            raise ParseError(
                f"the front matter uses a YAML alias (*{event.anchor}) on line "
                f"{event.start_mark.line + 2}; write the value out instead"
            )
        return super().compose_node(parent, index)

    def construct_yaml_int(self, node: Any) -> Any:
        try:
            return super().construct_yaml_int(node)
        except ValueError:  # more digits than int() accepts
            return self.construct_scalar(node)


def _as_text(loader: Any, node: Any) -> Any:
    return loader.construct_scalar(node)


def _as_int(loader: Any, node: Any) -> Any:
    return loader.construct_yaml_int(node)


_FrontMatterLoader.add_constructor("tag:yaml.org,2002:timestamp", _as_text)
_FrontMatterLoader.add_constructor("tag:yaml.org,2002:int", _as_int)


def _front_matter(content: str) -> dict[str, Any]:
    try:
        data = yaml.load(content, Loader=_FrontMatterLoader)  # a SafeLoader: no objects
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 2})" if mark is not None else ""
        raise ParseError(f"the front matter is not valid YAML{where}") from exc
    except ParseError:
        raise
    except (ValueError, OverflowError, RecursionError) as exc:
        raise ParseError(f"the front matter has a value that cannot be read: {exc}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ParseError("the front matter must be a set of `key: value` lines")
    return {str(k).lower(): v for k, v in data.items()}


class _Reader:
    """Walks the flat token stream once, filling sections with speakable paragraphs."""

    def __init__(self) -> None:
        self.sections: list[RawSection] = [RawSection(None, 1)]
        self.notes: list[str] = []
        self._list_counters: list[int | None] = []

    def read(self, tokens: Sequence[Token]) -> None:
        i = 0
        while i < len(tokens):
            i = self._block(tokens, i)
        if self.notes:
            section = RawSection("Notes", 1)
            section.paragraphs.extend(
                f"Note {n}. {note}" for n, note in enumerate(self.notes, start=1)
            )
            self.sections.append(section)

    def _add(self, text: str) -> None:
        text = " ".join(text.split())
        if text:
            self.sections[-1].paragraphs.append(text)

    def _block(self, tokens: Sequence[Token], i: int) -> int:
        """Consume the block starting at ``tokens[i]``; return the index after it."""
        token = tokens[i]
        kind = token.type
        if kind == "heading_open":
            title = " ".join(_inline_text(tokens[i + 1]).split())
            self.sections.append(RawSection(title, int(token.tag[1])))
            return i + 3
        if kind == "paragraph_open":
            text = _inline_text(tokens[i + 1])
            if self._list_counters:
                text = self._list_item_text(text)
            self._add(text)
            return i + 3
        if kind == "bullet_list_open":
            self._list_counters.append(None)
        elif kind == "ordered_list_open":
            self._list_counters.append(int(token.attrs.get("start", 1) or 1))
        elif kind in ("bullet_list_close", "ordered_list_close"):
            self._list_counters.pop()
        elif kind in ("fence", "code_block"):
            self._add(_code_note(token.info.strip().split(" ")[0] if token.info else ""))
        elif kind == "html_block":
            self._add(_html_text(token.content))
        elif kind == "table_open":
            return self._table(tokens, i)
        elif kind == "footnote_block_open":
            return self._footnotes(tokens, i)
        return i + 1

    def _list_item_text(self, text: str) -> str:
        """Give list items an ending so the voice pauses, and read ordered items' numbers."""
        text = text.strip()
        if text and text[-1] not in ".!?…:;":
            text += "."
        counter = self._list_counters[-1]
        if counter is not None:
            self._list_counters[-1] = counter + 1
            text = f"{counter}, {text}"
        return text

    def _table(self, tokens: Sequence[Token], i: int) -> int:
        """Read a table row by row, naming each cell by its column header."""
        headers: list[str] = []
        rows: list[list[str]] = []
        in_head = False
        while tokens[i].type != "table_close":
            token = tokens[i]
            if token.type == "thead_open":
                in_head = True
            elif token.type == "thead_close":
                in_head = False
            elif token.type == "tr_open" and not in_head:
                rows.append([])
            elif token.type == "inline":
                cell = " ".join(_inline_text(token).split())
                (headers if in_head else rows[-1]).append(cell)
            i += 1
        columns = [h for h in headers if h]
        if columns:
            self._add(f"A table with columns {', '.join(columns)}.")
        for row in rows:
            cells = [
                f"{headers[n]}: {cell}" if n < len(headers) and headers[n] else cell
                for n, cell in enumerate(row)
                if cell
            ]
            if cells:
                self._add("; ".join(cells) + ".")
        return i + 1

    def _footnotes(self, tokens: Sequence[Token], i: int) -> int:
        """Collect footnote texts for the closing Notes section (not read inline)."""
        parts: list[str] = []
        while tokens[i].type != "footnote_block_close":
            token = tokens[i]
            if token.type == "footnote_open":
                parts = []
            elif token.type == "inline":
                parts.append(_inline_text(token))
            elif token.type == "footnote_close":
                self.notes.append(" ".join(" ".join(parts).split()))
            i += 1
        return i + 1


def _inline_text(token: Token) -> str:
    """The words of an inline token: markup dropped, links as text, images as alt text."""
    out: list[str] = []
    for child in token.children or []:
        kind = child.type
        if kind in ("text", "code_inline"):
            out.append(child.content)
        elif kind in ("softbreak", "hardbreak"):
            out.append(" ")
        elif kind == "image":
            out.append(child.content)
        elif kind == "html_inline":
            out.append(_html_text(child.content))
    return "".join(out)


def _html_text(html: str) -> str:
    """Drop comments and formatting tags; keep unknown tags as literal text."""
    html = _COMMENT.sub("", html)
    return _TAG.sub(lambda m: "" if m.group(1).lower() in _FORMATTING_TAGS else m.group(0), html)


def _code_note(language: str) -> str:
    """The short sentence spoken where a code block is skipped."""
    lang = re.sub(r"[^\w+#-]", "", language)
    return f"A {lang} code example is skipped here." if lang else "A code example is skipped here."
