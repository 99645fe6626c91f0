"""Output naming and atomic writes: a final name only ever holds a complete file."""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import functools
import glob
import hashlib
import os
import re
import secrets
import shutil
import socket
import stat
import tempfile
import threading
import tomllib
import unicodedata
from collections.abc import Iterator
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from .errors import AudioEssayError, OutputError, SettingsError
from .interrupt import on_hard_exit

_MAX_SLUG = 80
RESERVED_SLUGS = frozenset(["index", "feed", "cover", "audioessay", "podcast"])
"""Names of the podcast's own files (index.html, feed.xml, cover.png, audioessay.css,
podcast.toml): an essay called "Index" must not write its page over the podcast's."""


MARKDOWN_SUFFIXES = frozenset({".md", ".markdown", ".mdown", ".mkd"})
"""Essays read as Markdown; every other file is read as plain text. (Here, not in ``parse``,
so that finding essays in a folder does not import the parsers.)"""

_READS: ContextVar[dict[str, str | None] | None] = ContextVar("audioessay_reads", default=None)


@contextlib.contextmanager
def watching() -> Iterator[dict[str, str | None]]:
    """Collect every input file read, or looked for, inside the block: path to SHA-256 (None
    for a file looked for and absent). A render keeps them in its record, so that the next
    render of the same essay can tell it is up to date before it parses anything."""
    reads: dict[str, str | None] = {}
    token = _READS.set(reads)
    try:
        yield reads
    finally:
        _READS.reset(token)


def noticed(path: Path) -> None:
    """Note that the render depends on ``path`` (its content, or that it does not exist)."""
    reads = _READS.get()
    if reads is not None:
        reads[str(path.absolute())] = file_digest(path)


def file_digest(path: Path) -> str | None:
    """SHA-256 of a file's bytes; None if there is no file there. Only a regular file is
    read (opened without blocking: a FIFO or a device is named as such, never read)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        return f"unreadable: {exc.errno}"
    with os.fdopen(fd, "rb") as handle:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            return None
        if not stat.S_ISREG(mode):
            return "not a regular file"
        try:
            os.set_blocking(fd, True)
            return hashlib.file_digest(handle, "sha256").hexdigest()
        except OSError as exc:
            return f"unreadable: {exc.errno}"


def short_hash(text: str) -> str:
    """Six hex digits that stand for ``text``: stable across runs and machines."""
    return hashlib.blake2b(text.encode("utf-8"), digest_size=3).hexdigest()


def slugify(text: str) -> str:
    """A file-name-safe slug: ASCII letters, digits and single hyphens, never a path.

    A slug cut at 80 characters ends in a hash of the whole, so two long titles that share
    their first 80 characters still get two slugs.
    """
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    if len(slug) <= _MAX_SLUG:
        return slug
    return slug[: _MAX_SLUG - 7].rstrip("-") + "-" + short_hash(slug)


def episode_slug(title: str, source: Path) -> str:
    """The slug an episode would like: from its title, else its file name, else ``episode``;
    never a reserved name. :func:`audioessay.record.claim_slug` makes it unique."""
    slug = slugify(title) or slugify(source.stem) or "episode"
    return f"{slug}-episode" if slug in RESERVED_SLUGS else slug


LOCK_FILE = ".audioessay.lock"


@contextlib.contextmanager
def locked(directory: Path, shared: bool = False) -> Iterator[None]:
    """Hold the folder's publishing lock (blocks while another process holds it). Writers
    hold it alone; ``shared`` is for readers (``serve`` taking a snapshot), who may read
    together but never while a render moves files into place and writes their record."""
    path = directory / LOCK_FILE
    try:
        handle = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise OutputError(f"cannot lock {directory} for publishing: {exc.strerror or exc}") from exc
    try:
        fcntl.flock(handle, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
        yield
    finally:
        os.close(handle)  # closing releases the lock


def check_writable(directory: Path) -> None:
    """Create and remove a file in ``directory``, or raise :class:`OutputError` saying why.

    Asked before narrating, so a read-only or full folder fails at once, not after minutes.
    (Permission bits alone would not tell: root ignores them, a read-only mount does not.)
    """
    try:
        fd, name = tempfile.mkstemp(prefix=".audioessay-probe.", dir=directory)
        os.close(fd)
        Path(name).unlink()
    except OSError as exc:
        raise OutputError(
            f"cannot write into {directory}: {exc.strerror or exc}; choose another -o folder"
        ) from exc


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
    with staging() as stage:
        yield stage.file(final)


@contextlib.contextmanager
def atomic_directory(final: Path) -> Iterator[Path]:
    """Yield a temporary folder beside ``final``; on success it takes ``final``'s place.

    The old folder is moved aside and deleted only after the new one is in place, so a
    reader finds the previous complete folder or the new complete one (for an instant, none).
    """
    with staging() as stage:
        yield stage.directory(final)


_LIVE: set[Path] = set()
"""Temporaries being written by this process, removed by the interruption watchdog."""
_LIVE_LOCK = threading.Lock()


def opened(tmp: Path) -> Path:
    """Count ``tmp`` among this process's temporaries until :func:`closed`."""
    with _LIVE_LOCK:
        _LIVE.add(tmp)
    return tmp


