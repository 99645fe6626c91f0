"""Timed transcripts (WebVTT, SRT, the Podcasting 2.0 JSON transcript) and Podcasting 2.0 JSON
chapters, from the placed cues."""

from __future__ import annotations

import json
import re
import textwrap
from collections.abc import Sequence
from pathlib import Path

from .errors import InspectError
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
    """A WebVTT file: one cue per spoken sentence, text escaped, lines at most 65 characters.

    Where the voice timed its words, each word after the first is preceded by a WebVTT
    timestamp (``<00:00:01.500>``), for players that show karaoke-style progress; players that
    do not read them show the plain sentence. A timestamp must lie strictly inside its cue and
    after the previous one, so one that would not (two words in the same millisecond) is left
    out."""
    parts = ["WEBVTT", ""]
    for number, cue in enumerate(cues, start=1):
        parts.append(str(number))
        parts.append(f"{timestamp(cue.start, '.')} --> {timestamp(cue.end, '.')}")
        parts.append(_timed_lines(cue))
        parts.append("")
    return "\n".join(parts)


def _timed_lines(cue: Cue) -> str:
    """The cue's wrapped, escaped text, with a timestamp before each timed word."""
    text = _lines(cue.text)
    positions = _word_positions(text)
    if cue.words is None or len(cue.words) != len(positions):
        return _vtt_escape(text)
    marks: dict[int, str] = {}
    last = round(cue.start * 1000)
    for start, position in zip(cue.words, positions, strict=True):
        ms = round(start * 1000)
        if last < ms < round(cue.end * 1000):
            marks[position] = f"<{timestamp(ms / 1000)}>"
            last = ms
    out, previous = [], 0
    for position in sorted(marks):
        out += [_vtt_escape(text[previous:position]), marks[position]]
        previous = position
    out.append(_vtt_escape(text[previous:]))
    return "".join(out)


def _word_positions(wrapped: str) -> list[int]:
    """Where each word of the unwrapped text starts in ``wrapped``: wrapping turns spaces into
    line breaks and may break a long word, so words are found by their non-space characters."""
    positions: list[int] = []
    at_space = True
    for index, char in enumerate(wrapped):
        if char.isspace():
            at_space = True
        elif at_space:
            positions.append(index)
            at_space = False
    return positions


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
    """The cue's written words with their times: from where the voice said each begins, to
    where the next does (the last to the cue's end). Without word times from the voice, each
    word gets a share of the cue's time by its letters and digits (and one for the space after
    it): an estimate."""
    words = _WORD.findall(cue.text)
    if cue.words is not None and len(cue.words) == len(words):
        ends = [*cue.words[1:], cue.end]
        return [
            (start, max(start, end), word)
            for start, end, word in zip(cue.words, ends, words, strict=True)
        ]
    weights = [len(_SPOKEN.findall(word)) + 1 for word in words]
    total = sum(weights) or 1
    segments, elapsed = [], 0
    span = cue.end - cue.start
    for word, weight in zip(words, weights, strict=True):
        start = cue.start + span * elapsed / total
        elapsed += weight
        segments.append((start, cue.start + span * elapsed / total, word))
    return segments


def word_times(cues: Sequence[Cue]) -> str:
    """Where the transcript's word times come from: ``voice`` (every cue timed by the voice),
    ``estimated`` (none), or ``voice, else estimated``."""
    timed = {cue.words is not None for cue in cues}
    if timed == {True}:
        return "voice"
    return "voice, else estimated" if True in timed else "estimated"


def format_json_transcript(cues: Sequence[Cue]) -> str:
    """The Podcasting 2.0 JSON transcript (version 1.0.0): one segment per written word, for
    word-by-word highlighting (no ``speaker``: one synthetic voice reads it all). Where the voice
    gave no word times they are estimated within each sentence's exact cue, and the file says
    so (``"wordTimes"``, a field players ignore: see :func:`word_times`).

    Written segment by segment, as ``json.dumps(indent=1)`` would write the document: a book's
    100,000 segments as dictionaries first would be the render's largest allocation."""
    head = json.dumps({"version": JSON_TRANSCRIPT_VERSION, "wordTimes": word_times(cues)}, indent=1)
    segments = ",\n".join(
        f'  {{\n   "startTime": {round(start, 3)!r},\n   "endTime": {round(end, 3)!r},\n'
        f'   "body": {json.dumps(word, ensure_ascii=False)}\n  }}'
        for cue in cues
        for start, end, word in word_segments(cue)
    )
    listed = f"[\n{segments}\n ]" if segments else "[]"
    return f'{head[:-2]},\n "segments": {listed}\n}}\n'


def transcript_beside(audio: Path) -> Path:
    """Where an episode's JSON transcript is: beside its audio, named after the same slug."""
    return audio.with_name(f"{audio.stem}.transcript.json")


def read_word_times(audio: Path) -> tuple[str, list[tuple[float, float, str]]]:
    """The words of the episode ``audio`` belongs to, with their times, from the JSON
    transcript beside it; and where those times come from (see :func:`word_times`)."""
    path = transcript_beside(audio)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        return str(document.get("wordTimes", "unknown")), [
            (float(s["startTime"]), float(s["endTime"]), str(s["body"]))
            for s in document["segments"]
        ]
    except FileNotFoundError:
        raise InspectError(
            f"{audio.name} has no word transcript beside it ({path.name}); render its essay "
            "again to write one"
        ) from None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InspectError(f"{path} is not a readable JSON transcript ({exc})") from exc
