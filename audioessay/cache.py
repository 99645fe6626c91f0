"""A content-addressed cache of synthesized pieces, the voice's gain and encoded blocks.

Keys are hashes of everything that decides the content (for a piece: format version, engine
identity, voice, rate and the exact text), so an entry never needs invalidating. Every entry is
written atomically and carries a checksum; a corrupt or truncated entry is treated as a miss,
deleted and rebuilt, never fatal.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import struct
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from .dsp import from_pcm16, to_pcm16
from .engines import Samples, WordMark
from .errors import OutputError

FORMAT_VERSION = 5
"""Bump when the stored audio would differ for the same key (trimming, resampling, layout,
or a voice spoken differently: 4 is pyttsx3 without its primer utterance; 5 stores each
piece's word times with its audio)."""
ENV_VAR = "AUDIOESSAY_CACHE_DIR"
_MAGIC = b"AEPC"
_HEADER = struct.Struct("<4sIIQi32s")
"""Magic, format, sample rate, samples, word marks (-1: the voice gave none), and the
blake2b-256 digest of the marks and the PCM that follow, in that order."""
_MARK = struct.Struct("<III")


class StoredPiece(NamedTuple):
    """What the narrator needs of a cached piece without reading its audio."""

    length: int
    """Samples, at 44.1 kHz."""
    words: tuple[WordMark, ...] | None
    """Where each word begins, when the voice said."""


def default_cache_dir() -> Path:
    """``$AUDIOESSAY_CACHE_DIR``, else the user cache directory (platformdirs)."""
    override = os.environ.get(ENV_VAR)
    if override:
        return Path(override)
    import platformdirs

    return Path(platformdirs.user_cache_dir("audioessay", appauthor=False))


def content_key(*parts: object) -> str:
    """A stable hex key for JSON-serialisable ``parts``."""
    payload = json.dumps([FORMAT_VERSION, *parts], ensure_ascii=False, separators=(",", ":"))
    return hashlib.blake2b(payload.encode("utf-8"), digest_size=20).hexdigest()


@dataclass(frozen=True)
class CacheInfo:
    """What ``audioessay cache info`` reports."""

    path: Path
    entries: int
    bytes: int


class Cache:
    """Files under one directory: ``pieces/`` (audio), ``loudness/`` (each voice's gain),
    ``streams/`` (each block's MP3 stream) and ``facts/`` (its frame count and loudness)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, kind: str, key: str, suffix: str) -> Path:
        return self.root / kind / key[:2] / f"{key}{suffix}"

    @contextmanager
    def _writing(self, final: Path) -> Iterator[Path]:
        """A temporary path beside ``final``, renamed onto it when the block succeeds."""
        try:
            final.parent.mkdir(parents=True, exist_ok=True)
            fd, name = tempfile.mkstemp(prefix=".", suffix=".tmp", dir=final.parent)
        except OSError as exc:
            raise self._unwritable(exc) from exc
        os.close(fd)
        tmp = Path(name)
        try:
            yield tmp
            tmp.replace(final)
        except OSError as exc:  # a full disk, most often
            tmp.unlink(missing_ok=True)
            raise self._unwritable(exc) from exc
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

    def _unwritable(self, exc: OSError) -> OutputError:
        return OutputError(
            f"cannot write to the audio cache {self.root}: {exc.strerror or exc}; free some "
            "space, or give another --cache-dir (or --no-cache)"
        )

    # -- pieces: trimmed 44.1 kHz audio as 16-bit PCM with a checksum -------------------------

    def piece_path(self, key: str) -> Path:
        return self._path("pieces", key, ".pcm")

    def store_piece(
        self, key: str, samples: Samples, rate: int, words: tuple[WordMark, ...] | None = None
    ) -> StoredPiece:
        """Store a piece and its word marks; return what :meth:`stored_piece` will read."""
        pcm = to_pcm16(samples)
        marks = b"".join(_MARK.pack(*mark) for mark in words or ())
        digest = hashlib.blake2b(marks + pcm, digest_size=32).digest()
        count = -1 if words is None else len(words)
        header = _HEADER.pack(_MAGIC, FORMAT_VERSION, rate, len(pcm) // 2, count, digest)
        with self._writing(self.piece_path(key)) as tmp:
            tmp.write_bytes(header + marks + pcm)
        return StoredPiece(len(pcm) // 2, words)

    def stored_piece(self, key: str) -> StoredPiece | None:
        """A stored piece's length and word marks, without its audio; None if absent or
        damaged (the marks are checked against the digest when the audio is loaded)."""
        path = self.piece_path(key)
        try:
            with path.open("rb") as handle:
                parsed = _parse_header(handle.read(_HEADER.size))
                marks = handle.read(_marks_size(parsed)) if parsed else b""
            size = path.stat().st_size
        except OSError:
            return None
        if parsed is None or size != _HEADER.size + _marks_size(parsed) + 2 * parsed[1]:
            path.unlink(missing_ok=True)
            return None
        words = None if parsed[2] < 0 else tuple(WordMark(*m) for m in _MARK.iter_unpack(marks))
        return StoredPiece(parsed[1], words)

    def load_piece(self, key: str) -> Samples | None:
        """The stored piece as float32, or None (and the entry removed) if absent or corrupt."""
        path = self.piece_path(key)
        try:
            data = path.read_bytes()
        except OSError:
            return None
        parsed = _parse_header(data[: _HEADER.size])
        checked = data[_HEADER.size :]
        if (
            parsed is None
            or len(checked) != _marks_size(parsed) + 2 * parsed[1]
            or hashlib.blake2b(checked, digest_size=32).digest() != parsed[3]
        ):
            path.unlink(missing_ok=True)
            return None
        return from_pcm16(checked[len(checked) - 2 * parsed[1] :])

    # -- opaque entries: a voice's gain, encoded block streams and their facts ---------------

    def blob_path(self, kind: str, key: str) -> Path:
        return self._path(kind, key, ".bin")

    def load_blob(self, kind: str, key: str) -> bytes | None:
        """A checksummed blob, or None (and the entry removed) if absent or corrupt."""
        path = self.blob_path(kind, key)
        try:
            data = path.read_bytes()
        except OSError:
            return None
        digest, payload = data[:32], data[32:]
        if len(data) < 32 or hashlib.blake2b(payload, digest_size=32).digest() != digest:
            path.unlink(missing_ok=True)
            return None
        return payload

    def store_blob(self, kind: str, key: str, payload: bytes) -> None:
        with self._writing(self.blob_path(kind, key)) as tmp:
            tmp.write_bytes(hashlib.blake2b(payload, digest_size=32).digest() + payload)

    # -- management ---------------------------------------------------------------------------

    def info(self) -> CacheInfo:
        """Number of entries and bytes on disk."""
        entries = size = 0
        if self.root.is_dir():
            for path in self.root.rglob("*"):
                if path.is_file() and not path.name.startswith("."):
                    entries += 1
                    size += path.stat().st_size
        return CacheInfo(self.root, entries, size)

    def clear(self) -> CacheInfo:
        """Delete every entry; return what was there."""
        before = self.info()
        for kind in ("pieces", "loudness", "facts", "streams", "chapters"):  # chapters/: before 0.1
            shutil.rmtree(self.root / kind, ignore_errors=True)
        return before


def _marks_size(parsed: tuple[int, int, int, bytes]) -> int:
    """Bytes of word marks after a parsed piece header."""
    return _MARK.size * max(0, parsed[2])


def _parse_header(header: bytes) -> tuple[int, int, int, bytes] | None:
    """(sample rate, samples, word marks, digest) from a piece header, or None."""
    if len(header) != _HEADER.size:
        return None
    magic, version, rate, samples, marks, digest = _HEADER.unpack(header)
    if magic != _MAGIC or version != FORMAT_VERSION:
        return None
    return rate, samples, marks, digest
