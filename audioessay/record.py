"""Episode records: what a render leaves beside its MP3 so that feeds and pages can be rebuilt.

``<slug>.episode.json`` is written last, after the MP3 and every sidecar, so its presence means
the episode is complete. The feed is always regenerated from these records, never patched, and
two records never share a file, so concurrent renders into one folder cannot lose each other.

The record also keeps what must not change between renders: the episode's GUID and, when the
essay gives no date, the time it was first rendered (its publication date in the feed).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import json
import logging
import os
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import OutputError
from .files import file_digest, locked, render_time, short_hash, write_atomic, writer
from .model import Chapter, Cue, Episode, Metadata, Outputs

log = logging.getLogger(__name__)

RECORD_SUFFIX = ".episode.json"
RECORD_FORMAT = "audioessay-episode"
RECORD_VERSION = 2
"""2: each file's size and SHA-256, so readers can tell a record from a mixed set of files."""
UNCHECKED = frozenset(["html"])
"""Outputs that feed builds rewrite after the render (the page), so no hash can hold them."""
CLAIM_SUFFIX = ".claim"
PRIVATE = ".audioessay"
"""The folder's private part, never served and never to be synced: what a render knows that
names this machine (where each essay is, every file it read), kept out of the published
records, which a static host would publish."""
SOURCES = f"{PRIVATE}/sources"
"""For each essay rendered there, the slug of its episode, so a re-render can find its record
before parsing the essay (which gives the slug)."""
LOCAL_SUFFIX = ".local.json"
LOCAL_FIELDS = ("source", "reads")
"""The record's fields that name this machine's files: kept in :data:`PRIVATE`."""
EPISODE_NAMESPACE = uuid.UUID("5d0c8a4e-6b1f-5c39-9a57-6f1d2e0b7c11")
"""Namespace of derived episode GUIDs (our own; any fixed UUID would do, it must never change)."""


def record_path(directory: Path, slug: str) -> Path:
    """Where the record of episode ``slug`` lives."""
    return directory / f"{slug}{RECORD_SUFFIX}"


def local_path(record: Path) -> Path:
    """Where the private part of the record at ``record`` lives."""
    slug = record.name.removesuffix(RECORD_SUFFIX)
    return record.parent / PRIVATE / f"{slug}{LOCAL_SUFFIX}"


def stable_identity(
    metadata: Metadata, directory: Path, slug: str, wanted: str
) -> tuple[str, dt.datetime]:
    """The episode's GUID and publication time, kept from an earlier render where there is one.

    The GUID is front matter's ``guid``, else the one recorded before, else a UUIDv5 of the
    title and author: so moving the essay file, or rendering it into another folder, keeps it.
    An essay that had to take another slug (``wanted`` was another essay's) derives its GUID
    from that slug too, and no GUID another episode of the folder holds is ever taken.
    The publication time is front matter's ``date``, else the first render's time
    (:func:`.files.render_time`).
    """
    previous = _previous(record_path(directory, slug))
    derived = _derived_guid(metadata, "" if slug == wanted else slug)
    guid = str(metadata.guid or previous.get("guid") or derived)
    owner = _guid_owner(directory, guid, slug)
    if owner is not None:
        if metadata.guid:
            raise OutputError(
                f"front matter guid {metadata.guid!r} is already the GUID of {owner} in "
                f"{directory}: give this essay a guid of its own"
            )
        guid = _derived_guid(metadata, slug)
    if metadata.date:
        published = parse_time(metadata.date)
    elif previous.get("published"):
        published = parse_time(previous["published"])
    else:
        published = render_time()  # the first render's
    return guid, published


def _derived_guid(metadata: Metadata, salt: str = "") -> str:
    name = f"{metadata.title}\n{metadata.author or ''}" + (f"\n{salt}" if salt else "")
    return str(uuid.uuid5(EPISODE_NAMESPACE, name))


