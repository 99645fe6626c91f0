"""Read an essay file as text, refusing what is not an essay with a message for the user.

What is repaired rather than refused:

- a byte-order mark: UTF-8, and UTF-16 or UTF-32 in either byte order (what Windows Notepad
  saves as "Unicode"), is decoded by its mark;
- a file with no valid UTF-8 sequence at all is an 8-bit file (older Project Gutenberg texts
  are ISO-8859-1) and is read as Windows-1252, with a warning; UTF-8 with damaged bytes is
  still refused, naming the offset;
- control characters (C0 but tab and newline, DEL, C1) are removed: eSpeak stops speaking at
  a NUL, and XML cannot hold most of them, so one stray byte would cut a sentence short or
  break a talking book. The count removed is logged as a warning.
"""

from __future__ import annotations

import codecs
import logging
import re
from pathlib import Path

from ..errors import InputError
from ..files import read_regular

log = logging.getLogger(__name__)

ESSAY_LIMIT = 64 * 2**20
"""The largest essay read (64 MiB): the longest novels are under 5 MiB of text."""
_BOMS = (  # longest first: a UTF-32-LE mark starts with the UTF-16-LE one
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_UTF8_SEQUENCE = re.compile(rb"[\xc2-\xf4][\x80-\xbf]+")
"""A multi-byte UTF-8 sequence: a file with some is UTF-8 with damage, not another encoding."""
_BINARY_SHARE = 0.01
_BINARY_COUNT = 8
_BINARY_BYTES = bytes(b for b in range(32) if b not in (9, 10, 12, 13, 27))
"""A file whose first 64 KiB hold more control bytes than 1 % (and than 8) is binary, not text
with a stray byte: text has next to none, UTF-16 without its mark has one in every two."""


def read_text(path: Path) -> str:
    """Return the file's text with newlines normalised, or raise :class:`InputError`."""
    if path.is_dir():
        raise InputError(f"{path} is a directory; give an essay file (.md or .txt)")
    data = read_regular(path, ESSAY_LIMIT, InputError)
    kind = document_kind(data)
    if kind is not None:
        raise InputError(
            f"{path} is {kind}, not text: audioessay reads Markdown (.md) or plain text (.txt); "
            "save or export it as one of those"
        )
    text = decode(data, str(path))
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise InputError(f"{path} is empty: there is nothing to narrate")
    return text


def document_kind(data: bytes) -> str | None:
    """What a file of another kind is, by its first bytes ("a Word document"), or None:
    said to the writer who gives one, with what would work instead."""
    if data.startswith(b"%PDF-"):
        return "a PDF document"
    if data.startswith(b"PK\x03\x04"):
        head = data[:4096]
        if b"mimetypeapplication/epub+zip" in head:
            return "an EPUB book"
        import io
        import zipfile

        try:
            names = set(zipfile.ZipFile(io.BytesIO(data)).namelist())
        except (zipfile.BadZipFile, OSError, ValueError):
            return "a damaged zip archive"
        if "word/document.xml" in names:
            return "a Word document"
        if "content.xml" in names:
            return "an OpenDocument file"
        return "a zip archive"
    return None


def decode(data: bytes, name: str) -> str:
    """Bytes of an essay as text: by its byte-order mark, else UTF-8; control characters out."""
    encoding, bom = "utf-8", b""
    for mark, codec in _BOMS:
        if data.startswith(mark):
            encoding, bom = codec, mark
            break
    if not bom:
        head = data[:65536]
        controls = sum(head.count(byte) for byte in _BINARY_BYTES)
        if controls > max(_BINARY_COUNT, _BINARY_SHARE * len(head)):
            raise InputError(f"{name} looks like a binary file, not text")
    try:
        text = data[len(bom) :].decode(encoding)
    except UnicodeDecodeError as exc:
        if any(byte in _BINARY_BYTES for byte in data[:65536]):
            raise InputError(f"{name} looks like a binary file, not text") from exc
        legacy = _as_legacy_text(data) if not bom else None
        if legacy is not None:
            log.warning("%s is not UTF-8: read as Windows-1252 (Latin-1)", name)
            return strip_controls(legacy, name)
        at = exc.start + len(bom)
        raise InputError(
            f"{name} is not {encoding.upper()} text: byte 0x{data[at]:02x} at offset {at} "
            "cannot be decoded"
        ) from exc
    return strip_controls(text, name)


_LEGACY_SYMBOLS = frozenset("£°«»‘’“”–—…·§¶½¼¾×÷¢¥©®\xa0¡¿")
_LEGACY_WORD = re.compile(r"[^\W\d_]*[A-Za-z][^\W\d_]*|(?<![^\W\d_])[^\W\d_](?![^\W\d_])")


def _as_legacy_text(data: bytes) -> str | None:
    """``data`` as Windows-1252 text when it is plainly an 8-bit file, else None.

    It is one when it has no valid UTF-8 sequence at all, and every character beyond ASCII is
    a letter inside a word that also has ASCII letters ("café", "Cæsar"), a one-letter word
    ("à"), or a mark of typography (£, «, —): so "caf\xe9" is Latin-1, while stray bytes
    are still refused.
    """
    if _UTF8_SEQUENCE.search(data) is not None:
        return None
    undefined = any(byte in data for byte in (0x81, 0x8D, 0x8F, 0x90, 0x9D))
    text = data.decode("latin-1" if undefined else "cp1252")
    in_words = {m.start() + i for m in _LEGACY_WORD.finditer(text) for i in range(len(m.group()))}
    for index, char in enumerate(text):
        if ord(char) > 127 and char not in _LEGACY_SYMBOLS and index not in in_words:
            return None
    return text


_UNUSABLE = re.compile(
    "\x1b\\[[0-?]*[ -/]*[@-~]"  # a terminal's colour or cursor sequence (ESC [ … m)
    "|\x1b\\][^\x07\x1b]*(?:\x07|\x1b\\\\)?"  # a terminal's title or link sequence (ESC ] …)
    "|[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]"  # other control characters
    "|[\ud800-\udfff]"  # a lone surrogate (YAML's "\\ud800"): no encoding can write it
)
"""What no voice, tag or reader can use: removed whole, so that ESC [31m leaves no "[31m"
in a title, a tag or a file name."""


def strip_controls(text: str, where: str) -> str:
    """``text`` without control characters, terminal sequences or lone surrogates; says how
    many were removed, and where."""
    cleaned, count = _UNUSABLE.subn("", text)
    if count:
        log.warning("%s: removed %d control character(s) no voice or reader can use", where, count)
    return cleaned
