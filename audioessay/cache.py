"""A content-addressed cache of synthesized pieces, the voice's gain and encoded blocks.

Keys are hashes of everything that decides the content (for a piece: format version, engine
identity, voice, rate and the exact text), so an entry never needs invalidating. Every entry is
written atomically and carries a checksum; a corrupt or truncated entry is treated as a miss,
deleted and rebuilt, never fatal.

The entries live in a :class:`Store`: names to bytes, each written whole or not at all. A
:class:`DirectoryStore` is a folder, local or on a filesystem every machine of a cluster
mounts (NFS, CephFS, Lustre); an object store (fsspec's S3 or GCS) is another class with the
same five methods, since every entry is written once under its content's key and never
changed, and a reader checks each entry's checksum whoever wrote it.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple, Protocol

from .dsp import from_pcm16, to_pcm16
from .engines import Samples, WordMark
from .errors import OutputError
from .files import closed, opened, sweep_stale_temporaries, temporary_name

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
_MOST_MARKS = 512
"""More word marks than any piece has (a piece is at most a few hundred letters): the first
read of a piece's header takes its marks with it."""


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


class Store(Protocol):
    """Where a cache's entries live: bytes under names such as ``pieces/ab/ab12….pcm``.

    ``write`` must be atomic (a reader sees the whole entry or none, even when a writer is
    killed midway, or another machine writes the same name at the same moment: both write the
    same bytes, since names are content keys)."""

    where: str
    """The store as the user names it (a folder), for messages."""

    def read(self, name: str, limit: int | None = None) -> bytes | None:
        """The entry's bytes (its first ``limit`` only, when given), or None if absent."""

    def size(self, name: str) -> int | None:
        """The entry's length in bytes, or None if absent."""

    def write(self, name: str, data: bytes) -> None:
        """Store ``data`` under ``name`` atomically; OSError if it cannot."""

    def delete(self, name: str) -> None:
        """Remove the entry, if it is there."""

    def entries(self) -> Iterator[int]:
        """The size of every entry."""

    def clear(self, prefix: str) -> None:
        """Remove every entry whose name starts with ``prefix/``."""


