"""Ogg Opus: mono at 48 kHz, chapters and cover art in Vorbis comments.

Chapters follow the convention ffmpeg and players read (``CHAPTER001=00:00:00.000``,
``CHAPTER001NAME=Title``), and the cover is a FLAC picture block in ``METADATA_BLOCK_PICTURE``.
The encoder's priming (its pre-skip, 312 samples with libopus) is read from its own header,
written into the OpusHead, and counted in the granule positions, so a player skips exactly
that much of the first block and every chapter lands where the MP3's does.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from ._av import AvFormat, Codec, mux

if TYPE_CHECKING:
    from ..config import RenderSettings
    from ..model import Chapter, Metadata


class Opus(AvFormat):
    """Ogg Opus, mono, 48 kHz: the small alternate for slow links (24 kb/s by default)."""

    name: ClassVar[str] = "opus"
    extension: ClassVar[str] = ".opus"
    mime: ClassVar[str] = "audio/ogg"
    codecs: ClassVar[str] = "opus"
    label: ClassVar[str] = "Opus audio"
    gain_db: ClassVar[float] = -0.5
    """At 24 kb/s libopus keeps little above 12 kHz, which the K-weighting counts: decoded, seven
    documents measured 0.35 to 0.5 LU under what the encoder was given (ffmpeg's ebur128)."""
    headroom_db: ClassVar[float] = 1.5
    """Limited at the MP3's ceiling (-2 dBTP), its decoded true peak reached -1.1 dBTP on the
    reference essay (pyttsx3), where the MP3's is -2.3; limited 1.5 dB lower it is -2.2."""
    max_chapters: ClassVar[int] = 999
    """FFmpeg, and the players built on it, read ``CHAPTERnnn`` with three digits: a 1000th
    chapter's comment would be ignored."""
    codec: ClassVar[Codec] = Codec("libopus", 48000, "flt", (("application", "audio"),))

    @staticmethod
    def bitrate(settings: RenderSettings) -> int:
        return settings.opus_bitrate

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
        from mutagen.oggopus import OggOpus

        mux(path, "ogg", self.codec, streams)
        audio = OggOpus(path)
        tags = audio.tags
        assert tags is not None
        tags["TITLE"] = metadata.title
        tags["ALBUM"] = metadata.title
        if metadata.author:
            tags["ARTIST"] = metadata.author
        if metadata.date:  # (the pipeline gives the publication date when front matter has none)
            tags["DATE"] = metadata.date[:10]
        tags["LANGUAGE"] = metadata.language
        tags["DESCRIPTION"] = description
        for number, chapter in enumerate(chapters, start=1):
            tags[f"CHAPTER{number:03d}"] = _clock(chapter.start)
            tags[f"CHAPTER{number:03d}NAME"] = chapter.title
        if art is not None:
            tags["METADATA_BLOCK_PICTURE"] = picture_block(*art)
        audio.save()


def _clock(seconds: float) -> str:
    millis = round(seconds * 1000)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    return f"{hours:02d}:{minutes:02d}:{rest // 1000:02d}.{rest % 1000:03d}"


def picture_block(data: bytes, mime: str) -> str:
    """Cover art as a base64 FLAC picture block (type 3, front cover), as Vorbis comments
    carry it."""
    from io import BytesIO

    from mutagen.flac import Picture
    from PIL import Image

    picture = Picture()
    picture.type, picture.mime, picture.desc, picture.data = 3, mime, "Cover", data
    with Image.open(BytesIO(data)) as image:
        picture.width, picture.height = image.size
        picture.depth = 24
    return base64.b64encode(picture.write()).decode("ascii")
