"""Episode records: what a render leaves beside its MP3 so that feeds and pages can be rebuilt.

``<slug>.episode.json`` is written last, after the MP3 and every sidecar, so its presence means
the episode is complete. The feed is always regenerated from these records, never patched, and
two records never share a file, so concurrent renders into one folder cannot lose each other.

The record also keeps what must not change between renders: the episode's GUID and, when the
essay gives no date, the time it was first rendered (its publication date in the feed).
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from pathlib import Path
from typing import Any

from .errors import OutputError
from .files import write_atomic
from .model import Chapter, Cue, Episode, Metadata

RECORD_SUFFIX = ".episode.json"
RECORD_FORMAT = "audioessay-episode"
RECORD_VERSION = 1
EPISODE_NAMESPACE = uuid.UUID("5d0c8a4e-6b1f-5c39-9a57-6f1d2e0b7c11")
"""Namespace of derived episode GUIDs (our own; any fixed UUID would do, it must never change)."""


def record_path(directory: Path, slug: str) -> Path:
    """Where the record of episode ``slug`` lives."""
    return directory / f"{slug}{RECORD_SUFFIX}"


def stable_identity(metadata: Metadata, directory: Path, slug: str) -> tuple[str, dt.datetime]:
    """The episode's GUID and publication time, kept from an earlier render where there is one.

    The GUID is front matter's ``guid``, else the one recorded before, else a UUIDv5 of the
    title and author: so moving the essay file, or rendering it into another folder, keeps it.
    The publication time is front matter's ``date``, else the first render's time.
    """
    previous = _previous(record_path(directory, slug))
    guid = metadata.guid or previous.get("guid") or _derived_guid(metadata)
    if metadata.date:
        published = parse_time(metadata.date)
    elif previous.get("published"):
        published = parse_time(previous["published"])
    else:
        published = dt.datetime.now(dt.UTC).replace(microsecond=0)
    return str(guid), published


def _derived_guid(metadata: Metadata) -> str:
    return str(uuid.uuid5(EPISODE_NAMESPACE, f"{metadata.title}\n{metadata.author or ''}"))


def _previous(path: Path) -> dict[str, Any]:
    """An earlier record's fields, or nothing when there is none (or it cannot be read)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def parse_time(text: str) -> dt.datetime:
    """ISO 8601 date or date-time; a bare date is midnight UTC, a naive time is taken as UTC."""
    value = dt.datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def write_record(episode: Episode) -> Path:
    """Write ``episode``'s record beside its MP3 (atomically) and return its path."""
    directory = episode.files["mp3"].parent
    path = record_path(directory, episode.slug)
    write_atomic(path, json.dumps(to_json(episode), ensure_ascii=False, indent=1) + "\n")
    return path


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
        "source": str(episode.source),
        "duration": round(episode.duration, 6),
        "files": {kind: path.name for kind, path in episode.files.items()},
        "image": episode.image.name if episode.image else None,
        "chapters": [
            {"title": c.title, "level": c.level, "start": c.start, "end": c.end, "heading": c.heading}
            for c in episode.chapters
        ],
        "cues": [
            {"start": c.start, "end": c.end, "text": c.text, "chapter": c.chapter, "paragraph": c.paragraph}
            for c in episode.cues
        ],
    }  # fmt: skip


def read_record(path: Path) -> Episode:
    """The episode a record describes, with its files resolved in the record's folder."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format") != RECORD_FORMAT:
            raise ValueError("not an audioessay episode record")
        if data.get("version") != RECORD_VERSION:
            raise ValueError(f"record version {data.get('version')} is not {RECORD_VERSION}")
        return _from_json(data, path.parent)
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise OutputError(
            f"{path} cannot be read ({exc}); render its essay again, or delete the file"
        ) from exc


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
                None if c.get("paragraph") is None else int(c["paragraph"]))
            for c in data["cues"]
        ),
        files={str(kind): directory / Path(str(name)).name for kind, name in data["files"].items()},
        guid=str(data["guid"]),
        published=parse_time(data["published"]) if data.get("published") else None,
        description=str(data.get("description") or ""),
        image=directory / Path(str(data["image"])).name if data.get("image") else None,
    )  # fmt: skip


def load_records(directory: Path) -> list[Episode]:
    """Every complete episode in ``directory``, newest first.

    A record whose MP3 is gone is an error rather than a silent omission: the listener would
    lose an episode without anyone being told.
    """
    episodes = []
    for path in sorted(directory.glob(f"*{RECORD_SUFFIX}")):
        if path.name.startswith("."):
            continue
        episode = read_record(path)
        mp3 = episode.files.get("mp3")
        if mp3 is None or not mp3.is_file():
            raise OutputError(
                f"{path.name} names {mp3.name if mp3 else 'no MP3'}, which is missing: "
                f"render the essay again, or delete {path.name} to unpublish it"
            )
        episodes.append(episode)
    epoch = dt.datetime.min.replace(tzinfo=dt.UTC)
    episodes.sort(key=lambda e: (e.published or epoch, e.metadata.title), reverse=True)
    return episodes