def _guid_owner(directory: Path, guid: str, slug: str) -> str | None:
    """The record file of another episode in ``directory`` whose GUID is ``guid``."""
    for path in directory.glob(f"*{RECORD_SUFFIX}"):
        if path.name != f"{slug}{RECORD_SUFFIX}" and _previous(path).get("guid") == guid:
            return path.name
    return None


@contextlib.contextmanager
def claim_slug(directory: Path, wanted: str, source: Path, title: str) -> Iterator[str]:
    """Hold a slug of ``directory`` for the essay at ``source`` while it renders.

    ``wanted`` is taken when no other essay owns it: an owner is the source named by a
    record, or a render holding it right now. Otherwise the slug gets a stable suffix, a hash
    of the source's path, so two essays never write over each other's episode. An essay moved
    on disk still owns its record when the old source is gone and the title is the same.

    A render holds its slug by an exclusive lock on ``.<slug>.claim``, which the system drops
    when the render ends however it ends (``kill -9`` too), on this machine or, over NFS, on
    another: no process id has to be judged alive. Another render of the *same* essay into the
    same folder (a second client of a cluster, a second terminal) waits for this one to end,
    then finds its episode up to date, so their files are never mixed.
    """
    me = str(source.resolve())
    candidates = [wanted, f"{wanted}-{short_hash(me)}"]
    candidates += [f"{wanted}-{short_hash(me)}-{n}" for n in range(2, 100)]
    while True:
        with locked(directory):  # one claimant at a time looks and takes
            claim = _take_slug(directory, candidates, me, title)
        if isinstance(claim, _Claim):
            break
        _wait_for(claim)  # the same essay, being rendered right now: wait, then look again
    try:
        yield claim.slug
    finally:
        try:
            with locked(directory):  # removed while held, so no one takes a file going away
                claim.path.unlink(missing_ok=True)
        except OSError:  # the folder went away, or became read-only: the lock goes anyway
            pass
        finally:
            os.close(claim.handle)


@dataclass(frozen=True)
class _Claim:
    """A slug held: its claim file, and the open handle whose lock holds it."""

    slug: str
    path: Path
    handle: int


def _take_slug(directory: Path, candidates: list[str], me: str, title: str) -> _Claim | int:
    """The first free slug of ``candidates``, claimed; or, when a render of this same essay
    holds the first slug it could have, that claim file's open handle, to wait on."""
    for slug in candidates:
        path = directory / f".{slug}{CLAIM_SUFFIX}"
        try:
            handle = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise OutputError(f"cannot write into {directory}: {exc.strerror or exc}") from exc
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:  # another render holds it now
            holder = _previous(path)
            if holder.get("source") != me:
                os.close(handle)
                continue
            if holder.get("writer") == writer():
                os.close(handle)
                raise OutputError(f"{Path(me).name} is being rendered twice by this command") from None
            return handle
        if _owned_by_record(directory, slug, me, title):
            path.unlink(missing_ok=True)
            os.close(handle)
            continue
        claim = json.dumps({"source": me, "writer": writer()}).encode("utf-8")
        try:
            os.ftruncate(handle, 0)
            os.pwrite(handle, claim, 0)
        except OSError as exc:
            os.close(handle)
            raise OutputError(f"cannot write into {directory}: {exc.strerror or exc}") from exc
        return _Claim(slug, path, handle)
    raise OutputError(f"{directory} has no free name left for {Path(me).name}")


def _wait_for(handle: int) -> None:
    """Block until the render holding this claim file ends, then let it go."""
    try:
        fcntl.flock(handle, fcntl.LOCK_EX)
    finally:
        os.close(handle)


def _owned_by_record(directory: Path, slug: str, me: str, title: str) -> bool:
    """Whether the record of ``slug`` belongs to another essay (one moved on disk, with the
    same title and its old file gone, is still this one)."""
    record = _previous(record_path(directory, slug))
    owner = record.get("source")
    if owner is None or str(Path(str(owner)).resolve()) == me:  # (older records: as given)
        return False
    moved = not Path(str(owner)).exists() and record.get("title") == title
    return not moved


