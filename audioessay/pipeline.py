"""``render()``: essay in, episode out. Reads top to bottom like the pipeline diagram.

    parse → script (speakable text; every written word checked) → check voice, art, limits
          → claim a slug → narrate (cached pieces) → lay out → measure each chapter
          → one gain → limit + encode each chapter (cached streams; again if the limiter left
          the episode short) → place chapters and cues → stage: tag + join streams, sidecars,
          cover art, talking books and page → move all into place → write the episode record

Chapters are measured and encoded by ``jobs`` threads (LAME and NumPy release the GIL); the
results are joined in chapter order, so the output is byte-identical whatever ``jobs`` is.
"""

from __future__ import annotations

import contextlib
import logging
import math
import tempfile
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TypeVar

import numpy as np

from .assemble import ChapterLayout, lay_out
from .books.daisy import write_daisy
from .books.epub import write_epub
from .cache import Cache, content_key
from .config import RenderSettings
from .coverage import check_coverage
from .encode import (
    ENCODER_DELAY,
    ENCODER_GAIN_DB,
    SAMPLES_PER_FRAME,
    count_frames,
    encode_stream,
    encoder_identity,
)
from .engines import Engine, Samples, create_engine, engine_alphabet, voice_for_language
from .errors import AudioEssayError, RenderInterruptedError
from .files import LOCK_FILE, check_writable, episode_slug, prepare_output_dir, staging
from .loudness import LoudnessMeter, integrated_loudness, measure_steps
from .model import Chapter, Cue, Episode, Essay, Progress, Structure
from .narrate import SAMPLE_RATE, Narrator, Piece, Voicing, completed, narrate
from .pages import episode_page, write_assets
from .parse import load_essay
from .podcast import read_podcast
from .project import Project, build_lexicon, find_project
from .record import claim_slug, stable_identity, write_record
from .script import Script, write_script
from .speech import SpeechOptions
from .tags import check_chapter_limits, read_cover, write_tags
from .transcript import format_json_chapters, format_srt, format_vtt

log = logging.getLogger(__name__)
T = TypeVar("T")
R = TypeVar("R")

GAIN_STEP_DB = 0.25
"""The episode gain is rounded to this step (so loudness is within 0.125 dB of the target)."""


@dataclass(frozen=True)
class EncodedChapter:
    """A chapter's cached MP3 stream and how many frames it holds."""

    key: str
    frames: int
    limited: np.ndarray
    """100 ms loudness steps of what LAME was given (after gain and limiter)."""


LIMITER_PASSES = 3
"""Encodes at most this many times to make up for loudness the limiter took away."""


def render(
    source: Path,
    settings: RenderSettings,
    explicit: frozenset[str] = frozenset(),
    progress: Callable[[Progress], None] | None = None,
    cancel: threading.Event | None = None,
) -> Episode:
    """Render the essay at ``source`` into a tagged, chaptered MP3 and its sidecar files.

    ``explicit`` names the settings the user gave on the command line, which win over the
    essay's front matter. Setting ``cancel`` from another thread stops the render promptly.
    """
    # Read and parse; settings: defaults < audioessay.toml < front matter < flags.
    essay, settings, script = prepare(source, settings, explicit)
    # Everything that can be refused is checked before any output folder exists or any audio
    # is made: the voice, the cover art, the limits of the tags, a writable folder.
    voicing = _voicing(settings)
    cover = settings.cover or essay.metadata.image
    art = read_cover(cover) if cover is not None else None
    check_chapter_limits(len(essay.sections))
    created = not settings.output_dir.exists()
    out_dir = prepare_output_dir(settings.output_dir)
    try:
        check_writable(out_dir)
        wanted = episode_slug(essay.metadata.title, source)
        with claim_slug(out_dir, wanted, source, essay.metadata.title) as slug:
            return _render(essay, settings, script, voicing, art, out_dir, slug, wanted, progress, cancel)
    except BaseException:
        if created:  # a folder this render made is removed again if nothing else is in it
            with contextlib.suppress(OSError):
                (out_dir / LOCK_FILE).unlink(missing_ok=True)
                out_dir.rmdir()
        raise


