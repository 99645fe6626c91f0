"""Project Gutenberg files as users download them: the licence header and footer.

Both styles of header are recognised: the modern one ending with a line such as
``*** START OF THIS PROJECT GUTENBERG EBOOK HERETICS ***`` (which may wrap onto a second line),
and the old one ending ``*END*THE SMALL PRINT! FOR PUBLIC DOMAIN ETEXTS*...*END*``. The
"Produced by" credit right after the header goes with it. The footer starts at ``*** END OF
THE PROJECT GUTENBERG EBOOK`` or ``End of the Project Gutenberg EBook of …``, whichever comes
first, and runs to the end. ``Title:`` and ``Author:`` in the header become the episode's
metadata. Nothing else in the file is touched: a text that merely mentions Project Gutenberg
keeps every word.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..model import Omission

_START = re.compile(r"^\s*\*{3}\s*START OF (?:THE|THIS) PROJECT GUTENBERG", re.IGNORECASE)
_OLD_START_END = re.compile(r"^\s*\*END\*?\s*THE SMALL PRINT!", re.IGNORECASE)
_END = re.compile(
    r"^\s*(?:\*{3}\s*END OF (?:THE|THIS) PROJECT GUTENBERG"
    r"|End of (?:the |this )?Project Gutenberg(?:'s)?\b)",
    re.IGNORECASE,
)
_FIELD = re.compile(r"^(Title|Author):\s*(\S.*)$", re.IGNORECASE)
_CREDIT = re.compile(r"^\s*(?:Produced by|This (?:e-?text|e-?book) was produced by)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Stripped:
    """The book's own text, and what was taken off around it."""

    body: str
    title: str | None
    author: str | None
    omitted: tuple[Omission, ...]


def strip_gutenberg(text: str) -> Stripped | None:
    """The text without its Project Gutenberg header and footer, or None if it has neither."""
    lines = text.split("\n")
    start = _header_end(lines)
    end = next((n for n in range(start, len(lines)) if _END.match(lines[n])), len(lines))
    if start == 0 and end == len(lines):
        return None
    header, footer = lines[:start], lines[end:]
    # The producers' credit that follows the header is part of it.
    n = start
    while n < end and not lines[n].strip():
        n += 1
    if n < end and _CREDIT.match(lines[n]):
        while n < end and lines[n].strip():
            n += 1
        header, start = lines[:n], n
    fields = _fields(header)
    omitted = []
    if header:
        omitted.append(Omission("Project Gutenberg header", "licence and file notes", "\n".join(header)))
    if footer:
        omitted.append(Omission("Project Gutenberg licence", "licence", "\n".join(footer)))
    return Stripped("\n".join(lines[start:end]), fields.get("title"), fields.get("author"), tuple(omitted))


def _header_end(lines: list[str]) -> int:
    """The index of the first line after the header, or 0 when there is none."""
    for n, line in enumerate(lines[: len(lines) // 2 + 1]):
        if _OLD_START_END.match(line):
            return n + 1
        if _START.match(line):
            # The marker may wrap: it ends at the line that closes with "***".
            for m in range(n, min(n + 3, len(lines))):
                if lines[m].rstrip().endswith("***"):
                    return m + 1
            return n + 1
    return 0


def _fields(header: list[str]) -> dict[str, str]:
    """``Title:`` and ``Author:`` from the header; an indented next line continues a field."""
    found: dict[str, str] = {}
    for n, line in enumerate(header):
        match = _FIELD.match(line)
        if match is None or match.group(1).lower() in found:
            continue
        value = match.group(2).strip()
        if n + 1 < len(header) and header[n + 1].startswith((" ", "\t")) and header[n + 1].strip():
            value += " " + header[n + 1].strip()
        found[match.group(1).lower()] = " ".join(value.split())
    return found
