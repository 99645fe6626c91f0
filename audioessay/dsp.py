"""Small signal-processing pieces in NumPy alone.

SciPy would provide all of them, but importing ``scipy.signal`` takes about a second, which is
a third of a warm re-render of an essay; these are the few operations the pipeline needs.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import numpy.typing as npt

Floats = npt.NDArray[np.float64]
_TAPS_PER_PHASE = 20
_KAISER_BETA = 5.0


@lru_cache(maxsize=8)
def _lowpass(factor: int) -> Floats:
    """A windowed-sinc low-pass at the original Nyquist, for upsampling by ``factor``."""
    half = _TAPS_PER_PHASE * factor // 2
    n = np.arange(-half, half + 1)
    taps: Floats = np.sinc(n / factor) * np.kaiser(2 * half + 1, _KAISER_BETA)
    normalised: Floats = taps * (factor / float(taps.sum()))
    return normalised


def upsample(x: npt.NDArray[np.floating], factor: int) -> Floats:
    """``x`` at ``factor`` times its rate (polyphase FIR; same length times ``factor``)."""
    if factor == 1:
        return np.asarray(x, dtype=np.float64)
    taps = _lowpass(factor)
    stuffed = np.zeros(len(x) * factor)
    stuffed[::factor] = x
    full = np.convolve(stuffed, taps)
    delay = (len(taps) - 1) // 2
    return full[delay : delay + len(stuffed)]


def upsample_rows(rows: Floats, factor: int) -> Floats:
    """:func:`upsample` applied to every row of a 2-D array."""
    return np.vstack([upsample(row, factor) for row in rows]) if len(rows) else rows


def running_min(x: Floats, window: int) -> Floats:
    """Minimum over a centred window of odd length ``window`` (van Herk / Gil-Werman)."""
    if window <= 1 or len(x) == 0:
        return x.copy()
    half = window // 2
    padded = np.concatenate([np.full(half, np.inf), x, np.full(half + window, np.inf)])
    blocks = -(-len(padded) // window)
    padded = np.concatenate([padded, np.full(blocks * window - len(padded), np.inf)])
    grid = padded.reshape(blocks, window)
    prefix = np.minimum.accumulate(grid, axis=1).ravel()
    suffix = np.minimum.accumulate(grid[:, ::-1], axis=1)[:, ::-1].ravel()
    i = np.arange(len(x))
    return np.minimum(suffix[i], prefix[i + window - 1])


def moving_average(x: Floats, window: int) -> Floats:
    """Mean over a centred window of ``window`` samples (edges averaged over what exists)."""
    if window <= 1 or len(x) == 0:
        return x.copy()
    sums = np.concatenate([[0.0], np.cumsum(x)])
    lo = np.clip(np.arange(len(x)) - window // 2, 0, len(x))
    hi = np.clip(lo + window, 0, len(x))
    mean: Floats = (sums[hi] - sums[lo]) / (hi - lo)
    return mean


class FIRFilter:
    """A long FIR filter applied block by block with FFT overlap-add, keeping its state."""

    def __init__(self, taps: Floats) -> None:
        self.taps = taps
        self._tail = np.zeros(len(taps) - 1)

    def __call__(self, block: npt.NDArray[np.floating]) -> Floats:
        """Filter the next block; the part of its response beyond it is carried over."""
        n, extra = len(block), len(self.taps) - 1
        size = 1 << math.ceil(math.log2(n + extra))
        out = np.fft.irfft(np.fft.rfft(block, size) * self._spectrum(size), size)[: n + extra]
        out[:extra] += self._tail
        self._tail = out[n:].copy()
        return out[:n]

    @lru_cache(maxsize=4)  # noqa: B019 - a handful of FFT sizes per filter
    def _spectrum(self, size: int) -> npt.NDArray[np.complex128]:
        return np.fft.rfft(self.taps, size)


def biquad_impulse_response(sections: list[tuple[Floats, Floats]], length: int) -> Floats:
    """Impulse response of cascaded biquads ``(b, a)``, from their exact frequency response."""
    size = 1 << math.ceil(math.log2(4 * length))
    z = np.exp(-1j * np.pi * np.arange(size // 2 + 1) / (size // 2))
    response = np.ones(len(z), dtype=complex)
    for b, a in sections:
        response *= np.polyval(b[::-1], z) / np.polyval(a[::-1], z)
    return np.fft.irfft(response, size)[:length]