def _render(
    essay: Essay,
    settings: RenderSettings,
    script: Script,
    voicing: Voicing,
    art: tuple[bytes, str] | None,
    out_dir: Path,
    slug: str,
    wanted: str,
    progress: Callable[[Progress], None] | None,
    cancel: threading.Event | None,
) -> Episode:
    """The render proper, once the essay has its checked settings and its own slug."""
    source = essay.source
    files = {
        "mp3": out_dir / f"{slug}.mp3",
        "chapters": out_dir / f"{slug}.chapters.json",
        "vtt": out_dir / f"{slug}.vtt",
        "srt": out_dir / f"{slug}.srt",
        "html": out_dir / f"{slug}.html",
    }
    guid, published = stable_identity(essay.metadata, out_dir, slug, wanted)

    with _open_cache(settings) as cache, staging() as stage:
        run = _Run(settings, cache, cancel or threading.Event(), progress)

        # Narrate every sentence (only what the cache lacks), then lay out pieces and pauses.
        narration = narrate(
            script, voicing, run.engine, cache,
            jobs=settings.jobs, progress=run.narrated, cancel=run.cancel,
        )  # fmt: skip
        layouts = lay_out(narration, settings.pauses)

        # One gain for the whole episode, from every chapter's loudness.
        steps = run.each(layouts, run.chapter_steps)
        gain = _episode_gain(steps, settings)

        # Limit and encode each chapter as its own MP3 stream; times come from its frames.
        # A peaky voice loses loudness to the limiter: raise the gain and encode again.
        for _ in range(LIMITER_PASSES):
            encoded = run.encode_all(layouts, gain)
            shortfall = _limiter_shortfall([c.limited for c in encoded], settings)
            if shortfall < GAIN_STEP_DB:
                break
            gain += round(shortfall / GAIN_STEP_DB) * GAIN_STEP_DB
        chapters, cues, duration = place(layouts, [c.frames for c in encoded])

        # Every output is staged under a temporary name, then all are moved into place at
        # once: the tagged MP3 (the tag, then the chapter streams), the sidecars, the art.
        mp3 = stage.file(files["mp3"])
        write_tags(mp3, essay.metadata, chapters, duration, describe(essay), art)
        with mp3.open("ab") as out:
            for chapter in encoded:
                out.write(run.stream(chapter.key))
        chapters_json = format_json_chapters(chapters, essay.metadata, files["mp3"].name)
        stage.write(files["chapters"], chapters_json)
        stage.write(files["vtt"], format_vtt(cues))
        stage.write(files["srt"], format_srt(cues))
        image = None
        if art is not None:
            image = out_dir / f"{slug}.cover.{'png' if art[1] == 'image/png' else 'jpg'}"
            stage.write(image, art[0])
        episode = Episode(
            source=source,
            metadata=essay.metadata,
            slug=slug,
            duration=duration,
            chapters=tuple(chapters),
            cues=tuple(cues),
            files=files,
            guid=guid,
            published=published,
            description=describe(essay),
            image=image,
        )
        # Talking books, when asked for: the same cues time their text.
        narrator = f"{settings.engine} (synthetic voice)"
        if "daisy" in settings.formats:
            files["daisy"], files["daisy_zip"] = write_daisy(episode, narrator, stage, mp3)
        if "epub" in settings.formats:
            files["epub"] = write_epub(episode, narrator, stage, mp3)
        # The page (the HTML transcript).
        write_assets(out_dir)
        podcast = read_podcast(out_dir)
        stage.write(files["html"], episode_page(episode, podcast, mp3.stat().st_size))
    # Last, the record, with every file's size and hash: its presence means the set is whole.
    write_record(episode)
    return episode


def _voicing(settings: RenderSettings) -> Voicing:
    """How this render's voice sounds, for the cache keys of its pieces. Creating a probe
    engine checks the engine and voice exist before anything is written."""
    probe = create_engine(settings.engine, settings.voice, settings.rate)
    try:
        return Voicing(probe.identity, settings.voice, settings.rate, probe.max_chars)
    finally:
        probe.close()


def read_essay(source: Path, settings: RenderSettings) -> tuple[Essay, Project]:
    """Parse the essay with the structure corrections of the folder and the command line."""
    project = find_project(source)
    structure = Structure(
        headings=settings.headings or project.settings.headings,
        skip=(*project.settings.skip, *settings.skip),
    )
    return load_essay(source, structure), project


