"""Output naming and atomic writes: a final name only ever holds a complete file."""

from __future__ import annotations

import contextlib
import glob
import os
import re
import shutil
import tempfile
import tomllib
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .errors import OutputError, SettingsError

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
    sweep_stale_temporaries(final)
    fd, name = tempfile.mkstemp(
        prefix=f".{final.name}.{os.getpid()}.", suffix=".part", dir=final.parent
    )
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


@contextlib.contextmanager
def atomic_directory(final: Path) -> Iterator[Path]:
    """Yield a temporary folder beside ``final``; on success it takes ``final``'s place.

    The old folder is moved aside and deleted only after the new one is in place, so a
    reader finds the previous complete folder or the new complete one (for an instant, none).
    """
    sweep_stale_temporaries(final)
    tmp = Path(
        tempfile.mkdtemp(prefix=f".{final.name}.{os.getpid()}.", suffix=".part", dir=final.parent)
    )
    try:
        yield tmp
        tmp.chmod(0o755)
        old = final.parent / f".{final.name}.{os.getpid()}.old.part"
        if final.exists():
            final.replace(old)
        tmp.replace(final)
        shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def sweep_stale_temporaries(final: Path) -> None:
    """Remove temporary files of ``final`` left by a render that was killed.

    Temporary names carry the writer's process id, so a file whose writer is gone is known to
    be stale, while another render writing the same file right now is left alone.
    """
    for temp in final.parent.glob(f".{glob.escape(final.name)}.*.part"):
        pid_text = temp.name[len(final.name) + 2 :].split(".", 1)[0]
        if pid_text.isdigit() and not _alive(int(pid_text)):
            if temp.is_dir():
                shutil.rmtree(temp, ignore_errors=True)
            else:
                temp.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def read_toml(path: Path) -> dict[str, Any]:
    """A TOML settings file as data, or a :class:`SettingsError` naming the file."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise SettingsError(f"{path} cannot be read: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{path} is not valid TOML: {exc}") from exc


def write_atomic(final: Path, data: bytes | str) -> None:
    """Write ``data`` to ``final`` through a temporary file and ``os.replace``."""
    payload = data.encode("utf-8") if isinstance(data, str) else data
    try:
        with atomic_path(final) as tmp:
            tmp.write_bytes(payload)
    except OSError as exc:
        raise OutputError(f"cannot write {final}: {exc.strerror or exc}") from exc
