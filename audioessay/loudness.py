"""Loudness by ITU-R BS.1770-4 and a true-peak limiter: one gain for the whole episode.

The meter is fed chapter by chapter and keeps only one energy value per 100 ms, so measuring
a long episode needs no whole-episode buffer. The limiter works on a 4x oversampled signal,
since MP3 decoding reconstructs the peaks between samples.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from .dsp import FIRFilter, biquad_impulse_response, moving_average, running_min, upsample_rows
from .engines import Samples

_ABSOLUTE_GATE = -70.0
_RELATIVE_GATE = -10.0
OVERSAMPLE = 4
_BLOCK = 4096
_CONTEXT = 32
"""Samples of context on each side of a block, so the resampling filter sees its neighbours."""
_NEAR = 10 ** (-3 / 20)
"""Blocks whose sample peak is within 3 dB of the ceiling are oversampled."""


@lru_cache(maxsize=4)
def _k_weighting_fir(rate: int) -> npt.NDArray[np.float64]:
    """The K-weighting filter as a 16384-tap FIR (its impulse response has died out by then)."""
    return biquad_impulse_response(_k_weighting(rate), 16384)


def _k_weighting(rate: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """The two biquads of BS.1770's K-weighting, designed for ``rate`` (as libebur128 does)."""
    f0, gain_db, q = 1681.974450955533, 3.999843853973347, 0.7071752369554196
    k = math.tan(math.pi * f0 / rate)
    vh = 10 ** (gain_db / 20)
    vb = vh**0.4996667741545416
    a0 = 1 + k / q + k * k
    shelf_b = np.array(
        [(vh + vb * k / q + k * k) / a0, 2 * (k * k - vh) / a0, (vh - vb * k / q + k * k) / a0]
    )
    shelf_a = np.array([1.0, 2 * (k * k - 1) / a0, (1 - k / q + k * k) / a0])
    f0, q = 38.13547087602444, 0.5003270373238773
    k = math.tan(math.pi * f0 / rate)
    a0 = 1 + k / q + k * k
    high_b = np.array([1.0, -2.0, 1.0])
    high_a = np.array([1.0, 2 * (k * k - 1) / a0, (1 - k / q + k * k) / a0])
    return [(shelf_b, shelf_a), (high_b, high_a)]


class LoudnessMeter:
    """Integrated loudness (LUFS) of a mono signal fed in consecutive chunks."""

    def __init__(self, rate: int) -> None:
        self.rate = rate
        self._filter = FIRFilter(_k_weighting_fir(rate))
        self._step = rate // 10  # 100 ms: blocks are 400 ms with 75 % overlap
        self._carry = np.zeros(0)
        self._energies: list[float] = []  # sum of squares per 100 ms step

    def feed(self, samples: Samples) -> None:
        """Add the next stretch of audio."""
        y = np.concatenate([self._carry, self._filter(samples.astype(np.float64))])
        whole = len(y) // self._step * self._step
        if whole:
            steps = (y[:whole] ** 2).reshape(-1, self._step).sum(axis=1)
            self._energies.extend(steps.tolist())
        self._carry = y[whole:]

    @property
    def steps(self) -> npt.NDArray[np.float64]:
        """Sum of squares of the K-weighted signal for every whole 100 ms step so far."""
        return np.asarray(self._energies, dtype=np.float64)

    def integrated(self) -> float:
        """Gated integrated loudness; ``-inf`` for silence or less than 400 ms."""
        return integrated_loudness([self.steps], self._step)


