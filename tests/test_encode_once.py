"""Encode once (issue 12): counted work, the limiter before LAME, DSP against references.

The counts come from the render's own ``work`` summary (``render --json``), which is counted
where LAME and the voice are actually called; loudness and peaks are judged by ffmpeg.
"""

from __future__ import annotations

import shutil
import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest

from audioessay.dsp import upsample
from audioessay.loudness import LoudnessMeter, apply_gain_and_limit, peak_envelope

from . import judges
from .conftest import REPO, write
from .test_render_real import render_cli

EXAMPLE = REPO / "examples" / "the-listening-room.md"
CHAPTERS = 4  # the bundled example: an opening and three headings


def edited(text: str) -> str:
    """The example with one sentence added to its second heading's section."""
    marker = "## What Makes Speech Clear\n\n"
    assert marker in text
    return text.replace(marker, marker + "One sentence was added here for the edit. ", 1)


@pytest.mark.real
def test_each_chapter_is_encoded_once_and_an_edit_re_encodes_one(tmp_path: Path) -> None:
    essay = tmp_path / "example.md"
    shutil.copy(EXAMPLE, essay)
    cache = ["--cache-dir", str(tmp_path / "cache"), "--engine", "espeak"]
    cold = render_cli(essay, tmp_path / "out", *cache, "-j", "2")
    assert len(cold["chapters"]) == CHAPTERS
    # Each block (an utterance and its pause) encoded once: the limiter was settled before LAME.
    assert cold["work"]["encoded"] == cold["work"]["blocks"] > CHAPTERS
    first = Path(cold["mp3"]).read_bytes()

    again = render_cli(essay, tmp_path / "out", *cache, "-j", "2")
    assert again["work"]["encoded"] == 0 and again["work"]["synthesized"] == 0
    assert Path(again["mp3"]).read_bytes() == first

    essay.write_text(edited(essay.read_text(encoding="utf-8")), encoding="utf-8")
    warm = render_cli(essay, tmp_path / "out", *cache, "-j", "2")
    assert warm["work"]["synthesized"] == 1  # the edited sentence and nothing else
    assert warm["work"]["encoded"] == 1  # its block alone: the gain did not move
    # The same bytes as a cold render of the edited essay, with one job and an empty cache.
    fresh = render_cli(
        essay, tmp_path / "fresh", "--cache-dir", str(tmp_path / "c2"), "--engine", "espeak",
        "-j", "1",
    )  # fmt: skip
    assert Path(fresh["mp3"]).read_bytes() == Path(warm["mp3"]).read_bytes()
    judges.check_episode(Path(warm["mp3"]), [c["title"] for c in warm["chapters"]])


@pytest.mark.real
def test_the_limiter_takes_loudness_and_the_chapter_is_still_encoded_once(tmp_path: Path) -> None:
    """eSpeak NG is peaky: at -19 LUFS its raw peaks pass the ceiling, so the limiter must take
    loudness away; the gain makes up for it before LAME, never by encoding again."""
    essay = tmp_path / "example.md"
    shutil.copy(EXAMPLE, essay)
    # A third party's view of the raw voice: espeak-ng's own WAV of the same text, brought to
    # -19 LUFS by a plain gain, would peak above -1 dBTP.
    raw = tmp_path / "raw.wav"
    subprocess.run([judges.require("espeak-ng"), "-w", str(raw), "-f", str(essay)], check=True)
    integrated, peak = judges.ebur128(raw)
    assert peak + (-19.0 - integrated) > -1.0  # plain gain would break the ceiling

    episode = render_cli(essay, tmp_path / "out", "--engine", "espeak", "--no-cache")
    assert episode["work"]["encoded"] == episode["work"]["blocks"]
    loudness, true_peak = judges.ebur128(Path(episode["mp3"]))
    assert abs(loudness - -19.0) <= 0.5, loudness
    assert true_peak <= -1.0, true_peak


@pytest.mark.real
def test_jobs_do_not_change_a_byte(tmp_path: Path) -> None:
    essay = tmp_path / "example.md"
    shutil.copy(EXAMPLE, essay)
    outputs = []
    for jobs in ("1", "2"):
        episode = render_cli(
            essay, tmp_path / f"out{jobs}", "--engine", "espeak", "--no-cache", "-j", jobs
        )
        outputs.append(Path(episode["mp3"]).read_bytes())
        outputs.append(Path(episode["files"]["transcript"]).read_bytes())
    assert outputs[0] == outputs[2] and outputs[1] == outputs[3]


def test_an_essay_far_from_the_voices_level_is_corrected(tmp_path: Path) -> None:
    """Three-word fragments between long pauses measure about 1 dB under the calibration
    passage: the one case where the chapters are encoded a second time, to land on target."""
    parts = ["# Fragments", "", "Short. Very short.", ""]
    for n in range(1, 5):
        parts += [f"## Part {n}", "", "One word. Two words here.", "", "Then three more.", ""]
    essay = write(tmp_path, "fragments.md", "\n".join(parts))
    episode = render_cli(essay, tmp_path / "out", "--engine", "fake", "--no-cache")
    assert episode["work"]["encoded"] == 2 * episode["work"]["blocks"]
    loudness, _ = judges.ebur128(Path(episode["mp3"]))
    assert abs(loudness - -19.0) <= 0.5, loudness


# -- DSP against independent references -----------------------------------------------------