def closed(tmp: Path) -> None:
    """``tmp`` was renamed into place or removed."""
    with _LIVE_LOCK:
        _LIVE.discard(tmp)


def _remove_live_temporaries() -> None:
    with _LIVE_LOCK:
        for tmp in _LIVE:
            if tmp.is_dir():
                shutil.rmtree(tmp, ignore_errors=True)
            else:
                tmp.unlink(missing_ok=True)
        _LIVE.clear()


on_hard_exit(_remove_live_temporaries)


class Staging:
    """A set of outputs written under temporary names and moved into place together.

    Each output is written completely under a temporary name first; :meth:`commit` then
    renames them one after the other, in the order they were staged, which takes
    milliseconds however long the writing took. A crash before the commit leaves every
    final name as it was; a crash during it leaves a mix that the episode record (written
    after the commit, with each file's size and hash) lets readers detect.
    """

    def __init__(self) -> None:
        self._staged: list[tuple[Path, Path]] = []

    def file(self, final: Path) -> Path:
        """A temporary path that becomes ``final`` on commit."""
        sweep_stale_temporaries(final)
        tmp = opened(final.parent / temporary_name(final, ".part"))
        os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        self._staged.append((tmp, final))
        return tmp

    def directory(self, final: Path) -> Path:
        """A temporary folder that takes ``final``'s place on commit."""
        sweep_stale_temporaries(final)
        tmp = opened(final.parent / temporary_name(final, ".part"))
        tmp.mkdir(mode=0o700)
        self._staged.append((tmp, final))
        return tmp

    def write(self, final: Path, data: bytes | str) -> Path:
        """Stage ``data`` as the contents of ``final``."""
        tmp = self.file(final)
        tmp.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
        return tmp

    def commit(self) -> None:
        """Flush every staged file to disk, then move each into place."""
        for tmp, _ in self._staged:
            if tmp.is_file():
                with tmp.open("rb+") as handle:
                    os.fsync(handle.fileno())
        for tmp, final in self._staged:
            tmp.chmod(0o755 if tmp.is_dir() else 0o644)
            if tmp.is_dir():
                old = final.parent / temporary_name(final, ".part")
                if final.exists():
                    final.replace(old)
                tmp.replace(final)
                shutil.rmtree(old, ignore_errors=True)
            else:
                tmp.replace(final)
            closed(tmp)
        self._staged.clear()

    def discard(self) -> None:
        """Remove whatever is still staged, as far as the folder allows: called while a
        failure is on its way up (a folder made read-only meanwhile, a full disk), it must
        never replace that failure with its own. What it cannot remove, the next render of
        the folder sweeps (:func:`sweep_stale_temporaries`)."""
        for tmp, _ in self._staged:
            if tmp.is_dir():
                shutil.rmtree(tmp, ignore_errors=True)
            else:
                with contextlib.suppress(OSError):
                    tmp.unlink(missing_ok=True)
            closed(tmp)
        self._staged.clear()


