"""The audio-format protocol and the timing every format declares (see :mod:`audioessay.formats`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, Protocol

if TYPE_CHECKING:
    from ..config import RenderSettings
    from ..engines import Samples
    from ..loudness import LoudnessMeter
    from ..model import Chapter, Metadata
    from ..work import Work


@dataclass(frozen=True)
class Timing:
    """How a format's streams sit on the episode's timeline, in samples."""

    frame: int
    """Samples per frame (or packet): a block's length is made a whole number of them."""
    delay: int
    """Samples a decoder outputs before a stream's first input sample."""
    joint: int
    """Samples that joining two streams of whole frames adds between their audio."""
    trim: int = 0
    """Samples the container tells a player to skip at the start of the file: Opus's pre-skip
    and an MP4 edit list hide the first stream's delay; MP3 (with no LAME header) has none."""

    @property
    def lead(self) -> int:
        """Where the first block's audio starts in the decoded file."""
        return self.delay - self.trim


class AudioFormat(Protocol):
    """One audio format: encoder, timing, container, MIME type (see the module docstring)."""

    name: ClassVar[str]
    extension: ClassVar[str]
    """The file's extension, with its dot."""
    mime: ClassVar[str]
    codecs: ClassVar[str]
    """The codec as RFC 6381 names it (``podcast:alternateEnclosure``'s ``codecs``)."""
    label: ClassVar[str]
    """What listeners are offered it as, on pages and in the feed ("Opus audio")."""
    gain_db: ClassVar[float]
    """What the encoder itself does to the level (dB); the target is lowered by it first."""
    headroom_db: ClassVar[float]
    """How much further below the true-peak setting this codec's input is limited, for the
    overshoot its quantisation adds beyond MP3's (which the setting's margin already holds)."""
    max_chapters: ClassVar[int]
    """The most chapters the container can list so that players read every one back."""

    @property
    def timing(self) -> Timing:
        """How this format's streams sit on the timeline (read off the encoder where it can)."""
        ...

    def bitrate(self, settings: RenderSettings) -> int:
        """The bit rate (kb/s) this render encodes at."""
        ...

    def identity(self, bitrate: int) -> str:
        """What decides the encoded bytes besides the audio: part of each stream's cache key."""
        ...

    def encode(
        self,
        audio: Iterable[Samples | int],
        bitrate: int,
        rate: int,
        *,
        gain_db: float,
        ceiling_db: float,
        meter: LoudnessMeter,
        work: Work,
    ) -> bytes:
        """One block's pieces (samples) and silences (lengths) as a stream, at ``gain_db``
        with the true peak held at ``ceiling_db``; ``meter`` hears what the encoder gets."""
        ...

    def frames(self, stream: bytes) -> int:
        """How many frames ``stream`` holds (checking that it is whole)."""
        ...

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
        """The file at ``path``: its tags and chapters, then the streams joined in order."""
        ...