def _previous(path: Path) -> dict[str, Any]:
    """An earlier record's (or claim's) fields, or nothing when there is none or it cannot be
    read. A record's private fields (:data:`LOCAL_FIELDS`) are read from its private part."""
    data = _json_file(path)
    if data and path.name.endswith(RECORD_SUFFIX):
        local = _json_file(local_path(path))
        data.update((name, local[name]) for name in LOCAL_FIELDS if name in local)
    return data


def _json_file(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def parse_time(text: str) -> dt.datetime:
    """ISO 8601 date or date-time; a bare date is midnight UTC, a naive time is taken as UTC."""
    value = dt.datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


@dataclass(frozen=True)
class FileFacts:
    """What a record knows of one output file, to tell it from another render's."""

    size: int
    sha256: str

    @classmethod
    def of(cls, path: Path) -> FileFacts:
        """Size and SHA-256 of the file at ``path``."""
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        return cls(path.stat().st_size, digest.hexdigest())


@dataclass(frozen=True)
class Inputs:
    """What a render was made from, kept in its record.

    ``key`` covers everything the bytes depend on, computed after parsing (the essay, its
    script, the settings, the voice, the art). ``request`` and ``reads`` let the next render
    of the same essay decide before parsing: the request is its command (settings as given,
    the code, the voice's identity) and the reads are every file it read or looked for, with
    their SHA-256 digests.
    """

    key: str
    request: str = ""
    reads: tuple[tuple[str, str | None], ...] = ()
    voicing: tuple[str, str | None, int] | None = None
    """The engine, voice and rate the render settled on (front matter may choose them)."""


def write_record(episode: Episode, inputs: Inputs | None = None) -> Path:
    """Write ``episode``'s record beside its MP3 (atomically), after every other output is in
    place: it carries their sizes and hashes, and its presence means the set is whole.
    ``inputs`` is what the render was made from (see :func:`unchanged`, :func:`up_to_date`)."""
    directory = episode.files.mp3.parent
    path = record_path(directory, episode.slug)
    earlier = _previous(path).get("files")
    data = to_json(episode)
    data["inputs"] = inputs.key if inputs else ""
    if inputs is not None and inputs.request:
        data["request"] = inputs.request
        data["reads"] = {_stored(Path(name), directory): d for name, d in inputs.reads}
        data["voicing"] = list(inputs.voicing) if inputs.voicing else None
    data["checks"] = {
        kind: {"bytes": facts.size, "sha256": facts.sha256}
        for kind, file in episode.files.named().items()
        if kind not in UNCHECKED and file.is_file()
        for facts in [FileFacts.of(file)]
    }
    local = {name: data.pop(name) for name in LOCAL_FIELDS if name in data}
    private = local_path(path)
    private.parent.mkdir(exist_ok=True)
    write_atomic(private, json.dumps(local, ensure_ascii=False, indent=1) + "\n")
    write_atomic(path, json.dumps(data, ensure_ascii=False, indent=1) + "\n")
    if isinstance(earlier, dict):
        _remove_superseded(directory, {str(n) for n in earlier.values()}, data["files"].values())
    if inputs is not None and inputs.request:
        pointer = _source_pointer(directory, episode.source)
        pointer.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(pointer, episode.slug + "\n")
    return path


def _remove_superseded(directory: Path, earlier: set[str], now: Iterable[str]) -> None:
    """Remove the files an episode's earlier record named and its new one does not (an Opus
    alternate, a DAISY book no longer asked for), so none is left beside audio it no longer
    matches. Only names inside ``directory`` are touched, after the new record is in place."""
    import shutil

    for name in earlier - set(now):
        stale = directory / Path(name).name
        with contextlib.suppress(OSError):
            if stale.is_dir() and not stale.is_symlink():
                shutil.rmtree(stale)
            else:
                stale.unlink(missing_ok=True)


def _stored(path: Path, directory: Path) -> str:
    """A read file's name as the record keeps it: relative inside the episode's own folder (so
    the same render into two folders leaves the same record), absolute elsewhere."""
    folder = directory.absolute()
    return str(path.relative_to(folder)) if path.is_relative_to(folder) else str(path)


def _source_pointer(directory: Path, source: Path) -> Path:
    name = hashlib.blake2b(str(source.resolve()).encode("utf-8"), digest_size=12).hexdigest()
    return directory / SOURCES / name


def recorded_voicing(directory: Path, source: Path) -> tuple[str, tuple[str, str | None, int]] | None:
    """The slug and the settled voice of ``source``'s episode in ``directory``, if recorded."""
    try:
        slug = _source_pointer(directory, source).read_text(encoding="utf-8").strip()
    except OSError:
        return None
    voicing = _previous(record_path(directory, slug)).get("voicing")
    if not isinstance(voicing, list) or len(voicing) != 3:
        return None
    engine, voice, rate = voicing
    return slug, (str(engine), None if voice is None else str(voice), int(rate))


def up_to_date(directory: Path, slug: str, request: str) -> Episode | None:
    """The episode ``slug`` if its record says it was made by exactly ``request`` from files
    that are all still what they were (or still absent), and its outputs are intact; else None.

    This runs before the essay is parsed: an unchanged re-render costs a few file reads.
    """
    path = record_path(directory, slug)
    data = _previous(path)
    reads = data.get("reads")
    if not request or data.get("request") != request or not isinstance(reads, dict):
        return None
    if any(file_digest(directory / str(name)) != digest for name, digest in reads.items()):
        return None  # (``directory / name`` is ``name`` itself when it is absolute)
    return _intact(path, data)


def unchanged(directory: Path, slug: str, inputs: str) -> Episode | None:
    """The episode already in ``directory`` if it was made from exactly ``inputs`` and every
    one of its files is still the one its record describes; else None.

    A render whose inputs have not changed would write the same bytes again, so it writes
    nothing: the files keep their times (nothing to upload again) and no audio is touched.
    """
    path = record_path(directory, slug)
    data = _previous(path)
    return _intact(path, data) if inputs and data.get("inputs") == inputs else None


def _intact(path: Path, data: dict[str, Any]) -> Episode | None:
    """The episode of the record ``data`` (read from ``path``) if all its files are intact."""
    if not data.get("inputs") or mismatched(path, data):
        return None
    try:
        return _episode(data, path)
    except OutputError:
        return None


def mismatched(path: Path, data: dict[str, Any] | None = None) -> list[str]:
    """The files of the record at ``path`` (``data``, if already read) that are missing or are
    not the ones it describes.

    Sizes are compared always, hashes only when a file is newer than its record: a render
    that died between moving its files and writing its record leaves exactly that.
    """
    data = _previous(path) if data is None else data
    checks = data.get("checks")
    if not isinstance(checks, dict):
        checks = {}  # a version 1 record: only that its files exist can be checked
    try:
        written = path.stat().st_mtime
    except OSError:
        return [path.name]
    bad = []
    for kind, name in (data.get("files") or {}).items():
        file = path.parent / Path(str(name)).name
        check = checks.get(kind)
        if kind in UNCHECKED:
            if not file.exists():
                bad.append(file.name)
            continue
        if not isinstance(check, dict):
            if not file.exists():
                bad.append(file.name)
            continue
        try:
            stat = file.stat()
        except OSError:
            bad.append(file.name)
            continue
        if stat.st_size != check.get("bytes") or (stat.st_mtime > written and FileFacts.of(file).sha256 != check.get("sha256")):
            bad.append(file.name)
    return bad


def to_json(episode: Episode) -> dict[str, Any]:
    """The record as JSON data; file paths are stored relative to the episode's folder."""
    meta = episode.metadata
    return {
        "format": RECORD_FORMAT,
        "version": RECORD_VERSION,
        "slug": episode.slug,
        "guid": episode.guid,
        "title": meta.title,
        "author": meta.author,
        "language": meta.language,
        "date": meta.date,
        "description": episode.description,
        "published": episode.published.isoformat() if episode.published else None,
        "source": str(episode.source.resolve()),  # as the slug claim compares it
        "duration": round(episode.duration, 6),
        "files": {kind: path.name for kind, path in episode.files.named().items()},
        "audio": [audio.format for audio in episode.files.audio],
        "image": episode.image.name if episode.image else None,
        "chapters": [
            {"title": c.title, "level": c.level, "start": c.start, "end": c.end, "heading": c.heading}
            for c in episode.chapters
        ],
        "cues": [
            {"start": c.start, "end": c.end, "text": c.text, "chapter": c.chapter, "paragraph": c.paragraph}
            | ({} if c.words is None else {"words": list(c.words)})
            for c in episode.cues
        ],
    }  # fmt: skip


def read_record(path: Path) -> Episode:
    """The episode a record describes, with its files resolved in the record's folder."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise _unreadable(path, exc) from exc
    if isinstance(data, dict) and "source" not in data:
        data["source"] = _json_file(local_path(path)).get("source")
    return _episode(data, path)


def _episode(data: Any, path: Path) -> Episode:
    """The episode of record ``data``, read from ``path``; checked for format and version."""
    try:
        if data.get("format") != RECORD_FORMAT:
            raise ValueError("not an audioessay episode record")
        if data.get("version") not in (1, RECORD_VERSION):
            raise ValueError(f"record version {data.get('version')} is not {RECORD_VERSION}")
        return _from_json(data, path.parent)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise _unreadable(path, exc) from exc


def _unreadable(path: Path, exc: Exception) -> OutputError:
    return OutputError(f"{path} cannot be read ({exc}); render its essay again, or delete the file")


def _from_json(data: dict[str, Any], directory: Path) -> Episode:
    metadata = Metadata(
        title=str(data["title"]),
        author=data.get("author"),
        date=data.get("date"),
        description=data.get("description"),
        language=str(data.get("language") or "en"),
        guid=data.get("guid"),
    )
    return Episode(
        source=Path(data.get("source") or ""),
        metadata=metadata,
        slug=str(data["slug"]),
        duration=float(data["duration"]),
        chapters=tuple(
            Chapter(str(c["title"]), int(c["level"]), float(c["start"]), float(c["end"]),
                    bool(c.get("heading", True)))
            for c in data["chapters"]
        ),
        cues=tuple(
            Cue(float(c["start"]), float(c["end"]), str(c["text"]), int(c["chapter"]),
                None if c.get("paragraph") is None else int(c["paragraph"]),
                None if c.get("words") is None else tuple(float(w) for w in c["words"]))
            for c in data["cues"]
        ),
        files=Outputs.from_named(
            {str(kind): directory / Path(str(name)).name for kind, name in data["files"].items()},
            [str(kind) for kind in data.get("audio") or ["mp3"]],
        ),
        guid=str(data["guid"]),
        published=parse_time(data["published"]) if data.get("published") else None,
        description=str(data.get("description") or ""),
        image=directory / Path(str(data["image"])).name if data.get("image") else None,
    )  # fmt: skip


def load_records(directory: Path) -> tuple[list[Episode], list[str]]:
    """Every complete episode in ``directory``, newest first, and a warning for each record
    that was skipped: unreadable, or describing files that are missing or not its own.

    One damaged record must not take the whole feed down, nor may a mixed set of files
    (a render killed while moving them into place) be published as an episode.
    """
    episodes = []
    warnings = []
    for path in sorted(directory.glob(f"*{RECORD_SUFFIX}")):
        if path.name.startswith("."):
            continue
        try:
            episode = read_record(path)
        except OutputError:
            warnings.append(f"{path.name} cannot be read: skipped; render its essay again")
            continue
        bad = mismatched(path)
        if bad:
            warnings.append(
                f"{path.name} does not match {', '.join(sorted(bad))}: skipped; render its "
                "essay again, or delete the record to unpublish it"
            )
            continue
        episodes.append(episode)
    for warning in warnings:
        log.warning("%s", warning)
    epoch = dt.datetime.min.replace(tzinfo=dt.UTC)
    episodes.sort(key=lambda e: (e.published or epoch, e.metadata.title), reverse=True)
    return episodes, warnings