@contextlib.contextmanager
def staging() -> Iterator[Staging]:
    """A :class:`Staging` committed when the block succeeds and discarded on any failure.

    OS errors (a full disk, a folder made read-only meanwhile) become :class:`OutputError`.
    """
    stage = Staging()
    try:
        yield stage
        stage.commit()
    except OSError as exc:
        finals = {str(tmp): final for tmp, final in stage._staged}
        folder = next(iter(finals.values())).parent if finals else None
        stage.discard()
        if isinstance(exc, OutputError):
            raise
        name = finals.get(str(exc.filename), exc.filename)
        where = f" {name}" if name else f" the episode into {folder}" if folder else ""
        raise OutputError(f"cannot write{where}: {exc.strerror or exc}") from exc
    except BaseException:
        stage.discard()
        raise


def render_time() -> dt.datetime:
    """Now, or ``$SOURCE_DATE_EPOCH`` when it is set (the reproducible-builds convention):
    the one clock a render reads, for a first render's publication time and a book's
    modification time, so that the same essays rendered twice (here and on a cluster, or in
    CI) give the same bytes."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "")
    if epoch.isdigit():
        return dt.datetime.fromtimestamp(int(epoch), dt.UTC)
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def writer() -> str:
    """This process, as temporaries and claims name it: ``pid@host`` (the host as a short
    hash of its name), so that a machine of a cluster never mistakes another's process for
    one of its own."""
    return f"{os.getpid()}@{_HOST}"


_WRITER = re.compile(r"[0-9]+(@[0-9a-f]{8})?")
_HOST = hashlib.sha256(socket.gethostname().encode("utf-8")).hexdigest()[:8]


def writer_alive(name: str) -> bool:
    """Whether the writer ``pid@host`` may still be running: a process of another machine
    cannot be looked at from here, so it may be. (A bare pid is an older render's.)"""
    pid, _, host = name.partition("@")
    return process_alive(int(pid)) if host in ("", _HOST) else True


def temporary_name(final: Path, suffix: str) -> str:
    """A unique name beside ``final`` for writing it: ``.<name>.<pid@host>.<random><suffix>``."""
    return f".{final.name}.{writer()}.{secrets.token_hex(4)}{suffix}"


def sweep_stale_temporaries(final: Path) -> None:
    """Remove temporary files of ``final`` left by a render that was killed.

    Temporary names carry their writer (:func:`writer`), so a file whose writer is gone is
    known to be stale, while another render writing the same file right now is left alone."""
    for temp in final.parent.glob(f".{glob.escape(final.name)}.*.*"):
        owner = temp.name[len(final.name) + 2 :].split(".", 1)[0]
        if temp.suffix not in (".part", ".tmp") or not _WRITER.fullmatch(owner):
            continue  # (another file's temporary: ``x.daisy.zip``'s, beside ``x.daisy``)
        if not writer_alive(owner):
            if temp.is_dir():
                shutil.rmtree(temp, ignore_errors=True)
            else:
                temp.unlink(missing_ok=True)


_TEMPORARY = re.compile(r"\.(?P<final>.+)\.(?P<writer>[0-9]+(@[0-9a-f]{8})?)\.[0-9a-f]{8}\.(part|tmp)")
"""A temporary's name (:func:`temporary_name`): its final name, its writer, a random part."""


def sweep_folder(directory: Path) -> None:
    """Remove every temporary in ``directory`` and its private part whose writer is gone.

    Every render and feed build of the folder does, the unchanged render too (which writes
    nothing else), so what a killed render left is never published by a sync."""
    for folder in (directory, directory / ".audioessay", directory / ".audioessay" / "sources"):
        with contextlib.suppress(OSError):
            for entry in folder.iterdir():
                found = _TEMPORARY.fullmatch(entry.name)
                if found is not None and not writer_alive(found["writer"]):
                    if entry.is_dir() and not entry.is_symlink():
                        shutil.rmtree(entry, ignore_errors=True)
                    else:
                        entry.unlink(missing_ok=True)


def process_alive(pid: int) -> bool:
    """Whether a process with this id exists on this machine (a writer, a claimant)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


PROJECT_FILE = "audioessay.toml"
"""A folder's settings file (:mod:`audioessay.project`)."""


def project_file(essay: Path) -> Path | None:
    """The nearest ``audioessay.toml`` at or above the essay's folder, if any. (Here, not in
    :mod:`.project`, so that a batch can look for its cluster without importing the parsers.)"""
    for folder in [essay.resolve().parent, *essay.resolve().parents]:
        path = folder / PROJECT_FILE
        noticed(path)  # an audioessay.toml made later, in any of these folders, counts too
        if path.is_file():
            return path
        if path.exists():  # a FIFO or a device by that name is refused, not skipped
            raise SettingsError(f"{path} is not a regular file (a device, pipe or socket)")
    return None


SETTINGS_LIMIT = 4 * 2**20
"""The largest settings file or lexicon read (4 MiB): a pronunciation list of 50,000 words
is about 2 MiB."""


def read_regular(path: Path, limit: int, error: type[AudioEssayError] = SettingsError) -> bytes:
    """The bytes of the regular file at ``path``, at most ``limit`` of them, or ``error``.

    Opened without blocking and checked before reading: a FIFO would wait forever for a
    writer, ``/dev/zero`` would fill the memory, and a file growing while it is read stops at
    the limit."""
    noticed(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except OSError as exc:
        reason = "no such file" if isinstance(exc, FileNotFoundError) else exc.strerror or exc
        raise error(f"{path} cannot be read: {reason}") from exc
    with os.fdopen(fd, "rb") as handle:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise error(f"{path} is a folder, not a file")
        if not stat.S_ISREG(mode):
            raise error(f"{path} is not a regular file (a device, pipe or socket); give a file")
        try:
            os.set_blocking(fd, True)
            data = handle.read(limit + 1)
        except OSError as exc:
            raise error(f"{path} cannot be read: {exc.strerror or exc}") from exc
    if len(data) > limit:
        raise error(f"{path} is larger than {limit // 2**20} MiB: too large to read")
    return data


def parse_toml(data: bytes, where: str) -> dict[str, Any]:
    """TOML text as data, or a :class:`SettingsError` naming ``where``."""
    try:
        return tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise SettingsError(f"{where} is not UTF-8 text: {exc.reason} at byte {exc.start}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{where} is not valid TOML: {exc}") from exc
    except RecursionError:  # tomllib nests a Python call per level: [[[[…]]]] runs out of stack
        raise SettingsError(f"{where} nests its tables or lists too deeply to read") from None


def essays_root(essay: Path) -> Path:
    """The folder an essay's own settings may reach into: the folder of its
    ``audioessay.toml``, else its own folder.

    Essays arrive as folders from other people (a shared drive, a repository, a download),
    so what their settings and front matter name, a lexicon whose words are spoken into the
    episode or art that is published beside it, must lie inside that folder: never
    ``~/.ssh``, ``/etc`` or ``../private``. Paths given on the command line are the user's
    own, and are not held to it."""
    found = project_file(essay)
    return (found.parent if found is not None else essay.parent).resolve()


def inside(path: Path, root: Path) -> bool:
    """Whether ``path``, every link followed, lies in ``root`` or below it."""
    return path.resolve().is_relative_to(root.resolve())


def read_toml(path: Path) -> dict[str, Any]:
    """A TOML settings file as data, or a :class:`SettingsError` naming the file."""
    return parse_toml(read_regular(path, SETTINGS_LIMIT), str(path))


def write_atomic(final: Path, data: bytes | str) -> None:
    """Write ``data`` to ``final`` through a temporary file and ``os.replace``."""
    payload = data.encode("utf-8") if isinstance(data, str) else data
    try:
        with atomic_path(final) as tmp:
            tmp.write_bytes(payload)
    except OSError as exc:
        raise OutputError(f"cannot write {final}: {exc.strerror or exc}") from exc


@functools.cache  # the code does not change while it runs: asked twice a render, read once
def code_version() -> str:
    """audioessay's version and a hash of its files' names and contents: a render made by
    other code is never taken as up to date, even in a checkout whose version did not move.
    Contents, not modification times, so that a fresh clone, a reinstall or a cluster's
    worker running the same code gives the same records, byte for byte."""
    package = Path(__file__).parent
    digest = hashlib.blake2b(digest_size=16)
    for path in sorted(package.rglob("*")):
        if path.suffix in (".py", ".css", ".js") and "__pycache__" not in path.parts:
            digest.update(f"{path.relative_to(package).as_posix()}\0".encode())
            digest.update(hashlib.blake2b(path.read_bytes(), digest_size=16).digest())
    from importlib.metadata import PackageNotFoundError, version

    try:
        release = version("audioessay")
    except PackageNotFoundError:
        release = "unknown"
    return f"{release} {digest.hexdigest()[:16]}"
