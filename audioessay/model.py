"""The pure data model: what an essay is, and what an episode made from it is.

Nothing here does I/O; every stage takes these values in and hands new ones out, which is what
lets the fast tests check chapter times exactly.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

_WORD = re.compile(r"\w+")


def written_words(text: str) -> list[str]:
    """The words of ``text`` as the coverage check counts them (runs of letters and digits)."""
    return _WORD.findall(text)


@dataclass(frozen=True)
class Sentence:
    """One sentence as the listener will hear it and as transcripts will show it."""

    text: str
    """The sentence text, markup already turned into plain words."""


@dataclass(frozen=True)
class Paragraph:
    """A run of sentences read without a paragraph pause between them."""

    sentences: tuple[Sentence, ...]
    heading: int | None = None
    """For a sub-heading inside a chapter (a section below the chapter level): its level. It
    is spoken as a title is, but listeners do not skip to it as to a chapter."""


@dataclass(frozen=True)
class Section:
    """A heading and the paragraphs under it, up to the next heading of any level."""

    title: str
    """The heading exactly as written (markup removed)."""
    level: int
    """1-6 as in Markdown; the opening before the first heading is level 1."""
    paragraphs: tuple[Paragraph, ...]
    spoken_title: bool = True
    """False where the title must not be read aloud (the opening, already announced)."""

    @property
    def words(self) -> int:
        """Number of words in the body, for previews and estimates."""
        return sum(len(s.text.split()) for p in self.paragraphs for s in p.sentences)


@dataclass(frozen=True)
class Metadata:
    """Episode-level facts from front matter, headings or the file name."""

    title: str
    author: str | None = None
    date: str | None = None
    description: str | None = None
    language: str = "en"
    guid: str | None = None
    """The feed's episode GUID when the writer fixes it in front matter (else derived)."""
    image: Path | None = None
    """Per-episode cover art named in front matter, resolved beside the essay."""


@dataclass(frozen=True)
class Omission:
    """Text of the file that is deliberately not narrated (a licence, a contents list)."""

    title: str
    """What it is, as a listener would name it."""
    reason: str
    text: str
    """The text itself: the coverage check counts its words as accounted for."""


@dataclass(frozen=True)
class Structure:
    """How the user corrects structure detection when the rules guess wrong."""

    headings: str | None = None
    """A regular expression: in plain text, lines it matches are the headings, and only they."""
    skip: tuple[str, ...] = ()
    """Titles of sections to leave out (compared loosely: case and punctuation aside)."""


@dataclass(frozen=True)
class EssaySettings:
    """Narration settings an essay may ask for (front matter, or a folder's audioessay.toml)."""

    engine: str | None = None
    voice: str | None = None
    rate: int | None = None
    language: str | None = None
    lexicon: tuple[Path, ...] = ()
    """Lexicon files, already resolved against the file that named them."""
    skip_citations: bool | None = None
    headings: str | None = None
    skip: tuple[str, ...] = ()
    formats: tuple[str, ...] | None = None
    """What to produce (``formats: [mp3, opus, m4b]``); the command line's ``--format`` wins."""
    sync: str | None = None
    """``sync: word``: the EPUB's Media Overlays by word; the command line's ``--sync`` wins."""


@dataclass(frozen=True)
class Essay:
    """A parsed essay: metadata plus the flat list of sections that become chapters."""

    source: Path
    metadata: Metadata
    sections: tuple[Section, ...]
    settings: EssaySettings = field(default_factory=EssaySettings)
    written: tuple[str, ...] = ()
    """Every word of the source's text as its reader found it, before sections were built:
    what the coverage check holds the narration script to."""
    omitted: tuple[Omission, ...] = ()
    """What the readers left out on purpose, and why; the rest of ``written`` must be spoken."""
    decisions: tuple[tuple[str, str], ...] = ()
    """(line, why) for each heading found and each near miss: ``chapters --explain``."""

    @property
    def words(self) -> int:
        """Number of body words in the whole essay."""
        return sum(s.words for s in self.sections)


@dataclass(frozen=True)
class Cue:
    """A stretch of the episode during which one piece of text is spoken."""

    start: float
    end: float
    text: str
    chapter: int = 0
    """Index of the chapter the cue is spoken in."""
    paragraph: int | None = None
    """Index of its paragraph within the chapter; None for a spoken title or the intro."""
    words: tuple[float, ...] | None = None
    """Where each word of ``text`` (split at spaces) begins, as the voice said it; None when
    the voice gave no word times (:func:`~audioessay.transcript.word_segments` estimates)."""


@dataclass(frozen=True)
class Chapter:
    """A chapter as placed in the final audio file (times in seconds)."""

    title: str
    level: int
    start: float
    end: float
    heading: bool = True
    """False for the opening chapter, whose title is the essay's and is not spoken again."""


