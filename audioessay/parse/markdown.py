"""Markdown through a CommonMark parser (markdown-it-py), turned into words a voice can say.

Emphasis is dropped, links are read as their text and images as their alt text, lists and
block quotes are read as paragraphs, code blocks are replaced by a short spoken note, tables
are read row by row, and footnotes are gathered into a final "Notes" section.
"""

from __future__ import annotations

import html
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
from ._build import RawSection, SubHeading
from .html import inline_text, read_blocks, visible_text

_TEMPLATE = re.compile(
    r"\{\{<.*?>\}\}|\{\{%.*?%\}\}"          # Hugo shortcodes
    r"|\{%-?.*?-?%\}|\{\{-?.*?-?\}\}"          # Liquid and Jinja tags and output
    r"|\{::comment\}.*?\{:/comment\}|\{::\w+[^}]*/?\}|\{:/\w*\}"  # kramdown extensions
    r"|\{:\s*[^}]*\}",                           # kramdown attribute lists
    re.DOTALL,
)
"""Template and attribute markup that renders as nothing a reader sees: never read aloud."""
CONTENTS_NOTE = "A table of contents is left out."
LINKS_NOTE = "A list of links is left out."

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


def parse_markdown(
    text: str,
) -> tuple[dict[str, Any], list[RawSection], str | None, list[str], list[str]]:
    """Return (front matter, sections, sole leading H1 title or None, written words, omitted).

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
    return front, reader.sections, title, written, reader.omitted


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
            words.extend(written_words(_inline_text(token, visible=True)))
        elif token.type == "html_block":
            words.extend(written_words(visible_text(token.content)))
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
        self.omitted: list[str] = []
        """Text left out on purpose: template tags, in-page contents lists, navigation."""
        self._list_counters: list[int | None] = []

    def _clean(self, text: str) -> str:
        """``text`` without template tags (kept as omitted, for the coverage check)."""
        if "{" not in text:
            return text
        self.omitted.extend(m.group(0) for m in _TEMPLATE.finditer(text))
        return _TEMPLATE.sub(" ", text)

    def read(self, tokens: Sequence[Token]) -> None:
        i = 0
        while i < len(tokens):
            i = self._block(tokens, i)
        if self.notes:
            # Read at the end, under a spoken "Notes", as part of the last chapter: notes are
            # no chapter a listener skips to.
            last = self.sections[-1]
            top = min((s.level for s in self.sections if s.title is not None), default=1)
            last.paragraphs.append(SubHeading("Notes", top + 1))
            last.paragraphs.extend(
                f"Note {n}. {self._clean(note)}" for n, note in enumerate(self.notes, start=1)
            )

    def _add(self, text: str) -> None:
        text = " ".join(self._clean(text).split())
        if text:
            self.sections[-1].paragraphs.append(text)

    def _heading(self, title: str, level: int) -> None:
        self.sections.append(RawSection(" ".join(self._clean(title).split()), level))

    def _block(self, tokens: Sequence[Token], i: int) -> int:
        """Consume the block starting at ``tokens[i]``; return the index after it."""
        token = tokens[i]
        kind = token.type
        if kind == "heading_open":
            self._heading(_inline_text(tokens[i + 1]), int(token.tag[1]))
            return i + 3
        if kind == "paragraph_open":
            if _is_navigation(tokens[i + 1]):  # "[Back to the table of contents](#teams)"
                self.omitted.append(_inline_text(tokens[i + 1]))
                return i + 3
            text = _inline_text(tokens[i + 1])
            if self._list_counters:
                text = self._list_item_text(text)
            self._add(text)
            return i + 3
        if kind in ("bullet_list_open", "ordered_list_open") and not self._list_counters:
            end = _matching_close(tokens, i)
            current = self.sections[-1]
            alone = current.title is not None and not current.paragraphs and len(self.sections) > 1
            after = end
            while after < len(tokens) and tokens[after].type == "html_block" and not visible_text(tokens[after].content).strip():
                after += 1  # "<!-- /TOC -->": nothing a reader sees
            alone = alone and (after >= len(tokens) or tokens[after].type == "heading_open")
            contents = _is_link_list(tokens[i:end], anchors=True, least=3)
            if contents or (alone and _is_link_list(tokens[i:end], anchors=False, least=1)):
                # An in-page contents list, or a section that is only a list of links: the
                # listener navigates by chapters, and a list of link titles is no reading.
                self.omitted.extend(_inline_text(t) for t in tokens[i:end] if t.type == "inline")
                if alone:  # "## Teams", "## Additional reading": no chapter of their own
                    self.omitted.append(current.title or "")
                    self.sections.pop()
                self._add(CONTENTS_NOTE if contents else LINKS_NOTE)
                return end
        if kind == "bullet_list_open":
            self._list_counters.append(None)
        elif kind == "ordered_list_open":
            self._list_counters.append(int(token.attrs.get("start", 1) or 1))
        elif kind in ("bullet_list_close", "ordered_list_close"):
            self._list_counters.pop()
        elif kind in ("fence", "code_block"):
            self._add(_code_note(token.info.strip().split(" ")[0] if token.info else ""))
        elif kind == "html_block":
            self._html(token.content)
        elif kind == "table_open":
            return self._table(tokens, i)
        elif kind == "footnote_block_open":
            return self._footnotes(tokens, i)
        return i + 1

    def _list_item_text(self, text: str) -> str:
        """Give list items an ending so the voice pauses, and read ordered items' numbers."""
        counter = self._list_counters[-1]
        if counter is not None:
            self._list_counters[-1] = counter + 1
        return _item_text(text, counter)

    def _html(self, html: str) -> None:
        """A raw HTML block, read as its Markdown equivalent would be."""
        for block in read_blocks(html):
            if block.kind == "heading":
                self._heading(block.text, block.level)
            elif block.kind == "table":
                self._read_table(block.headers, block.rows)
            elif block.item is not None:
                self._add(_item_text(block.text, block.item or None))
            else:
                self._add(block.text)

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
        self._read_table(headers, rows)
        return i + 1

    def _read_table(self, headers: list[str], rows: list[list[str]]) -> None:
        """Say the columns, then each row with every cell named by its header."""
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


