"""Timed transcripts (WebVTT, SRT) and Podcasting 2.0 JSON chapters, from the placed cues."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Sequence

from .model import Chapter, Cue, Metadata

LINE_WIDTH = 65
"""Longest cue line; longer text is wrapped onto more lines."""
JSON_CHAPTERS_VERSION = "1.2.0"


def timestamp(seconds: float, separator: str = ".") -> str:
    """``HH:MM:SS.mmm`` (WebVTT, Podlove Simple Chapters) or ``HH:MM:SS,mmm`` (SRT)."""
    ms = round(seconds * 1000)
    hours, ms = divmod(ms, 3_600_000)
    minutes, ms = divmod(ms, 60_000)
    secs, ms = divmod(ms, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{ms:03d}"


def _lines(text: str) -> str:
    return "\n".join(textwrap.wrap(text, LINE_WIDTH, break_long_words=True, break_on_hyphens=False))


def _vtt_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def format_vtt(cues: Sequence[Cue]) -> str:
    """A WebVTT file: one cue per spoken sentence, text escaped, lines at most 65 characters."""
    parts = ["WEBVTT", ""]
    for number, cue in enumerate(cues, start=1):
        parts.append(str(number))
        parts.append(f"{timestamp(cue.start, '.')} --> {timestamp(cue.end, '.')}")
        parts.append(_vtt_escape(_lines(cue.text)))
        parts.append("")
    return "\n".join(parts)


def format_srt(cues: Sequence[Cue]) -> str:
    """A SubRip file with the same cues as the WebVTT one."""
    parts = []
    for number, cue in enumerate(cues, start=1):
        parts.append(str(number))
        parts.append(f"{timestamp(cue.start, ',')} --> {timestamp(cue.end, ',')}")
        parts.append(_lines(cue.text))
        parts.append("")
    return "\n".join(parts)


def format_json_chapters(chapters: Sequence[Chapter], metadata: Metadata, file_name: str) -> str:
    """Podcasting 2.0 JSON chapters (version 1.2.0)."""
    document: dict[str, object] = {
        "version": JSON_CHAPTERS_VERSION,
        "title": metadata.title,
        "fileName": file_name,
    }
    if metadata.author:
        document["author"] = metadata.author
    document["chapters"] = [
        {"startTime": round(c.start, 3), "endTime": round(c.end, 3), "title": c.title, "toc": True}
        for c in chapters
    ]
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"
