"""``render()``: essay in, episode out. Reads top to bottom like the pipeline diagram.

    parse → narrate (cached pieces) → lay out → measure each chapter → one gain
          → limit + encode each chapter (cached streams) → place chapters and cues
          → tag + join streams → write sidecars

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
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import numpy as np

from .assemble import ChapterLayout, Repair, lay_out
from .cache import Cache, content_key
from .config import RenderSettings
from .encode import (
    ENCODER_DELAY,
    ENCODER_GAIN_DB,
    SAMPLES_PER_FRAME,
    count_frames,
    encode_stream,
    encoder_identity,
)
from .engines import Engine, Samples, create_engine
from .errors import AudioEssayError, RenderInterruptedError
from .files import atomic_path, episode_slug, prepare_output_dir, write_atomic
from .loudness import integrated_loudness, measure_steps
from .model import Chapter, Cue, Episode, Essay, Progress
from .narrate import SAMPLE_RATE, Narrator, Piece, Voicing, completed, narrate
from .parse import load_essay
from .tags import write_tags
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
    # Read and parse; settings: defaults < front matter < flags.
    essay = load_essay(source)
    settings = settings.with_essay(essay.settings, explicit).validate()
    out_dir = prepare_output_dir(settings.output_dir)
    slug = episode_slug(essay.metadata.title, source)
    cancel = cancel or threading.Event()

    with _open_cache(settings) as cache:
        # Narrate every sentence (only what the cache lacks), then lay out pieces and pauses.
        probe = create_engine(settings.engine, settings.voice, settings.rate)
        voicing = Voicing(probe.identity, settings.voice, settings.rate, probe.max_chars)
        probe.close()

        def engines() -> Engine:
            return create_engine(settings.engine, settings.voice, settings.rate)

        def narrated(done: int, total: int, audio: float) -> None:
            if progress is not None:
                progress(Progress("narrate", done, total, audio))

        narration = narrate(
            essay, voicing, engines, cache, jobs=settings.jobs, progress=narrated, cancel=cancel
        )
        layouts = lay_out(narration, settings.pauses)

        def repair(piece: Piece) -> Samples:
            engine = engines()
            try:
                samples = Narrator(engine, settings.rate).speak_piece(piece.text)
            finally:
                engine.close()
            cache.store_piece(piece.key, samples, SAMPLE_RATE)
            return samples

        audio_seconds = sum(layout.length for layout in layouts) / SAMPLE_RATE

        def encoded_one(done: int) -> None:
            if progress is not None:
                progress(Progress("encode", done, len(layouts), audio_seconds))

        # One gain for the whole episode, from every chapter's loudness.
        steps = _parallel(
            layouts,
            lambda layout: _chapter_steps(layout, cache, repair, cancel),
            settings.jobs,
            cancel,
        )
        gain = _episode_gain(steps, settings)

        # Limit and encode each chapter as its own MP3 stream; times come from its frames.
        encoded_one(0)
        encoded = _parallel(
            layouts,
            lambda layout: _encode_chapter(layout, cache, repair, gain, settings, cancel),
            settings.jobs,
            cancel,
            encoded_one,
        )
        chapters, cues, duration = place(layouts, [c.frames for c in encoded])

        # Write the tagged MP3 (tag first, then the streams) and the sidecars, each atomically.
        files = {
            "mp3": out_dir / f"{slug}.mp3",
            "chapters": out_dir / f"{slug}.chapters.json",
            "vtt": out_dir / f"{slug}.vtt",
            "srt": out_dir / f"{slug}.srt",
        }
        with atomic_path(files["mp3"]) as tmp:
            write_tags(tmp, essay.metadata, chapters, duration, describe(essay), settings.cover)
            with tmp.open("ab") as out:
                for chapter in encoded:
                    out.write(_load_stream(cache, chapter.key))
    write_atomic(
        files["chapters"], format_json_chapters(chapters, essay.metadata, files["mp3"].name)
    )
    write_atomic(files["vtt"], format_vtt(cues))
    write_atomic(files["srt"], format_srt(cues))
    return Episode(
        source=source,
        metadata=essay.metadata,
        slug=slug,
        duration=duration,
        chapters=tuple(chapters),
        cues=tuple(cues),
        files=files,
    )


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


def _chapter_steps(
    layout: ChapterLayout, cache: Cache, repair: Repair, cancel: threading.Event
) -> np.ndarray:
    """The chapter's 100 ms loudness steps, from the cache or measured now."""
    blob = cache.load_blob("loudness", layout.key)
    if blob is not None:
        return np.frombuffer(blob, dtype="<f8")
    steps = measure_steps(_checked(layout.blocks(cache, repair), cancel), SAMPLE_RATE)
    cache.store_blob("loudness", layout.key, steps.astype("<f8").tobytes())
    return steps


def _episode_gain(steps: list[np.ndarray], settings: RenderSettings) -> float:
    """The gain (dB) that brings the episode to the target, on a 0.25 dB grid.

    The target is raised by LAME's own gain so that it holds in the encoded file. The grid
    keeps the gain, and so every unchanged chapter's encoded stream, the same when one section
    is edited, while the result depends on the essay alone (never on what was cached).
    """
    measured = integrated_loudness(steps, SAMPLE_RATE // 10)
    log.info("episode loudness before normalisation: %.2f LUFS", measured)
    if math.isinf(measured):
        return 0.0
    ideal = settings.loudness - ENCODER_GAIN_DB - measured
    return round(ideal / GAIN_STEP_DB) * GAIN_STEP_DB


def _encode_chapter(
    layout: ChapterLayout,
    cache: Cache,
    repair: Repair,
    gain: float,
    settings: RenderSettings,
    cancel: threading.Event,
) -> EncodedChapter:
    """The chapter's MP3 stream: reused from the cache when nothing about it changed."""
    key = content_key(
        "stream", layout.key, gain, settings.true_peak, encoder_identity(settings.bitrate)
    )
    stream = cache.load_blob("chapters", key)
    if stream is None:
        audio: Iterator[Samples | int] = _checked(layout.audio(cache, repair), cancel)
        stream = encode_stream(
            audio, settings.bitrate, SAMPLE_RATE, gain_db=gain, ceiling_db=settings.true_peak
        )
        cache.store_blob("chapters", key, stream)
    return EncodedChapter(key, count_frames(stream))


def _load_stream(cache: Cache, key: str) -> bytes:
    stream = cache.load_blob("chapters", key)
    if stream is None:
        raise AudioEssayError(
            "an encoded chapter vanished from the cache during the render; render again"
        )
    return stream


def place(
    layouts: list[ChapterLayout], frames: list[int]
) -> tuple[list[Chapter], list[Cue], float]:
    """Chapter and cue times in seconds, from each chapter stream's frame count."""
    chapters: list[Chapter] = []
    cues: list[Cue] = []
    start = 0
    for layout, count in zip(layouts, frames, strict=True):
        end = start + count * SAMPLES_PER_FRAME
        chapters.append(Chapter(layout.title, layout.level, start / SAMPLE_RATE, end / SAMPLE_RATE))
        offset = start + ENCODER_DELAY
        cues.extend(
            Cue((offset + c.start) / SAMPLE_RATE, (offset + c.end) / SAMPLE_RATE, c.text)
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
