"""MP4 audio: AAC-LC with both kinds of chapters, as a podcast alternate (M4A) or an audiobook
(M4B).

FFmpeg's MP4 muxer writes the two chapter forms players read: a QuickTime chapter text track
that the audio track references (``chap``), which Apple's players use, and Nero's ``chpl`` atom,
which many others use. The encoder's priming (1024 samples) is hidden by an edit list. Tags,
the ``covr`` cover and the audiobook media kind (``stik`` 2) are written by mutagen afterwards.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from ..tags import MAX_CHAPTERS
from ._av import AvFormat, Codec, mux

if TYPE_CHECKING:
    from ..config import RenderSettings
    from ..model import Chapter, Metadata


NERO_CHAPTERS = 255
NERO_TITLE_BYTES = 255


def cut_utf8(text: str, limit: int) -> str:
    """``text`` in at most ``limit`` bytes of UTF-8, cut between two characters."""
    data = text.encode("utf-8")
    return text if len(data) <= limit else data[:limit].decode("utf-8", "ignore")


class M4a(AvFormat):
    """AAC-LC in MP4 at 44.1 kHz, mono, at the MP3's bit rate: the alternate for Apple's apps
    and for Pocket Casts on iOS."""

    name: ClassVar[str] = "m4a"
    extension: ClassVar[str] = ".m4a"
    mime: ClassVar[str] = "audio/mp4"
    codecs: ClassVar[str] = "mp4a.40.2"
    label: ClassVar[str] = "AAC audio (M4A)"
    gain_db: ClassVar[float] = 0.0
    headroom_db: ClassVar[float] = 0.5
    max_chapters: ClassVar[int] = MAX_CHAPTERS
    """As many as the MP3 lists: the QuickTime chapter track has no limit of its own. (Nero's
    ``chpl`` counts its chapters in one byte: past 255 it is left out, see :meth:`write`.)"""
    """FFmpeg's AAC encoder with its fast coder peaked at -1.8 dBTP on the reference essay at
    the MP3's ceiling (its default two-loop coder, on blocks encoded apart: +0.9); 0.5 dB
    lower keeps a margin like the MP3's (-2.1 to -2.3 dBTP on eight documents)."""
    audiobook: ClassVar[bool] = False
    codec: ClassVar[Codec] = Codec("aac", 44100, "fltp", (("aac_coder", "fast"),))
    """FFmpeg's own AAC-LC encoder (LGPL; PyAV's wheels have no FDK AAC)."""

    @staticmethod
    def bitrate(settings: RenderSettings) -> int:
        return settings.bitrate

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
        from mutagen.mp4 import MP4, MP4Cover

        # The index first (faststart), so that apps can start playing before the download ends.
        from ..tags import language_code

        language = language_code(metadata.language)
        # Nero's chpl counts chapters in one byte and holds a title in at most 255 bytes
        # (FFmpeg cuts a longer one mid-character, which mutagen then refuses to read):
        # titles are cut at a character, and past 255 chapters only the QuickTime chapter
        # track is written, which Apple's players, FFmpeg and mutagen read.
        flags = "+faststart" if len(chapters) <= NERO_CHAPTERS else "+faststart+disable_chpl"
        titled = [replace(c, title=cut_utf8(c.title, NERO_TITLE_BYTES)) for c in chapters]
        mux(path, "ipod", self.codec, streams, titled, {"movflags": flags}, language)
        audio = MP4(path)
        tags = audio.tags
        assert tags is not None
        tags["\xa9nam"] = [metadata.title]
        tags["\xa9alb"] = [metadata.title]
        if metadata.author:
            tags["\xa9ART"] = [metadata.author]
            tags["aART"] = [metadata.author]
        if metadata.date:  # (the pipeline gives the publication date when front matter has none)
            tags["\xa9day"] = [metadata.date[:10]]
        tags["desc"] = [description[:255]]
        tags["ldes"] = [description]
        if self.audiobook:
            tags["stik"] = [2]  # media kind: audiobook
        if art is not None:
            kind = MP4Cover.FORMAT_PNG if art[1] == "image/png" else MP4Cover.FORMAT_JPEG
            tags["covr"] = [MP4Cover(art[0], imageformat=kind)]
        audio.save()


class M4b(M4a):
    """The same AAC as the M4A, in an ``.m4b`` tagged as an audiobook, for Apple Books,
    Audiobookshelf, BookPlayer and Smart AudioBook Player."""

    name: ClassVar[str] = "m4b"
    extension: ClassVar[str] = ".m4b"
    mime: ClassVar[str] = "audio/mp4"
    label: ClassVar[str] = "Audiobook (M4B)"
    audiobook: ClassVar[bool] = True
