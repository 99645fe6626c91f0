"""``render()``: essay in, episode out. Reads top to bottom like the pipeline diagram.

parse → narrate → lay out → measure loudness → normalise + limit → encode per chapter
      → place chapters and cues from the frames written → tag → write sidecars
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path

from .assemble import ChapterLayout, lay_out
from .config import RenderSettings
from .encode import ENCODER_DELAY, ENCODER_GAIN_DB, SAMPLES_PER_FRAME, encode_mp3
from .engines import create_engine
from .files import atomic_path, episode_slug, prepare_output_dir, write_atomic
from .loudness import LoudnessMeter, apply_gain_and_limit
from .model import Chapter, Cue, Episode, Essay
from .narrate import SAMPLE_RATE, ProgressCallback, narrate
from .parse import load_essay
from .tags import write_tags
from .transcript import format_json_chapters, format_srt, format_vtt

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EncodedChapter:
    """A chapter's MP3 stream and how many frames it holds."""

    data: bytes
    frames: int


def render(
    source: Path,
    settings: RenderSettings,
    explicit: frozenset[str] = frozenset(),
    progress: ProgressCallback | None = None,
) -> Episode:
    """Render the essay at ``source`` into a tagged, chaptered MP3 and its sidecar files.

    ``explicit`` names the settings the user gave on the command line, which win over the
    essay's front matter.
    """
    # Read and parse; settings: defaults < front matter < flags.
    essay = load_essay(source)
    settings = settings.with_essay(essay.settings, explicit).validate()
    out_dir = prepare_output_dir(settings.output_dir)
    slug = episode_slug(essay.metadata.title, source)

    # Narrate every sentence, then lay the pieces and pauses out chapter by chapter.
    engine = create_engine(settings.engine, settings.voice, settings.rate)
    try:
        narration = narrate(essay, engine, settings.rate, progress)
    finally:
        engine.close()
    layouts = lay_out(narration, settings.pauses)

    # One gain for the whole episode, then a true-peak limiter, then one MP3 stream per chapter.
    # The loudness target is raised by LAME's own gain so that it holds in the encoded file;
    # the peak ceiling is not, since encoding adds overshoot that the margin must absorb.
    gain = loudness_gain(layouts, settings.loudness - ENCODER_GAIN_DB)
    ceiling = settings.true_peak
    encoded = [
        EncodedChapter(
            *encode_mp3(
                apply_gain_and_limit(layout.render(), gain, ceiling, SAMPLE_RATE), settings.bitrate
            )
        )
        for layout in layouts
    ]

    # Chapter and cue times come from the frames actually written.
    chapters, cues, duration = place(layouts, [c.frames for c in encoded])

    # Write the tagged MP3 and the sidecars, each atomically.
    files = {
        "mp3": out_dir / f"{slug}.mp3",
        "chapters": out_dir / f"{slug}.chapters.json",
        "vtt": out_dir / f"{slug}.vtt",
        "srt": out_dir / f"{slug}.srt",
    }
    with atomic_path(files["mp3"]) as tmp:
        tmp.write_bytes(b"".join(c.data for c in encoded))
        write_tags(tmp, essay.metadata, chapters, duration, describe(essay), settings.cover)
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


def loudness_gain(layouts: list[ChapterLayout], target: float) -> float:
    """The gain (dB) that brings the whole episode to ``target`` LUFS."""
    meter = LoudnessMeter(SAMPLE_RATE)
    for layout in layouts:
        meter.feed(layout.render())
    measured = meter.integrated()
    log.info("episode loudness before normalisation: %.2f LUFS", measured)
    return 0.0 if math.isinf(measured) else target - measured


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
