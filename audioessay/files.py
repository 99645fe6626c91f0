"""Output naming and atomic writes: a final name only ever holds a complete file."""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import unicodedata
from collections.abc import Iterator
from pathlib import Path

from .errors import OutputError

_MAX_SLUG = 80


def slugify(text: str) -> str:
    """A file-name-safe slug: ASCII letters, digits and single hyphens, never a path."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:_MAX_SLUG].rstrip("-")


def episode_slug(title: str, source: Path) -> str:
    """The slug for an episode: from its title, else its file name, else ``episode``."""
    return slugify(title) or slugify(source.stem) or "episode"


def prepare_output_dir(path: Path) -> Path:
    """Create the output directory if needed; refuse an existing file in its place."""
    if path.exists() and not path.is_dir():
        raise OutputError(f"output path {path} is an existing file, not a directory")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create output directory {path}: {exc.strerror or exc}") from exc
    return path


@contextlib.contextmanager
def atomic_path(final: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``final``; on success it replaces ``final`` atomically.

    On any failure, and on Ctrl-C, the temporary file is removed and ``final`` is untouched.
    """
    fd, name = tempfile.mkstemp(prefix=f".{final.name}.", suffix=".part", dir=final.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        with tmp.open("rb+") as handle:
            os.fsync(handle.fileno())
        tmp.chmod(0o644)
        tmp.replace(final)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_atomic(final: Path, data: bytes | str) -> None:
    """Write ``data`` to ``final`` through a temporary file and ``os.replace``."""
    payload = data.encode("utf-8") if isinstance(data, str) else data
    try:
        with atomic_path(final) as tmp:
            tmp.write_bytes(payload)
    except OSError as exc:
        raise OutputError(f"cannot write {final}: {exc.strerror or exc}") from exc