@dataclass(frozen=True)
class AudioFile:
    """One encoding of the episode: its format's name (see :mod:`audioessay.formats`) and path."""

    format: str
    path: Path


@dataclass(frozen=True)
class Outputs:
    """Every file a render writes, each by what it is.

    The episode's own audio (the MP3: the feed's enclosure, and what pages and talking books
    play) comes first in ``audio``; alternates in other formats follow it."""

    audio: tuple[AudioFile, ...]
    chapters: Path
    """Podcasting 2.0 JSON chapters."""
    vtt: Path
    srt: Path
    html: Path | None = None
    """The page: the accessible transcript with a player."""
    transcript: Path | None = None
    """The Podcasting 2.0 JSON transcript, word by word."""
    daisy: Path | None = None
    """The DAISY 2.02 book's folder."""
    daisy_zip: Path | None = None
    epub: Path | None = None

    @property
    def mp3(self) -> Path:
        return self.audio[0].path

    @property
    def alternates(self) -> tuple[AudioFile, ...]:
        return self.audio[1:]

    def named(self) -> dict[str, Path]:
        """Each file by a name for it (the format's, or the sidecar's): what a record stores."""
        named = {a.format: a.path for a in self.audio}
        for kind in ("chapters", "vtt", "srt", "html", "transcript", "daisy", "daisy_zip", "epub"):
            path = getattr(self, kind)
            if path is not None:
                named[kind] = path
        return named

    @classmethod
    def from_named(cls, named: dict[str, Path], audio_formats: Iterable[str]) -> Outputs:
        """The outputs a record's ``named`` files describe (``audio_formats`` in order)."""
        audio = tuple(AudioFile(kind, named[kind]) for kind in audio_formats if kind in named)
        return cls(
            audio=audio,
            chapters=named["chapters"],
            vtt=named["vtt"],
            srt=named["srt"],
            html=named.get("html"),
            transcript=named.get("transcript"),
            daisy=named.get("daisy"),
            daisy_zip=named.get("daisy_zip"),
            epub=named.get("epub"),
        )


@dataclass(frozen=True)
class Episode:
    """What a render produced: where the files are and how the audio is laid out."""

    source: Path
    metadata: Metadata
    slug: str
    duration: float
    chapters: tuple[Chapter, ...]
    cues: tuple[Cue, ...]
    files: Outputs
    """Where each output is."""
    guid: str = ""
    """The feed GUID: the same for the same essay across re-renders and moves."""
    published: dt.datetime | None = None
    """Publication time: front matter ``date``, else the first render's time (kept)."""
    description: str = ""
    """Front matter's description, else the opening paragraph."""
    image: Path | None = None
    """Per-episode cover art copied beside the MP3, if the essay has any."""
    work: dict[str, float | int] = field(default_factory=dict)
    """What the render did: seconds per stage, pieces synthesized, blocks encoded and the
    loudness as encoded (``audioessay.work``); empty for an episode read from its record."""


NumberedCue = tuple[int, Cue]
"""A cue with its 1-based position in the episode (the ``sN`` id pages and books give it)."""


@dataclass(frozen=True)
class ChapterText:
    """One chapter's cues: its spoken title (or the intro), then its paragraphs."""

    titles: tuple[NumberedCue, ...]
    paragraphs: tuple[tuple[NumberedCue, ...], ...]


def chapter_texts(episode: Episode) -> list[ChapterText]:
    """Every chapter's cues grouped into titles and paragraphs, in one pass over the cues."""
    titles: list[list[NumberedCue]] = [[] for _ in episode.chapters]
    paragraphs: list[dict[int, list[NumberedCue]]] = [{} for _ in episode.chapters]
    for number, cue in enumerate(episode.cues, start=1):
        if cue.paragraph is None:
            titles[cue.chapter].append((number, cue))
        else:
            paragraphs[cue.chapter].setdefault(cue.paragraph, []).append((number, cue))
    return [
        ChapterText(tuple(t), tuple(tuple(p) for p in ps.values()))
        for t, ps in zip(titles, paragraphs, strict=True)
    ]


@dataclass(frozen=True)
class Progress:
    """How far a render has got, reported to whoever draws progress (the CLI)."""

    stage: str
    """``narrate`` (done/total count pieces of speech) or ``encode`` (they count chapters)."""
    done: int
    total: int
    audio: float
    """Seconds of audio produced so far."""


@dataclass(frozen=True)
class BatchProgress:
    """How far a batch on a cluster has got: every worker's essays and chapters together."""

    essays_done: int
    essays: int
    chapters_done: int
    chapters: int
    audio: float
    """Seconds of audio narrated so far."""
    workers: int
    """Workers busy with this batch's tasks now."""