def integrated_loudness(parts: Iterable[npt.NDArray[np.float64]], step: int) -> float:
    """Gated integrated loudness (BS.1770-4) of consecutive stretches given as 100 ms steps.

    Each chapter is measured on its own and the steps are joined here; the few blocks that
    would straddle a chapter boundary are lost, which changes nothing measurable since every
    chapter ends in a pause.
    """
    blocks_list = [(s[:-3] + s[1:-2] + s[2:-1] + s[3:]) / (4 * step) for s in parts if len(s) >= 4]
    if not blocks_list:
        return -math.inf
    blocks = np.concatenate(blocks_list)
    with np.errstate(divide="ignore"):
        loudness = -0.691 + 10 * np.log10(blocks)
    gated = blocks[loudness > _ABSOLUTE_GATE]
    if not len(gated):
        return -math.inf
    relative = -0.691 + 10 * math.log10(gated.mean()) + _RELATIVE_GATE
    gated = blocks[(loudness > _ABSOLUTE_GATE) & (loudness > relative)]
    return -0.691 + 10 * math.log10(gated.mean())


def measure_steps(blocks: Iterable[Samples], rate: int) -> npt.NDArray[np.float64]:
    """The 100 ms energy steps of a stretch of audio given as consecutive blocks."""
    meter = LoudnessMeter(rate)
    for block in blocks:
        meter.feed(block)
    return meter.steps


def peak_envelope(samples: Samples, floor: float = 0.0) -> Samples:
    """Per-sample peak of the 4x oversampled signal, where the sample peak reaches ``floor``.

    Inter-sample peaks of speech exceed sample peaks by well under 3 dB, so blocks whose
    samples stay below ``floor`` keep their plain absolute values and are not oversampled:
    that is most of a recording, and it makes limiting an episode take a fraction of a second.
    """
    envelope = np.abs(samples).astype(np.float32)
    n = len(samples)
    if not n:
        return envelope
    blocks = -(-n // _BLOCK)
    padded = np.zeros(blocks * _BLOCK + 2 * _CONTEXT, dtype=np.float32)
    padded[_CONTEXT : _CONTEXT + n] = samples
    block_peaks = (
        np.abs(padded[_CONTEXT : _CONTEXT + blocks * _BLOCK]).reshape(blocks, _BLOCK).max(axis=1)
    )
    chosen = np.flatnonzero(block_peaks >= floor)
    for first in range(0, len(chosen), 256):  # bounded memory for long stretches
        group = chosen[first : first + 256]
        index = (group * _BLOCK)[:, None] + np.arange(_BLOCK + 2 * _CONTEXT)[None, :]
        up = upsample_rows(padded[index].astype(np.float64), OVERSAMPLE)
        core = up[:, OVERSAMPLE * _CONTEXT : OVERSAMPLE * (_CONTEXT + _BLOCK)]
        peaks = np.abs(core).reshape(len(group), _BLOCK, OVERSAMPLE).max(axis=2)
        for row, block in enumerate(group):
            start = int(block) * _BLOCK
            stop = min(n, start + _BLOCK)
            envelope[start:stop] = np.maximum(envelope[start:stop], peaks[row, : stop - start])
    return envelope


def true_peak(samples: Samples) -> float:
    """Peak of the 4x oversampled signal, in dBTP."""
    peak = float(peak_envelope(samples).max()) if len(samples) else 0.0
    return 20 * math.log10(peak) if peak > 0 else -math.inf


def apply_gain_and_limit(samples: Samples, gain_db: float, ceiling_db: float, rate: int) -> Samples:
    """Apply ``gain_db``, then hold every true peak at or below ``ceiling_db``.

    The gain reduction needed at each sample (from the oversampled peaks) is spread by a
    running minimum over 2 x 5 ms and then smoothed over 5 ms, so the gain is already down when
    a peak arrives and recovers without clicks.
    """
    out = samples.astype(np.float32) * np.float32(10 ** (gain_db / 20))
    if not len(out):
        return out
    ceiling = 10 ** (ceiling_db / 20)
    over = peak_envelope(out, floor=ceiling * _NEAR)
    if over.max() <= ceiling:
        return out
    need = np.minimum(1.0, ceiling / np.maximum(over, 1e-12))
    window = max(1, int(0.005 * rate))
    smooth = moving_average(running_min(need.astype(np.float64), 2 * window + 1), window)
    gain = np.minimum(smooth, need).astype(np.float32)  # smoothing must never let a peak through
    limited: Samples = out * gain
    return limited
