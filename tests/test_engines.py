"""Engines, the registry, and the narrator's verification and retries."""

from __future__ import annotations

import re
import subprocess
import wave
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest

from audioessay.engines import Speech, Voice, create_engine, engine_names
from audioessay.engines.pyttsx3 import Pyttsx3Engine
from audioessay.errors import EngineError
from audioessay.loudness import LoudnessMeter, true_peak
from audioessay.narrate import ATTEMPTS, Narrator, split_for_voice

from . import judges


def test_builtin_engines_come_from_entry_points() -> None:
    assert {"pyttsx3", "espeak", "fake"} <= set(engine_names())
    with pytest.raises(EngineError, match="unknown engine 'x'; available engines: "):
        create_engine("x")


class Flaky:
    """An engine that returns truncated audio, or fails, a set number of times first."""

    name: ClassVar[str] = "flaky"
    max_chars: ClassVar[int] = 200

    def __init__(self, bad: int, raise_instead: bool = False) -> None:
        self.bad = bad
        self.calls = 0
        self.raise_instead = raise_instead

    def voices(self) -> list[Voice]:
        return []

    def synthesize(self, text: str) -> Speech:
        self.calls += 1
        words = len(text.split())
        if self.calls <= self.bad:
            if self.raise_instead:
                raise EngineError("worker crashed")
            return Speech(np.full(100, 0.3, dtype=np.float32), 22050)  # 5 ms: truncated
        return Speech(np.full(words * 8000, 0.3, dtype=np.float32), 22050)

    def close(self) -> None:
        pass


def test_truncated_audio_is_detected_and_retried() -> None:
    engine = Flaky(bad=2)
    speech = Narrator(engine, 175).speak_piece("A sentence of exactly seven words here.")
    assert engine.calls == 3  # two failures, then success
    assert len(speech.samples) == 7 * 16000
    assert speech.words is None  # this voice gives no word times


def test_a_piece_that_keeps_failing_stops_the_render_naming_the_sentence() -> None:
    for engine in (Flaky(bad=99), Flaky(bad=99, raise_instead=True)):
        with pytest.raises(
            EngineError, match=re.escape(f"failed {ATTEMPTS} times on the sentence “The doomed sentence.”")
        ):
            Narrator(engine, 175).speak_piece("The doomed sentence.")


def test_long_sentences_split_at_clauses_then_words() -> None:
    sentence = ", ".join(f"clause number {i} goes on for a while" for i in range(20)) + "."
    pieces = split_for_voice(sentence, 200)
    assert " ".join(pieces) == sentence
    assert all(len(p) <= 200 for p in pieces)
    assert all(p.endswith((",", ".")) for p in pieces)
    word = "x" * 450
    assert split_for_voice(word, 200) == ["x" * 200, "x" * 200, "x" * 50]


def test_pyttsx3_speaks_and_survives_its_worker_dying() -> None:
    engine = Pyttsx3Engine(voice=None, rate=175)
    try:
        first = Narrator(engine, 175).speak_piece("The worker speaks this sentence.")
        assert len(first.samples) > 44100  # retried as in narration: pyttsx3 fails now and then
        assert engine._process is not None
        engine._process.kill()  # a native crash, as far as the parent can tell
        engine._process.wait()
        again = Narrator(engine, 175).speak_piece("And after a crash it speaks again.")
        assert len(again.samples) > 44100
    finally:
        engine.close()


def test_pyttsx3_voices_and_voice_selection() -> None:
    voices = create_engine("pyttsx3").voices()
    ids = {v.id for v in voices}
    assert "gmw/en-us" in ids and len(ids) > 50
    engine = create_engine("pyttsx3", "gmw/en-us", 200)
    try:
        assert len(Narrator(engine, 200).speak_piece("Hello.").samples) > 0.2 * 44100
    finally:
        engine.close()


def test_espeak_engine_long_text_in_one_call() -> None:
    engine = create_engine("espeak", None, 175)
    speech = engine.synthesize(" ".join(["window"] * 60) + ".")
    assert speech.duration > 60 * 0.25


