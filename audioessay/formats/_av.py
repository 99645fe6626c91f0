"""Encoding blocks and muxing packets with FFmpeg's libraries, through PyAV's wheel.

PyAV (BSD-3-Clause) ships FFmpeg built under the LGPL with libopus, so Opus and AAC need no
system package and no ffmpeg binary. A block is encoded by a fresh encoder into packets, which
are kept in the cache framed by their lengths; the container writer muxes every block's packets
in order with consecutive timestamps. Joining independently encoded streams is exact in time
for the same reason as MP3's: every block is a whole number of the codec's frames, so each
adds exactly one frame (the encoder's priming) and the joints fall in the pause that ends it.
"""

from __future__ import annotations

import fractions
import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache, cached_property
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from ..encode import limited
from ..errors import EncodeError
from .base import Timing

if TYPE_CHECKING:
    import av

    from ..engines import Samples
    from ..loudness import LoudnessMeter
    from ..model import Chapter
    from ..work import Work

_LENGTH = struct.Struct("<H")
"""Each packet in a cached stream is preceded by its length."""


@dataclass(frozen=True)
class Codec:
    """One FFmpeg audio encoder as a format uses it."""

    name: str
    """FFmpeg's encoder name (``aac``, ``libopus``)."""
    rate: int
    """The rate the codec runs at; blocks are resampled to it when it differs from theirs."""
    sample_format: str
    options: tuple[tuple[str, str], ...] = ()

    def identity(self, bitrate: int) -> str:
        """Everything besides the audio that decides the packets (a cache-key part)."""
        options = ",".join(f"{k}={v}" for k, v in self.options)
        return f"av {version('av')} {self.name} {self.rate} {bitrate}k {options}"

    def open(self, bitrate: int) -> av.AudioCodecContext:
        import av

        try:
            context = av.CodecContext.create(self.name, "w")
            assert isinstance(context, av.AudioCodecContext)
            context.sample_rate = self.rate
            context.layout = "mono"
            context.format = self.sample_format
            context.bit_rate = bitrate * 1000
            context.options = dict(self.options)
            context.open()
        except av.FFmpegError as exc:
            raise EncodeError(f"the {self.name} encoder could not start: {exc}") from exc
        return context

    @cache  # noqa: B019 (one per codec, for the life of the process)
    def header(self) -> tuple[bytes, int, int]:
        """The codec's header (its extradata), its frame size and its priming in samples,
        read off the encoder itself rather than assumed (the Opus pre-skip is in its header).
        None of them depends on the bit rate."""
        context = self.open(64)
        import numpy as np

        packets = _flushed(context, [np.zeros(context.frame_size, dtype=np.float32)])
        priming = -packets[0].pts if packets and packets[0].pts is not None else 0
        return bytes(context.extradata or b""), context.frame_size, priming

    def stream(self, samples: Samples, rate: int, bitrate: int) -> bytes:
        """One block's samples (at ``rate``) as framed packets, resampled to the codec's rate
        exactly: a block is a whole number of frames at both rates."""
        import numpy as np

        if self.rate != rate:
            from scipy.signal import resample_poly

            up, down = _ratio(rate, self.rate)
            samples = resample_poly(samples, up, down).astype(np.float32)
        context = self.open(bitrate)
        frame = context.frame_size
        if len(samples) % frame:
            raise EncodeError(f"a block of {len(samples)} samples is not whole {self.name} frames")
        try:
            packets = _flushed(
                context, (samples[s : s + frame] for s in range(0, len(samples), frame))
            )
        except Exception as exc:
            raise EncodeError(f"the {self.name} encoder failed: {exc}") from exc
        return b"".join(_LENGTH.pack(len(data)) + data for data in map(bytes, packets))


