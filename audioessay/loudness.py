"""Loudness by ITU-R BS.1770-4, a true-peak limiter, and the policy that sets the gain.

The meter is fed chapter by chapter and keeps only one energy value per 100 ms, so measuring
a long episode needs no whole-episode buffer. The limiter works on a 4x oversampled signal,
since MP3 decoding reconstructs the peaks between samples.

**Why the gain comes from the voice.** ../shared/STANDARDS.md asks for one gain for the whole
episode, so that levels do not jump at chapter boundaries. Computing it from the finished
episode has two costs: no chapter can be encoded before the last one is spoken, and a one-
sentence edit that moves the measured loudness across a rounding boundary changes the gain and
so every chapter's encoded bytes. A synthetic voice, though, speaks every text at nearly the
same loudness: over eleven real documents (essays, Gutenberg books, 18F pages) the eSpeak NG
voice measured -21.34 to -21.08 LUFS before gain. So the gain is settled once per voice, rate
and target on a calibration passage, limiter included (:func:`calibrated_gain`), and every
chapter is encoded with it as soon as it is spoken. The output stays a function of the essay
and its settings alone, and an edit never changes the gain.

The essay is still measured, on exactly what the encoder was given: an unusual text that comes
out further than :data:`CORRECTION_DB` from the target (a page of figures, say) is encoded once
more at a corrected gain (:func:`correction`). That is the only case in which a chapter is
encoded twice, and it depends on the essay alone too.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Sequence
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from .dsp import moving_average, polyphase_matrix, running_min
from .engines import Samples

log = logging.getLogger(__name__)

_ABSOLUTE_GATE = -70.0
_RELATIVE_GATE = -10.0
OVERSAMPLE = 4
_BLOCK = 256
_CONTEXT = 16
"""Samples of context on each side of a block, so the resampling filter sees its neighbours."""
_NEAR = 10 ** (-3 / 20)
"""Blocks whose sample peak is within 3 dB of the ceiling are oversampled."""
GAIN_STEP_DB = 0.1
"""Gains are rounded to this step, so they do not depend on rounding noise in a measurement."""
CORRECTION_DB = 0.4
"""An essay that measures further than this from the target is encoded again, corrected: the
judges' tolerance is 0.5 LU, and our meter agrees with ffmpeg's to about 0.05."""
LIMITER_PASSES = 4
"""At most this many trial gains on the calibration passage to make up what the limiter took."""


@lru_cache(maxsize=4)
def _k_weights(rate: int) -> npt.NDArray[np.float64]:
    """Per-bin weights that turn a 100 ms step's spectrum into its K-weighted energy.

    By Parseval, the energy of the K-weighted step is the sum over frequency of the step's
    power spectrum times the filter's squared magnitude response. Treating each step on its
    own (a circular convolution) ignores the filter's memory across step boundaries; on nine
    minutes of eSpeak NG speech that changed the integrated loudness by 0.001 LU, and it costs
    one real FFT per step: 0.21 s where an FFT overlap-add FIR took 1.2 s.
    """
    size = rate // 10
    z = np.exp(-2j * np.pi * np.arange(size // 2 + 1) / size)
    response = np.ones(len(z), dtype=complex)
    for b, a in _k_weighting(rate):
        response *= np.polyval(b[::-1], z) / np.polyval(a[::-1], z)
    weights: npt.NDArray[np.float64] = np.abs(response) ** 2 * (2 / size)
    weights[0] /= 2  # DC and (for even sizes) Nyquist appear once in a real spectrum
    if size % 2 == 0:
        weights[-1] /= 2
    return weights


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
        self._weights = _k_weights(rate)
        self._step = rate // 10  # 100 ms: blocks are 400 ms with 75 % overlap
        self._carry = np.zeros(0)
        self._energies: list[float] = []  # K-weighted sum of squares per 100 ms step

    def feed(self, samples: Samples) -> None:
        """Add the next stretch of audio."""
        y = np.concatenate([self._carry, samples.astype(np.float64)])
        whole = len(y) // self._step
        if whole:
            spectra = np.fft.rfft(y[: whole * self._step].reshape(whole, self._step), axis=1)
            power = spectra.real**2 + spectra.imag**2
            self._energies.extend((power @ self._weights).tolist())
        self._carry = y[whole * self._step :]

    def silence(self, length: int) -> None:
        """Add ``length`` samples of silence (whole silent steps need no transform)."""
        fill = min(length, (-len(self._carry)) % self._step) if len(self._carry) else 0
        if fill:
            self.feed(np.zeros(fill, dtype=np.float32))
        rest = length - fill
        if len(self._carry):  # the carry is still short of a step
            self.feed(np.zeros(rest, dtype=np.float32))
            return
        self._energies.extend([0.0] * (rest // self._step))
        self._carry = np.zeros(rest % self._step)

    @property
    def steps(self) -> npt.NDArray[np.float64]:
        """K-weighted sum of squares for every whole 100 ms step so far."""
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


def peak_envelope(samples: Samples, floor: float = 0.0) -> Samples:
    """Per-sample peak of the 4x oversampled signal, where the sample peak reaches ``floor``.

    Inter-sample peaks of speech exceed sample peaks by well under 3 dB, so short blocks whose
    samples stay below ``floor`` keep their plain absolute values and are not oversampled. With
    256-sample blocks that leaves about a tenth of a voice's audio to oversample even at the
    gain the limiter works hardest at, and each group of those blocks is oversampled at once,
    of blocks as a few dozen whole-array multiply-adds (:func:`audioessay.dsp.polyphase_matrix`).
    """
    envelope = np.abs(samples).astype(np.float32)
    n = len(samples)
    if not n:
        return envelope
    blocks = -(-n // _BLOCK)
    tail = np.zeros(blocks * _BLOCK - n, dtype=np.float32)
    block_peaks = np.concatenate([envelope, tail]).reshape(blocks, _BLOCK).max(axis=1)
    chosen = np.flatnonzero(block_peaks >= floor)
    if not len(chosen):
        return envelope
    margin = np.zeros(_CONTEXT, dtype=np.float32)
    padded = np.concatenate([margin, samples.astype(np.float32), tail, margin])
    first, matrix = polyphase_matrix(OVERSAMPLE)
    offsets = np.arange(_BLOCK + 2 * _CONTEXT)
    for start in range(0, len(chosen), 256):  # bounded memory for long stretches
        group = chosen[start : start + 256]
        rows = padded[(group * _BLOCK)[:, None] + offsets[None, :]]
        peaks = np.abs(rows[:, _CONTEXT : _CONTEXT + _BLOCK])
        scratch = np.empty_like(peaks)
        for phase in range(1, OVERSAMPLE):  # phase 0 is the samples themselves
            acc = np.zeros_like(peaks)
            for j, weight in enumerate(matrix[:, phase]):
                if weight:
                    lo = _CONTEXT + first + j
                    np.multiply(rows[:, lo : lo + _BLOCK], np.float32(weight), out=scratch)
                    acc += scratch
            np.maximum(peaks, np.abs(acc, out=acc), out=peaks)
        for row, block in enumerate(group):
            lo = int(block) * _BLOCK
            hi = min(n, lo + _BLOCK)
            envelope[lo:hi] = peaks[row, : hi - lo]  # the phase-0 samples are in it already
    return envelope


def true_peak(samples: Samples) -> float:
    """Peak of the 4x oversampled signal, in dBTP."""
    peak = float(peak_envelope(samples).max()) if len(samples) else 0.0
    return 20 * math.log10(peak) if peak > 0 else -math.inf


def apply_gain_and_limit(samples: Samples, gain_db: float, ceiling_db: float, rate: int) -> Samples:
    """Apply ``gain_db``, then hold every true peak at or below ``ceiling_db``.

    The gain reduction needed at each sample (from the oversampled peaks) is spread by a
    running minimum over 2 x 5 ms and then smoothed over 5 ms, so the gain is already down when
    a peak arrives and recovers without clicks. Reduction is only ever needed within 15 ms of a
    peak over the ceiling, so it is worked out on those stretches alone.
    """
    out = samples.astype(np.float32) * np.float32(10 ** (gain_db / 20))
    if not len(out):
        return out
    ceiling = 10 ** (ceiling_db / 20)
    over = peak_envelope(out, floor=ceiling * _NEAR)
    hot = np.flatnonzero(over > ceiling)
    if not len(hot):
        return out
    window = max(1, int(0.005 * rate))
    reach = 2 * window + 2  # how far from a peak the smoothed gain can differ from 1
    breaks = np.flatnonzero(np.diff(hot) > 2 * reach)
    for lo_peak, hi_peak in zip(
        hot[np.concatenate([[0], breaks + 1])], hot[np.concatenate([breaks, [len(hot) - 1]])], strict=True
    ):
        lo, hi = max(0, int(lo_peak) - reach), min(len(out), int(hi_peak) + reach + 1)
        need = np.minimum(1.0, ceiling / np.maximum(over[lo:hi].astype(np.float64), 1e-12))
        smooth = moving_average(running_min(need, 2 * window + 1), window)
        out[lo:hi] *= np.minimum(smooth, need).astype(np.float32)  # never let a peak through
    return out


def _grid(db: float) -> float:
    return round(db / GAIN_STEP_DB) * GAIN_STEP_DB


def _limited_steps(
    audio: Sequence[Samples | int], gain_db: float, ceiling_db: float, rate: int
) -> npt.NDArray[np.float64]:
    """The 100 ms steps of ``audio`` (pieces and silences) after gain and limiter."""
    meter = LoudnessMeter(rate)
    for item in audio:
        if isinstance(item, int):
            meter.silence(item)
        else:
            meter.feed(apply_gain_and_limit(item, gain_db, ceiling_db, rate))
    return meter.steps


def calibrated_gain(
    audio: Sequence[Samples | int], target: float, ceiling_db: float, rate: int
) -> float:
    """The gain (dB, on the grid) that brings ``audio``, once limited, to ``target`` LUFS.

    A peaky voice loses loudness to the limiter; each pass raises the gain by what the last one
    lost, so the limited passage lands within half a grid step of the target.
    """
    measured = integrated_loudness([_limited_steps(audio, 0.0, math.inf, rate)], rate // 10)
    if math.isinf(measured):
        return 0.0
    gain = _grid(target - measured)
    for _ in range(LIMITER_PASSES):
        limited = integrated_loudness([_limited_steps(audio, gain, ceiling_db, rate)], rate // 10)
        shortfall = target - limited
        log.info(
            "calibration at %+.2f dB: %.2f LUFS (%+.2f dB to the target)", gain, limited, shortfall
        )
        if abs(shortfall) < GAIN_STEP_DB / 2:
            break
        gain += _grid(shortfall)
    return gain


def correction(steps: list[npt.NDArray[np.float64]], target: float, gain: float, rate: int) -> float | None:
    """A corrected gain when the encoded essay (its limited ``steps``) missed the target by more
    than :data:`CORRECTION_DB`, else None."""
    measured = integrated_loudness(steps, rate // 10)
    if math.isinf(measured):
        return None
    gap = target - measured
    log.info("episode loudness: %.2f LUFS (%+.2f dB to the target)", measured, gap)
    if abs(gap) <= CORRECTION_DB:
        return None
    return gain + _grid(gap)