def _item_text(text: str, number: int | None) -> str:
    """A list item with an ending, so the voice pauses, and its number when it has one."""
    text = text.strip()
    if text and text[-1] not in ".!?…:;":
        text += "."
    return f"{number}, {text}" if number is not None else text


def _inline_text(token: Token, visible: bool = False) -> str:
    """The words of an inline token: markup dropped, links as text, images as alt text.

    Inline HTML goes through the HTML parser with the text around it, so ``<a href>…</a>``
    and ``<img alt>`` read as their text. ``visible`` gives what a browser shows instead
    (no alt text): the coverage check's reference.
    """
    children = token.children or []
    if not any(child.type == "html_inline" for child in children):
        return "".join(_plain(child) for child in children)
    fragment = "".join(
        child.content if child.type == "html_inline" else html.escape(_plain(child))
        for child in children
    )
    return visible_text(fragment) if visible else inline_text(fragment)


def _plain(child: Token) -> str:
    if child.type in ("text", "code_inline", "image"):
        return child.content
    return " " if child.type in ("softbreak", "hardbreak") else ""


def _matching_close(tokens: Sequence[Token], i: int) -> int:
    """The index after the token that closes the one at ``i``."""
    depth = 0
    for j in range(i, len(tokens)):
        depth += tokens[j].nesting
        if depth == 0:
            return j + 1
    return len(tokens)


def _links_only(token: Token, anchors: bool = True) -> bool:
    """Whether an inline token is nothing but links (to anchors on this page, with
    ``anchors``), allowing a short bracketed label after a link ("[Title](url) [GOV.UK]")."""
    children = [c for c in token.children or [] if not (c.type == "text" and not c.content.strip())]
    links = [c for c in children if c.type == "link_open"]
    return bool(links) and all(
        c.type in ("link_open", "link_close", "text", "softbreak", "em_open", "em_close")
        for c in children
    ) and all(not anchors or str(c.attrs.get("href", "")).startswith("#") for c in links) and all(
        c.type != "text" or _inside_link(children, c) or len(c.content.split()) <= 3
        for c in children
    )


def _inside_link(children: list[Token], text: Token) -> bool:
    depth = 0
    for child in children:
        if child is text:
            return depth > 0
        depth += 1 if child.type == "link_open" else -1 if child.type == "link_close" else 0
    return False


def _is_link_list(tokens: Sequence[Token], anchors: bool, least: int) -> bool:
    """A list of at least ``least`` items, each only a link (with ``anchors``, to an anchor
    on this page: an in-body table of contents)."""
    inlines = [t for t in tokens if t.type == "inline"]
    items = sum(1 for t in tokens if t.type == "list_item_open")
    return items >= least and len(inlines) >= items and all(_links_only(t, anchors) for t in inlines)


def _is_navigation(token: Token) -> bool:
    """A paragraph that is one link to an anchor on this page ("Back to the contents")."""
    return _links_only(token) and sum(1 for c in token.children or [] if c.type == "link_open") == 1


def _code_note(language: str) -> str:
    """The short sentence spoken where a code block is skipped."""
    lang = re.sub(r"[^\w+#-]", "", language)
    return f"A {lang} code example is skipped here." if lang else "A code example is skipped here."
