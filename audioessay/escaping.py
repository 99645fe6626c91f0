"""One escaper for every XML and HTML output: the feed, the pages and the talking books.

It escapes markup characters and drops the characters XML 1.0 cannot hold at all (C0
controls, lone surrogates, U+FFFE and U+FFFF), so no text an essay carries, not even a stray
backspace, can make a feed, a page, an EPUB or a DAISY book ill-formed.
"""

from __future__ import annotations

import re

_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
"""Characters XML 1.0 forbids."""
_TEXT = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#x27;"}
_ATTRIBUTE = {**_TEXT, "\n": "&#10;", "\r": "&#13;", "\t": "&#9;"}
_SPECIAL_TEXT = re.compile("[&<>\"']")
_SPECIAL_ATTRIBUTE = re.compile("[&<>\"'\n\r\t]")


def xml_text(text: str) -> str:
    """``text`` for XML or HTML character data (and attributes in double quotes)."""
    return _SPECIAL_TEXT.sub(lambda m: _TEXT[m.group()], _NOT_XML.sub("", text))


def xml_attr(value: str) -> str:
    """``value`` as a double-quoted attribute, white space kept as character references."""
    escaped = _SPECIAL_ATTRIBUTE.sub(lambda m: _ATTRIBUTE[m.group()], _NOT_XML.sub("", value))
    return f'"{escaped}"'
