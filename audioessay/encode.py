"""PCM to CBR MP3 with LAME (the ``lameenc`` wheel), one independent stream per chapter.

Each stream starts with LAME's delay and ends with its padding, so times are computed from
the frames actually written (1152 samples each), never from PCM lengths.
"""

from __future__ import annotations

import math

import numpy as np

from .engines import Samples
from .errors import EncodeError

SAMPLES_PER_FRAME = 1152
ENCODER_DELAY = 1105
"""Samples of silence a decoder outputs before a stream's first input sample (576 + 529)."""
ENCODER_GAIN_DB = 20 * math.log10(0.95)
"""LAME scales mono input by 0.95 (-0.45 dB), measured on a sine and on speech with ffmpeg's
ebur128; the pipeline compensates, and the loudness test re-measures the encoded file."""
_BITRATES = (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320)
_RATES = (44100, 48000, 32000)


def to_pcm16(samples: Samples) -> bytes:
    """Float samples to little-endian 16-bit PCM, clipped."""
    return (np.clip(samples, -1.0, 32767 / 32768) * 32768).astype("<i2").tobytes()


def encode_mp3(samples: Samples, bitrate: int, rate: int = 44100) -> tuple[bytes, int]:
    """Encode mono float samples; return the MP3 bytes and their number of frames."""
    import lameenc

    try:
        encoder = lameenc.Encoder()
        encoder.set_bit_rate(bitrate)
        encoder.set_in_sample_rate(rate)
        encoder.set_channels(1)
        encoder.set_quality(3)  # LAME's own default noise shaping
        data = bytes(encoder.encode(to_pcm16(samples))) + bytes(encoder.flush())
    except Exception as exc:  # lameenc raises bare exceptions
        raise EncodeError(f"the MP3 encoder failed: {exc}") from exc
    return data, count_frames(data)


def count_frames(data: bytes) -> int:
    """Count MPEG-1 Layer III frames, checking that they tile the data exactly."""
    pos = frames = 0
    while pos < len(data):
        if len(data) - pos < 4 or data[pos] != 0xFF or (data[pos + 1] & 0xFE) != 0xFA:
            raise EncodeError(f"the MP3 encoder wrote an invalid frame at byte {pos}")
        bitrate = _BITRATES[data[pos + 2] >> 4] * 1000
        rate = _RATES[(data[pos + 2] >> 2) & 3] if ((data[pos + 2] >> 2) & 3) < 3 else 0
        if not bitrate or not rate:
            raise EncodeError(f"the MP3 encoder wrote an unsupported frame at byte {pos}")
        pos += 144 * bitrate // rate + ((data[pos + 2] >> 1) & 1)
        frames += 1
    if pos != len(data):
        raise EncodeError("the MP3 encoder's output ends in a partial frame")
    return frames
