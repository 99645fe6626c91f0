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

        packets = list(_flushed(context, [np.zeros(context.frame_size, dtype=np.float32)]))
        priming = -packets[0].pts if packets and packets[0].pts is not None else 0
        return bytes(context.extradata or b""), context.frame_size, priming

    def stream(self, audio: Iterable[Samples], rate: int, bitrate: int, work: Work) -> bytes:
        """One block's samples (at ``rate``, as they come, a piece at a time) as framed
        packets. They are resampled to the codec's rate exactly as SciPy's ``resample_poly``
        would resample the whole block (:class:`PolyphaseStream`), and the encoder is fed a
        frame at a time: memory stays a piece, however long the block (a 20,000-word sentence
        took 2.7 GB as one array). A block is a whole number of frames at both rates."""
        import numpy as np

        context = self.open(bitrate)
        frame = context.frame_size
        chunks: Iterable[Samples] = audio
        if self.rate != rate:
            chunks = PolyphaseStream(*_ratio(rate, self.rate)).resample(audio, work)
        left = np.zeros(0, dtype=np.float32)

        def frames() -> Iterator[Samples]:
            nonlocal left
            for chunk in chunks:
                left = np.concatenate((left, chunk.astype(np.float32, copy=False)))
                whole = len(left) - len(left) % frame
                for start in range(0, whole, frame):
                    yield left[start : start + frame]
                left = left[whole:]

        stream = bytearray()
        try:
            for packet in _flushed(context, frames(), work):
                data = bytes(packet)
                stream += _LENGTH.pack(len(data)) + data
        except EncodeError:
            raise
        except Exception as exc:
            raise EncodeError(f"the {self.name} encoder failed: {exc}") from exc
        if len(left):
            raise EncodeError(f"a block is not whole {self.name} frames ({len(left)} left over)")
        return bytes(stream)


class PolyphaseStream:
    """SciPy's ``resample_poly(x, up, down)`` (its Kaiser-windowed filter, float32 in and
    out), computed a chunk at a time with the very same sums: each output is taken from a
    ``upfirdn`` over only the input it depends on, so the result equals the whole-array
    call sample for sample, while the memory held is one chunk and the filter's reach."""

    def __init__(self, up: int, down: int) -> None:
        import numpy as np
        from scipy.signal import firwin

        self.up, self.down = up, down
        reach = 10 * max(up, down)
        taps = firwin(2 * reach + 1, 1.0 / max(up, down), window=("kaiser", 5.0))
        taps = taps.astype(np.float32)  # as resample_poly does for float32 input
        taps *= up
        pad = down - reach % down  # so that the outputs fall on the input's own grid
        self.taps = np.concatenate((np.zeros(pad, dtype=np.float32), taps))
        self.skip = (reach + pad) // down
        """Outputs of the full convolution before the first one kept."""
        self.held = np.zeros(0, dtype=np.float32)
        self.base = 0
        """Index of ``held[0]`` in the whole input; ``base * up`` is a multiple of ``down``."""
        self.next = 0
        """The full convolution's next output to give."""
        self.seen = 0

    def resample(self, chunks: Iterable[Samples], work: Work) -> Iterator[Samples]:
        """The resampled signal, chunk by chunk."""
        import numpy as np

        for chunk in chunks:
            with work.timed("dsp"):
                self.held = np.concatenate((self.held, chunk.astype(np.float32, copy=False)))
                self.seen += len(chunk)
                out = self._through((self.seen - 1) * self.up // self.down)
            yield out
        with work.timed("dsp"):
            total = -(-self.seen * self.up // self.down)
            out = self._through(self.skip + total - 1)
        yield out

    def _through(self, last: int) -> Samples:
        """The kept outputs from :attr:`next` to ``last``, every input they need being held
        (inputs past the end are zeros, as in the whole-array call)."""
        import numpy as np
        from scipy.signal import upfirdn

        first = max(self.next, self.skip)
        if last < first:
            self.next = max(self.next, last + 1)
            return np.zeros(0, dtype=np.float32)
        offset = self.base * self.up // self.down
        full = upfirdn(self.taps, self.held, self.up, self.down)
        out = np.asarray(full[first - offset : last + 1 - offset], dtype=np.float32)
        self.next = last + 1
        needed = -(-(self.next * self.down - len(self.taps) + 1) // self.up)
        keep = max(self.base, max(0, needed) // self.down * self.down)
        self.held = self.held[keep - self.base :]
        self.base = keep
        return out


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

        pieces = (
            np.zeros(item, dtype=np.float32) if isinstance(item, int) else item
            for item in limited(audio, rate, gain_db, ceiling_db, meter, work)
        )
        return self.codec.stream(pieces, rate, bitrate, work)

    @staticmethod
    def frames(stream: bytes) -> int:
        """How many packets a cached stream holds (checking that their framing is whole)."""
        return sum(1 for _ in packets(stream))


def _ratio(rate: int, target: int) -> tuple[int, int]:
    from math import gcd

    common = gcd(rate, target)
    return target // common, rate // common


def _flushed(
    context: av.AudioCodecContext, chunks: Iterable[Samples], work: Work | None = None
) -> Iterator[av.Packet[Any]]:
    """Every packet of ``chunks`` (each one frame), the encoder flushed at the end; the time
    in the encoder itself is ``work``'s ``encode``. Packets are handed on as they come: a
    PyAV packet costs about a kilobyte of its own, and a long block has 100,000 of them."""
    import av

    from ..work import Work

    work = work or Work()
    pts = 0
    for chunk in chunks:
        frame = av.AudioFrame.from_ndarray(
            chunk.reshape(1, -1), format=context.format.name, layout="mono"
        )
        frame.sample_rate, frame.pts = context.sample_rate, pts
        pts += len(chunk)
        with work.timed("encode"):
            packets = context.encode(frame)
        yield from packets
    with work.timed("encode"):
        packets = context.encode(None)
    yield from packets


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
