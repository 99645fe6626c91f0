"""Timed transcripts (WebVTT, SRT, the Podcasting 2.0 JSON transcript) and Podcasting 2.0 JSON
chapters, from the placed cues."""

from __future__ import annotations

import json
import re
import textwrap
from collections.abc import Sequence

from .model import Chapter, Cue, Metadata

LINE_WIDTH = 65
"""Longest cue line; longer text is wrapped onto more lines."""
JSON_CHAPTERS_VERSION = "1.2.0"
JSON_TRANSCRIPT_VERSION = "1.0.0"
_WORD = re.compile(r"\S+")
_SPOKEN = re.compile(r"\w")


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


def word_segments(cue: Cue) -> list[tuple[float, float, str]]:
    """The cue's written words, each with a share of the cue's time by its letters and digits
    (and one for the space after it): an estimate, until a voice reports its word times."""
    words = _WORD.findall(cue.text)
    weights = [len(_SPOKEN.findall(word)) + 1 for word in words]
    total = sum(weights) or 1
    segments, elapsed = [], 0
    span = cue.end - cue.start
    for word, weight in zip(words, weights, strict=True):
        start = cue.start + span * elapsed / total
        elapsed += weight
        segments.append((start, cue.start + span * elapsed / total, word))
    return segments


def format_json_transcript(cues: Sequence[Cue]) -> str:
    """The Podcasting 2.0 JSON transcript (version 1.0.0): one segment per written word, for
    word-by-word highlighting. Word times are estimated within each sentence's exact cue, and
    say so (``"wordTimes": "estimated"``, a field players ignore)."""
    segments = [
        {"startTime": round(start, 3), "endTime": round(end, 3), "body": word}
        for cue in cues
        for start, end, word in word_segments(cue)
    ]
    document = {"version": JSON_TRANSCRIPT_VERSION, "wordTimes": "estimated", "segments": segments}
    return json.dumps(document, ensure_ascii=False, indent=1) + "\n"