def test_polyphase_upsampling_matches_filtering_the_zero_stuffed_signal() -> None:
    from audioessay.dsp import _lowpass

    rng = np.random.default_rng(3)
    x = rng.standard_normal(3000)
    for factor in (2, 4):
        taps = _lowpass(factor)
        stuffed = np.zeros(len(x) * factor)
        stuffed[::factor] = x
        delay = (len(taps) - 1) // 2
        reference = np.convolve(stuffed, taps)[delay : delay + len(stuffed)]
        assert np.abs(upsample(x, factor) - reference).max() < 1e-12


def test_true_peaks_match_oversampling_everything() -> None:
    rng = np.random.default_rng(4)
    x = (rng.standard_normal(20000) * 0.25).astype(np.float32)
    oversampled = np.abs(upsample(x.astype(np.float64), 4)).reshape(-1, 4).max(axis=1)
    assert np.abs(peak_envelope(x) - oversampled).max() < 1e-5


def test_the_limiter_holds_the_ceiling_by_ffmpegs_true_peak(tmp_path: Path) -> None:
    """On a burst band-limited like the voices' (22.05 kHz audio brought to 44.1 kHz)."""
    rng = np.random.default_rng(5)
    burst = upsample(rng.standard_normal(22050) * np.hanning(22050) * 0.3, 2)
    limited = apply_gain_and_limit(burst.astype(np.float32), 6.0, -2.0, 44100)
    path = tmp_path / "limited.wav"
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(44100)
        out.writeframes((np.clip(limited, -1, 32767 / 32768) * 32768).astype("<i2").tobytes())
    _, peak = judges.ebur128(path)
    assert peak <= -1.9, peak  # -2 dBTP, with ffmpeg's own interpolation error
    # The limiter is local: it only touches samples within 16 ms of one near the ceiling.
    gained = burst.astype(np.float32) * np.float32(10 ** (6 / 20))
    changed = limited != gained
    near = np.convolve(np.abs(gained) >= 10 ** (-5 / 20), np.ones(2 * 705 + 1), "same") > 0
    assert changed.any() and not (changed & ~near).any()
    assert changed.mean() < 0.9


def test_the_spectral_meter_agrees_with_an_iir_k_filter_on_speech() -> None:
    """The meter weighs each 100 ms step's spectrum; the textbook meter runs the two biquads
    (SciPy's lfilter here) over the whole signal. On real speech they agree to 0.02 LU."""
    from scipy.signal import lfilter

    from audioessay.loudness import _k_weighting, integrated_loudness

    espeak = judges.require("espeak-ng")
    out = subprocess.run(
        [espeak, "--stdout", "-f", str(EXAMPLE)], capture_output=True, check=True
    ).stdout
    samples = np.frombuffer(out[44:], dtype="<i2").astype(np.float64) / 32768
    speech = upsample(samples, 2)
    filtered = speech
    for b, a in _k_weighting(44100):
        filtered = lfilter(b, a, filtered)
    step = 4410
    whole = len(filtered) // step * step
    textbook = integrated_loudness([(filtered[:whole] ** 2).reshape(-1, step).sum(axis=1)], step)
    meter = LoudnessMeter(44100)
    for chunk in np.array_split(speech, 13):
        meter.feed(chunk)
    assert meter.integrated() == pytest.approx(textbook, abs=0.02)


# -- the MP3 format's timing, as ffmpeg decodes it ---------------------------------------------


def test_the_mp3_timing_is_what_ffmpeg_decodes(tmp_path: Path) -> None:
    """Blocks are laid out by the format's timing: a block of whole frames is one frame longer
    as a stream, and its first sample is decoded after the encoder's delay. ffprobe counts the
    frames, and ffmpeg's decoding puts a click exactly where the timing says."""
    from audioessay.errors import SettingsError
    from audioessay.formats import audio_format
    from audioessay.loudness import LoudnessMeter
    from audioessay.work import Work

    mp3 = audio_format("mp3")
    frame, lead = mp3.timing.frame, 20 * mp3.timing.frame
    click = np.zeros(2000, dtype=np.float32)
    click[1000] = 0.5
    audio = [lead, click, 30 * frame - lead - len(click)]  # 30 whole frames
    stream = mp3.encode(audio, 64, 44100, gain_db=0.0, ceiling_db=0.0,
                        meter=LoudnessMeter(44100), work=Work())  # fmt: skip
    path = tmp_path / "block.mp3"
    path.write_bytes(stream + stream)  # two blocks joined, as in an episode
    assert judges.frame_duration(path) * 44100 == 2 * (30 * frame + mp3.timing.joint)
    pcm = subprocess.run(
        [judges.require("ffmpeg"), "-v", "error", "-i", str(path), "-f", "s16le", "-ac", "1", "-"],
        capture_output=True, check=True,
    ).stdout  # fmt: skip
    decoded = np.abs(np.frombuffer(pcm, dtype="<i2").astype(np.float64))
    second = (30 * frame + mp3.timing.joint) + mp3.timing.delay + lead + 1000
    for expected in (mp3.timing.delay + lead + 1000, second):
        window = decoded[expected - 200 : expected + 200]
        assert int(np.argmax(window)) - 200 == 0, "the click is not where the timing puts it"
    with pytest.raises(SettingsError, match="unknown audio format 'wma'"):
        audio_format("wma")