class DirectoryStore:
    """A cache's entries as files of one folder, each written under a temporary name and
    renamed into place: rename is atomic on every POSIX filesystem, NFS included. A temporary
    left by a writer that was killed carries the writer's host and process, and is removed by
    the next writer of the same entry (:func:`.files.sweep_stale_temporaries`)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.where = str(root)

    def read(self, name: str, limit: int | None = None) -> bytes | None:
        try:
            with (self.root / name).open("rb") as handle:
                return handle.read() if limit is None else handle.read(limit)
        except OSError:
            return None

    def size(self, name: str) -> int | None:
        try:
            return (self.root / name).stat().st_size
        except OSError:
            return None

    def write(self, name: str, data: bytes) -> None:
        final = self.root / name
        final.parent.mkdir(parents=True, exist_ok=True)
        sweep_stale_temporaries(final)
        tmp = opened(final.parent / temporary_name(final, ".tmp"))
        try:
            tmp.write_bytes(data)
            tmp.replace(final)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        finally:
            closed(tmp)

    def delete(self, name: str) -> None:
        (self.root / name).unlink(missing_ok=True)

    def entries(self) -> Iterator[int]:
        if self.root.is_dir():
            for path in self.root.rglob("*"):
                if path.is_file() and not path.name.startswith("."):
                    yield path.stat().st_size

    def clear(self, prefix: str) -> None:
        shutil.rmtree(self.root / prefix, ignore_errors=True)


class Cache:
    """Entries of a :class:`Store`: ``pieces/`` (audio), ``loudness/`` (each voice's gain),
    ``streams/`` (each block's encoded stream) and ``facts/`` (its frame count and loudness)."""

    def __init__(self, store: Path | Store) -> None:
        self.store: Store = DirectoryStore(store) if isinstance(store, Path) else store

    @property
    def root(self) -> Path:
        """The folder of a directory store (what ``audioessay cache info`` reports)."""
        return Path(self.store.where)

    @staticmethod
    def _name(kind: str, key: str, suffix: str) -> str:
        return f"{kind}/{key[:2]}/{key}{suffix}"

    def _write(self, name: str, data: bytes) -> None:
        try:
            self.store.write(name, data)
        except OSError as exc:  # a full disk, most often
            raise OutputError(
                f"cannot write to the audio cache {self.store.where}: {exc.strerror or exc}; "
                "free some space, or give another --cache-dir (or --no-cache)"
            ) from exc

    # -- pieces: trimmed 44.1 kHz audio as 16-bit PCM with a checksum -------------------------

    def store_piece(
        self, key: str, samples: Samples, rate: int, words: tuple[WordMark, ...] | None = None
    ) -> StoredPiece:
        """Store a piece and its word marks; return what :meth:`stored_piece` will read."""
        pcm = to_pcm16(samples)
        marks = b"".join(_MARK.pack(*mark) for mark in words or ())
        digest = hashlib.blake2b(marks + pcm, digest_size=32).digest()
        count = -1 if words is None else len(words)
        header = _HEADER.pack(_MAGIC, FORMAT_VERSION, rate, len(pcm) // 2, count, digest)
        self._write(self._name("pieces", key, ".pcm"), header + marks + pcm)
        return StoredPiece(len(pcm) // 2, words)

    def stored_piece(self, key: str) -> StoredPiece | None:
        """A stored piece's length and word marks, without its audio; None if absent or
        damaged (the marks are checked against the digest when the audio is loaded)."""
        name = self._name("pieces", key, ".pcm")
        head = self.store.read(name, _HEADER.size + _MARK.size * _MOST_MARKS)
        if head is None:
            return None
        parsed = _parse_header(head[: _HEADER.size])
        if parsed is not None and len(head) < _HEADER.size + _marks_size(parsed):
            head = self.store.read(name, _HEADER.size + _marks_size(parsed)) or b""
        marks = head[_HEADER.size : _HEADER.size + _marks_size(parsed)] if parsed else b""
        whole = _HEADER.size + _marks_size(parsed) + 2 * parsed[1] if parsed else -1
        if parsed is None or len(marks) != _marks_size(parsed) or self.store.size(name) != whole:
            self.store.delete(name)
            return None
        words = None if parsed[2] < 0 else tuple(WordMark(*m) for m in _MARK.iter_unpack(marks))
        return StoredPiece(parsed[1], words)

    def load_piece(self, key: str) -> Samples | None:
        """The stored piece as float32, or None (and the entry removed) if absent or corrupt."""
        name = self._name("pieces", key, ".pcm")
        data = self.store.read(name)
        if data is None:
            return None
        parsed = _parse_header(data[: _HEADER.size])
        checked = data[_HEADER.size :]
        if (
            parsed is None
            or len(checked) != _marks_size(parsed) + 2 * parsed[1]
            or hashlib.blake2b(checked, digest_size=32).digest() != parsed[3]
        ):
            self.store.delete(name)
            return None
        return from_pcm16(checked[len(checked) - 2 * parsed[1] :])

    # -- opaque entries: a voice's gain, encoded block streams and their facts ---------------

    def load_blob(self, kind: str, key: str) -> bytes | None:
        """A checksummed blob, or None (and the entry removed) if absent or corrupt."""
        name = self._name(kind, key, ".bin")
        data = self.store.read(name)
        if data is None:
            return None
        digest, payload = data[:32], data[32:]
        if len(data) < 32 or hashlib.blake2b(payload, digest_size=32).digest() != digest:
            self.store.delete(name)
            return None
        return payload

    def store_blob(self, kind: str, key: str, payload: bytes) -> None:
        digest = hashlib.blake2b(payload, digest_size=32).digest()
        self._write(self._name(kind, key, ".bin"), digest + payload)

    # -- management ---------------------------------------------------------------------------

    def info(self) -> CacheInfo:
        """Number of entries and bytes on disk."""
        sizes = list(self.store.entries())
        return CacheInfo(self.root, len(sizes), sum(sizes))

    def clear(self) -> CacheInfo:
        """Delete every entry; return what was there."""
        before = self.info()
        for kind in ("pieces", "loudness", "facts", "streams", "chapters"):  # chapters/: before 0.1
            self.store.clear(kind)
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