def test_loudness_meter_agrees_with_ffmpeg(tmp_path: Path) -> None:
    rate = 44100
    t = np.arange(rate * 6) / rate
    envelope = 0.5 + 0.5 * np.sin(2 * np.pi * 0.5 * t)
    signal = (
        0.3 * envelope * np.sin(2 * np.pi * 997 * t) + 0.05 * np.sin(2 * np.pi * 6000 * t)
    ).astype(np.float32)
    path = tmp_path / "tone.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes((signal * 32767).astype("<i2").tobytes())
    meter = LoudnessMeter(rate)
    for chunk in np.array_split(signal, 7):  # fed in pieces, as the pipeline does
        meter.feed(chunk)
    integrated, peak = judges.ebur128(path)
    assert meter.integrated() == pytest.approx(integrated, abs=0.15)
    assert true_peak(signal) == pytest.approx(peak, abs=0.3)


def test_no_chatter_reaches_stdout(tmp_path: Path) -> None:
    essay = tmp_path / "quiet.md"
    essay.write_text("# Quiet\n\nOne sentence. Two sentences.\n")
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "audioessay", "render", str(essay), "-o", str(tmp_path / "o")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert "Audio saved" not in result.stderr


@pytest.mark.parametrize("name", ["pyttsx3", "espeak"])
def test_same_text_gives_the_same_audio_whatever_came_before(name: str) -> None:
    """eSpeak NG carries state between utterances; each piece must start from a clean one,
    or the content-addressed cache and byte-identical --jobs output would be lies."""
    texts = [
        "The lighthouse keeper counts the ships at dusk.",
        "It was a quiet evening, but the harbour was busy: boats came and went.",
        "The Listening Room.",
    ]
    runs = []
    for order in (texts, texts[::-1]):
        engine = create_engine(name, None, 175)
        try:
            narrator = Narrator(engine, 175)
            runs.append({t: narrator.speak_piece(t) for t in order})
        finally:
            engine.close()
    for text in texts:
        assert np.array_equal(runs[0][text].samples, runs[1][text].samples), text
        assert runs[0][text].words == runs[1][text].words, text


def test_pyttsx3_speaks_every_piece_whole_at_the_first_attempt(tmp_path: Path) -> None:
    """The races in pyttsx3's driver (its runAndWait returning before the file is written, its
    stop() cancelling the next utterance) used to spoil about 15 % of pieces here; mended, 60
    pieces in a row are whole, each checked sample for sample against eSpeak NG itself."""
    from audioessay.engines.pyttsx3 import Pyttsx3Speaker

    speaker = Pyttsx3Speaker(None, 175)
    texts = ["The kettle sings before the rain arrives.", "Nobody minds the long road home.",
             "Twelve lamps were lit along the harbour wall."]  # fmt: skip
    for n in range(60):
        path = tmp_path / f"piece-{n}.wav"
        speaker.speak(texts[n % 3], str(path))  # raises on a missing, empty or short file
        with wave.open(str(path)) as piece:
            assert piece.getnframes() > 22050


def test_pyttsx3_output_shorter_than_espeak_reference_is_rejected(tmp_path: Path) -> None:
    """Should pyttsx3 ever lose the end of an utterance without a sign, the worker compares
    every piece with eSpeak NG's own rendering and reports the loss, so it is retried."""
    from audioessay.engines.pyttsx3 import Pyttsx3Speaker

    speaker = Pyttsx3Speaker(None, 175)
    text = "The kettle sings before the rain arrives."
    path = tmp_path / "piece.wav"
    speaker.speak(text, str(path))  # the real thing passes
    with wave.open(str(path)) as whole:
        frames = whole.getnframes()
        data = whole.readframes(frames)

    def truncated(text: str, wav: str) -> str:
        with wave.open(wav, "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(22050)
            out.writeframes(data[: 2 * (frames - 3000)])
        return "gmw/en"

    speaker._speak = truncated  # type: ignore[method-assign]
    with pytest.raises(
        RuntimeError, match=f"wrote {frames - 3000} samples where eSpeak NG renders {frames}"
    ):
        speaker.speak(text, str(path))
