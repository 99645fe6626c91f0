"""Raw HTML inside Markdown, read the way its Markdown equivalent is read.

Blog posts (Jekyll, Hugo, GitHub pages) carry tables, figures, asides and quotes as raw HTML.
BeautifulSoup, over the standard library's HTML parser, builds the tree; this module walks it:

- block elements (``p``, ``div``, ``blockquote``, ``li``, ``figcaption``, ``summary``…) become
  paragraphs, list items with their numbers; ``h1``–``h6`` become headings;
- ``table`` is read row by row, each cell named by its column header, as Markdown tables are;
- ``img`` is read as its alt text, ``a`` as its text, formatting tags are dropped;
- ``script``, ``style``, ``iframe``, ``svg``, ``noscript``, ``template`` and comments are dropped;
- a tag that is no HTML element (``<speak>``) is not markup we know: it is read as written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # BeautifulSoup is imported when a document has HTML in it (0.1 s saved)
    from bs4 import BeautifulSoup
    from bs4.element import Tag

_DROPPED = frozenset(
    "script style iframe svg noscript template object embed canvas audio video map head "
    "button input select textarea math".split()
)
_BLOCKS = frozenset(
    "p div section article header footer main nav blockquote figure figcaption aside details "
    "summary li dt dd pre address center dl ul ol hr form fieldset legend caption".split()
)
_HEADINGS = {f"h{n}": n for n in range(1, 7)}
_ELEMENTS = frozenset(
    "a abbr acronym address area article aside audio b base bdi bdo big blockquote body br "
    "button canvas caption center cite code col colgroup data datalist dd del details dfn "
    "dialog div dl dt em embed fieldset figcaption figure font footer form h1 h2 h3 h4 h5 h6 "
    "head header hgroup hr html i iframe img input ins kbd label legend li link main map mark "
    "menu meta meter nav noscript object ol optgroup option output p param picture pre "
    "progress q rp rt ruby s samp script section select small source span strike strong style "
    "sub summary sup svg table tbody td template textarea tfoot th thead time title tr track "
    "tt u ul var video wbr math".split()
)


@dataclass
class Block:
    """A paragraph, heading or table found in HTML."""

    kind: str
    """``paragraph``, ``heading`` or ``table``."""
    text: str = ""
    level: int = 0
    headers: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    item: int | None = None
    """For a list item: its number in an ordered list, 0 in a bullet list."""


def _soup(html: str) -> BeautifulSoup:
    from bs4 import BeautifulSoup

    return BeautifulSoup(html, "html.parser")


def read_blocks(html: str) -> list[Block]:
    """The blocks of an HTML fragment, in document order."""
    reader = _Walker()
    reader.walk(_soup(html))
    reader.flush()
    return reader.blocks


def inline_text(html: str) -> str:
    """The words of an inline HTML fragment (markup dropped, images as alt text)."""
    reader = _Walker()
    reader.walk(_soup(html))
    reader.flush()
    return " ".join(b.text for b in reader.blocks if b.kind == "paragraph")


def visible_text(html: str) -> str:
    """What a browser shows of the fragment: the coverage check's reference for HTML."""
    from bs4.element import Comment

    soup = _soup(html)
    for node in soup.find_all(string=lambda s: isinstance(s, Comment)):
        node.extract()
    for tag in soup.find_all(list(_DROPPED)):
        tag.decompose()
    return soup.get_text(" ")


class _Walker:
    def __init__(self) -> None:
        self.blocks: list[Block] = []
        self.parts: list[str] = []
        self.item: int | None = None
        self.lists: list[int | None] = []

    def flush(self) -> None:
        text = " ".join("".join(self.parts).split())
        if text:
            self.blocks.append(Block("paragraph", text, item=self.item))
        self.parts = []
        self.item = None

    def walk(self, node: Tag) -> None:
        from bs4.element import Comment, NavigableString, Tag

        for child in node.children:
            if isinstance(child, Comment):
                continue
            if isinstance(child, NavigableString):
                self.parts.append(str(child))
                continue
            if not isinstance(child, Tag):
                continue
            self.element(child)

    def element(self, tag: Tag) -> None:
        name = tag.name.lower()
        if name in _DROPPED:
            return
        if name not in _ELEMENTS:  # not markup we know: read as written
            self.parts.append(f"<{tag.name}>")
            self.walk(tag)
            self.parts.append(f"</{tag.name}>")
            return
        if name == "img":
            self.parts.append(f" {tag.get('alt') or ''} ")
        elif name == "br":
            self.parts.append(" ")
        elif name in _HEADINGS:
            self.flush()
            text = " ".join(tag.get_text(" ").split())
            if text:
                self.blocks.append(Block("heading", text, level=_HEADINGS[name]))
        elif name == "table":
            self.flush()
            self.table(tag)
        elif name in ("ul", "ol"):
            self.flush()
            start = tag.get("start")
            self.lists.append(int(str(start)) if name == "ol" and str(start).isdigit() else (1 if name == "ol" else None))
            self.walk(tag)
            self.flush()
            self.lists.pop()
        elif name == "li":
            self.flush()
            counter = self.lists[-1] if self.lists else None
            if counter is not None:
                self.lists[-1] = counter + 1
            self.item = counter if counter is not None else 0
            self.walk(tag)
            self.flush()
        elif name in _BLOCKS:
            self.flush()
            self.walk(tag)
            self.flush()
        else:
            self.walk(tag)

    def table(self, tag: Tag) -> None:
        headers: list[str] = []
        rows: list[list[str]] = []
        for row in tag.find_all("tr"):
            cells = row.find_all(["th", "td"])
            texts = [" ".join(_cell_text(c).split()) for c in cells]
            if not headers and cells and all(c.name == "th" for c in cells):
                headers = texts
            else:
                rows.append(texts)
        self.blocks.append(Block("table", headers=headers, rows=rows))


def _cell_text(cell: Tag) -> str:
    walker = _Walker()
    walker.walk(cell)
    walker.flush()
    return " ".join(b.text for b in walker.blocks)