class AvFormat:
    """What every format encoded through FFmpeg shares: its codec makes, names and counts the
    streams. Subclasses give the container (``write``), the names and the levels."""

    codec: ClassVar[Codec]

    @cached_property
    def timing(self) -> Timing:
        """Frames and priming as the encoder reports them, in the timeline's own samples
        (a 20 ms Opus packet of 960 at 48 kHz is 882 at 44.1 kHz); the container hides the
        first stream's priming (Opus pre-skip, the MP4 edit list)."""
        from ..narrate import SAMPLE_RATE

        _, frame, priming = self.codec.header()
        per = SAMPLE_RATE / self.codec.rate
        step, lead = round(frame * per), round(priming * per)
        return Timing(step, lead, step, lead)

    def identity(self, bitrate: int) -> str:
        return self.codec.identity(bitrate)

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
        """One block, limited like every format's input, as the codec's framed packets."""
        import numpy as np

        parts = [
            np.zeros(item, dtype=np.float32) if isinstance(item, int) else item
            for item in limited(audio, rate, gain_db, ceiling_db, meter, work)
        ]
        with work.timed("encode"):
            samples = np.concatenate(parts).astype(np.float32) if parts else np.zeros(0, np.float32)
            return self.codec.stream(samples, rate, bitrate)

    @staticmethod
    def frames(stream: bytes) -> int:
        """How many packets a cached stream holds (checking that their framing is whole)."""
        return sum(1 for _ in packets(stream))


def _ratio(rate: int, target: int) -> tuple[int, int]:
    from math import gcd

    common = gcd(rate, target)
    return target // common, rate // common


def _flushed(context: av.AudioCodecContext, chunks: Iterable[Samples]) -> list[av.Packet[Any]]:
    """Every packet of ``chunks`` (each one frame), the encoder flushed at the end."""
    import av

    packets: list[av.Packet[Any]] = []
    pts = 0
    for chunk in chunks:
        frame = av.AudioFrame.from_ndarray(
            chunk.reshape(1, -1), format=context.format.name, layout="mono"
        )
        frame.sample_rate, frame.pts = context.sample_rate, pts
        pts += len(chunk)
        packets.extend(context.encode(frame))
    packets.extend(context.encode(None))
    return packets


def packets(stream: bytes) -> Iterator[bytes]:
    """The packets of one cached stream, checking that their framing tiles it exactly."""
    position = 0
    while position < len(stream):
        if len(stream) - position < _LENGTH.size:
            raise EncodeError("an encoded stream ends in a partial packet")
        (length,) = _LENGTH.unpack_from(stream, position)
        position += _LENGTH.size
        if position + length > len(stream):
            raise EncodeError("an encoded stream ends in a partial packet")
        yield stream[position : position + length]
        position += length


def mux(
    path: Path,
    container: str,
    codec: Codec,
    streams: Iterable[bytes],
    chapters: list[Chapter] | None = None,
    options: dict[str, str] | None = None,
    language: str | None = None,
) -> None:
    """Every stream's packets into one file, in order, each frame after the last; the first
    starts at minus the priming, which the container then hides (pre-skip, edit list).
    ``options`` are the muxer's own (``movflags``); ``language`` is the track's (ISO 639-2)."""
    import av

    header, frame, priming = codec.header()
    # Bit-exact: FFmpeg's Ogg muxer otherwise draws a random stream serial, and the MP4
    # muxer names its own version; the same streams must make the same file (the cache's
    # and a cluster's promise, and a feed's SHA-384 that changes only with the audio).
    settings = {"fflags": "+bitexact", **(options or {})}
    out = av.open(str(path), "w", format=container, options=settings)
    try:
        stream = out.add_stream(codec.name, rate=codec.rate)
        assert isinstance(stream, av.AudioStream)
        stream.codec_context.layout = "mono"
        stream.codec_context.extradata = header
        if language:
            stream.metadata["language"] = language
        base = fractions.Fraction(1, codec.rate)
        stream.time_base = base
        if chapters:
            milli = fractions.Fraction(1, 1000)
            out.set_chapters([
                {"id": number, "start": round(c.start * 1000), "end": round(c.end * 1000),
                 "time_base": milli, "metadata": {"title": c.title}}
                for number, c in enumerate(chapters, start=1)
            ])  # fmt: skip
        pts = -priming
        for data in streams:
            for payload in packets(data):
                packet = av.Packet(payload)
                packet.pts = packet.dts = pts
                packet.duration, packet.time_base, packet.stream = frame, base, stream
                out.mux(packet)
                pts += frame
    finally:
        out.close()
