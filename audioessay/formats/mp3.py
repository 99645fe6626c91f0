"""MP3: CBR LAME streams (``lameenc``), joined, behind one ID3v2.3 tag with chapters.

LAME writes n / 1152 + 1 frames for n samples when n is a whole number of frames (measured),
and a decoder outputs 1105 samples (576 + 529) before a stream's first input sample. So a block
of whole frames costs exactly one frame more than its audio, and the joints fall in the
silence at the end of each block.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from ..encode import (
    ENCODER_DELAY,
    ENCODER_GAIN_DB,
    SAMPLES_PER_FRAME,
    count_frames,
    encode_stream,
    encoder_identity,
)
from ..tags import MAX_CHAPTERS
from .base import Timing

if TYPE_CHECKING:
    from ..config import RenderSettings
    from ..model import Chapter, Metadata


class Mp3:
    """CBR MP3 at 44.1 kHz, mono, with ID3v2.3 chapters (STANDARDS: the podcast default)."""

    name: ClassVar[str] = "mp3"
    extension: ClassVar[str] = ".mp3"
    mime: ClassVar[str] = "audio/mpeg"
    codecs: ClassVar[str] = "mp3"
    label: ClassVar[str] = "MP3 audio"
    timing: ClassVar[Timing] = Timing(SAMPLES_PER_FRAME, ENCODER_DELAY, SAMPLES_PER_FRAME)
    gain_db: ClassVar[float] = ENCODER_GAIN_DB
    headroom_db: ClassVar[float] = 0.0
    max_chapters: ClassVar[int] = MAX_CHAPTERS
    """Two levels of ID3 tables of contents of 255 entries each."""

    @staticmethod
    def bitrate(settings: RenderSettings) -> int:
        return settings.bitrate

    identity = staticmethod(encoder_identity)
    encode = staticmethod(encode_stream)
    frames = staticmethod(count_frames)

    def write(
        self,
        path: Path,
        metadata: Metadata,
        chapters: list[Chapter],
        duration: float,
        description: str,
        art: tuple[bytes, str] | None,
        streams: Iterable[bytes],
    ) -> None:
        from ..tags import write_tags

        write_tags(path, metadata, chapters, duration, description, art)
        with path.open("ab") as out:
            out.writelines(streams)