def prepare(
    source: Path, settings: RenderSettings, explicit: frozenset[str] = frozenset()
) -> tuple[Essay, RenderSettings, Script]:
    """Parse the essay, settle its settings and write its narration script.

    ``audioessay script`` prints exactly this script, and ``render`` speaks exactly it.
    """
    essay, project = read_essay(source, settings)
    settings = settings.with_essay(project.settings, explicit)
    settings = settings.with_essay(essay.settings, explicit).validate()
    if essay.settings.language is None and project.settings.language:
        essay = replace(essay, metadata=replace(essay.metadata, language=project.settings.language))
    if settings.voice is None and "voice" not in explicit:
        # The voice follows the essay's language (front matter or audioessay.toml).
        voice = voice_for_language(settings.engine, essay.metadata.language)
        if voice is not None:
            settings = replace(settings, voice=voice)
        elif not essay.metadata.language.lower().startswith("en"):
            log.warning(
                "the %s engine has no voice for language %r; using its default voice",
                settings.engine, essay.metadata.language,
            )  # fmt: skip
    options = SpeechOptions(
        language=essay.metadata.language,
        lexicon=build_lexicon((*settings.essay_lexicons, *settings.lexicons), project),
        skip_citations=settings.skip_citations,
        alphabet=engine_alphabet(settings.engine),
    )
    script = write_script(essay, options)
    check_coverage(essay, script)  # no written word may go unspoken
    return essay, settings, script


@dataclass
class _Run:
    """What the stages of one render share: its settings, cache, cancellation and progress."""

    settings: RenderSettings
    cache: Cache
    cancel: threading.Event
    progress: Callable[[Progress], None] | None
    audio_seconds: float = 0.0

    def engine(self) -> Engine:
        """A new engine instance (one per narrating thread)."""
        return create_engine(self.settings.engine, self.settings.voice, self.settings.rate)

    def narrated(self, done: int, total: int, audio: float) -> None:
        self.audio_seconds = audio
        if self.progress is not None:
            self.progress(Progress("narrate", done, total, audio))

    def repair(self, piece: Piece) -> Samples:
        """Speak a piece again whose cached audio turned out to be damaged."""
        engine = self.engine()
        try:
            samples = Narrator(engine, self.settings.rate).speak_piece(piece.text)
        finally:
            engine.close()
        self.cache.store_piece(piece.key, samples, SAMPLE_RATE)
        return samples

    def each(
        self, layouts: list[ChapterLayout], func: Callable[[ChapterLayout], R], report: bool = False
    ) -> list[R]:
        """``func`` over every chapter on ``jobs`` threads, reporting encoding progress."""

        def done(count: int) -> None:
            if report and self.progress is not None:
                self.progress(Progress("encode", count, len(layouts), self.audio_seconds))

        done(0)
        return _parallel(layouts, func, self.settings.jobs, self.cancel, done)

    def chapter_steps(self, layout: ChapterLayout) -> np.ndarray:
        """The chapter's 100 ms loudness steps, from the cache or measured now."""
        blob = self.cache.load_blob("loudness", layout.key)
        if blob is not None:
            return np.frombuffer(blob, dtype="<f8")
        blocks = _checked(layout.blocks(self.cache, self.repair), self.cancel)
        steps = measure_steps(blocks, SAMPLE_RATE)
        self.cache.store_blob("loudness", layout.key, steps.astype("<f8").tobytes())
        return steps

    def encode_all(self, layouts: list[ChapterLayout], gain: float) -> list[EncodedChapter]:
        """Every chapter limited and encoded at ``gain``, on ``jobs`` threads."""
        return self.each(layouts, lambda layout: self.encode_chapter(layout, gain), report=True)

    def encode_chapter(self, layout: ChapterLayout, gain: float) -> EncodedChapter:
        """The chapter's MP3 stream: reused from the cache when nothing about it changed."""
        settings = self.settings
        key = content_key(
            "stream", layout.key, gain, settings.true_peak, encoder_identity(settings.bitrate)
        )
        stream = self.cache.load_blob("chapters", key)
        limited = self.cache.load_blob("loudness", key)
        if stream is None or limited is None:
            audio: Iterator[Samples | int] = _checked(
                layout.audio(self.cache, self.repair), self.cancel
            )
            meter = LoudnessMeter(SAMPLE_RATE)
            stream = encode_stream(
                audio,
                settings.bitrate,
                SAMPLE_RATE,
                gain_db=gain,
                ceiling_db=settings.true_peak,
                meter=meter,
            )
            limited = meter.steps.astype("<f8").tobytes()
            self.cache.store_blob("chapters", key, stream)
            self.cache.store_blob("loudness", key, limited)
        return EncodedChapter(key, count_frames(stream), np.frombuffer(limited, dtype="<f8"))

    def stream(self, key: str) -> bytes:
        """An encoded chapter stream, which must still be in the cache."""
        stream = self.cache.load_blob("chapters", key)
        if stream is None:
            raise AudioEssayError(
                "an encoded chapter vanished from the cache during the render; render again"
            )
        return stream


@contextlib.contextmanager
def _open_cache(settings: RenderSettings) -> Iterator[Cache]:
    """The configured cache; with ``--no-cache`` a private one that is deleted afterwards."""
    if settings.cache_dir is not None:
        yield Cache(settings.cache_dir)
        return
    with tempfile.TemporaryDirectory(prefix="audioessay-") as scratch:
        yield Cache(Path(scratch))


def _parallel(
    items: list[T],
    func: Callable[[T], R],
    jobs: int,
    cancel: threading.Event,
    on_done: Callable[[int], None] | None = None,
) -> list[R]:
    """``[func(x) for x in items]`` on ``jobs`` threads, in order, stoppable by ``cancel``."""
    if jobs <= 1 or len(items) <= 1:
        results = []
        for item in items:
            if cancel.is_set():
                raise RenderInterruptedError
            results.append(func(item))
            if on_done is not None:
                on_done(len(results))
        return results
    with ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="chapter") as pool:
        futures = [pool.submit(func, item) for item in items]
        try:
            for count, _ in enumerate(completed(futures, cancel), start=1):
                if on_done is not None:
                    on_done(count)
        except BaseException:
            cancel.set()
            for future in futures:
                future.cancel()
            raise
        return [future.result() for future in futures]


def _checked(items: Iterator[T], cancel: threading.Event) -> Iterator[T]:
    """Pass ``items`` through, stopping between two of them once the render is cancelled."""
    for item in items:
        if cancel.is_set():
            raise RenderInterruptedError
        yield item


def _episode_gain(steps: list[np.ndarray], settings: RenderSettings) -> float:
    """The gain (dB) that brings the episode to the target, on a 0.25 dB grid.

    The target is raised by LAME's own gain so that it holds in the encoded file. The grid
    keeps the gain, and so every unchanged chapter's encoded stream, the same when one section
    is edited, while the result depends on the essay alone (never on what was cached).
    """
    gap = _gap_to_target(steps, settings, "before normalisation")
    return round(gap / GAIN_STEP_DB) * GAIN_STEP_DB


def _limiter_shortfall(steps: list[np.ndarray], settings: RenderSettings) -> float:
    """How far (dB) below the target the limited audio came out; 0 when it is on target."""
    return max(0.0, _gap_to_target(steps, settings, "after the limiter"))


def _gap_to_target(steps: list[np.ndarray], settings: RenderSettings, stage: str) -> float:
    """Decibels to add to audio measured as ``steps`` to reach the (pre-LAME) target; 0 for
    silence."""
    measured = integrated_loudness(steps, SAMPLE_RATE // 10)
    if math.isinf(measured):
        return 0.0
    gap = settings.loudness - ENCODER_GAIN_DB - measured
    log.info("episode loudness %s: %.2f LUFS (%+.2f dB to the target)", stage, measured, gap)
    return gap


def place(
    layouts: list[ChapterLayout], frames: list[int]
) -> tuple[list[Chapter], list[Cue], float]:
    """Chapter and cue times in seconds, from each chapter stream's frame count."""
    chapters: list[Chapter] = []
    cues: list[Cue] = []
    start = 0
    for index, (layout, count) in enumerate(zip(layouts, frames, strict=True)):
        end = start + count * SAMPLES_PER_FRAME
        chapters.append(
            Chapter(
                layout.title, layout.level, start / SAMPLE_RATE, end / SAMPLE_RATE, layout.heading
            )
        )
        offset = start + ENCODER_DELAY
        cues.extend(
            Cue(
                (offset + c.start) / SAMPLE_RATE,
                (offset + c.end) / SAMPLE_RATE,
                c.text,
                index,
                c.paragraph,
            )
            for c in layout.cues
        )
        start = end
    return chapters, cues, start / SAMPLE_RATE


def describe(essay: Essay) -> str:
    """The episode description: front matter's, else the opening paragraph (about 300 chars)."""
    if essay.metadata.description:
        return essay.metadata.description
    for section in essay.sections:
        for paragraph in section.paragraphs:
            text = " ".join(s.text for s in paragraph.sentences)
            if len(text) <= 300:
                return text
            cut = text[:300].rsplit(" ", 1)[0]
            return cut + "…"
    return essay.metadata.title
