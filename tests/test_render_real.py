"""Real tier: the default pyttsx3 voice, the real encoder, judged by third-party readers."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from audioessay.parse import load_essay

from . import judges
from .conftest import REPO, write
from .test_parse import reference_headings

pytestmark = pytest.mark.real


def render_cli(essay: Path, out: Path, *options: str) -> dict[str, Any]:
    """`audioessay render --json` in a subprocess; stdout must be the JSON and nothing else."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "audioessay",
            "render",
            str(essay),
            "-o",
            str(out),
            "--json",
            *options,
        ],
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert result.returncode == 0, result.stderr
    summary: dict[str, Any] = json.loads(result.stdout)  # fails on any chatter
    (episode,) = summary["episodes"]
    return episode  # type: ignore[no-any-return]


def check_transcripts(episode: dict[str, Any], essay: Path) -> None:
    """Every sentence of the essay has a cue, in order, valid by the W3C parser."""
    vtt = Path(episode["files"]["vtt"])
    errors, cue_count = judges.vtt_errors(vtt)
    assert errors == []
    parsed = load_essay(essay)
    sentences = [s.text for sec in parsed.sections for p in sec.paragraphs for s in p.sentences]
    srt_blocks = Path(episode["files"]["srt"]).read_text(encoding="utf-8").strip().split("\n\n")
    assert len(srt_blocks) == cue_count
    cue_texts = [" ".join(block.split("\n")[2:]) for block in srt_blocks]
    joined = " ".join(cue_texts)
    position = 0
    for sentence in sentences:  # each sentence appears, in order
        found = joined.find(sentence, position)
        assert found >= 0, sentence
        position = found + len(sentence)
    chapters = json.loads(Path(episode["files"]["chapters"]).read_text(encoding="utf-8"))
    assert chapters["version"] == "1.2.0"
    assert [c["title"] for c in chapters["chapters"]] == [c["title"] for c in episode["chapters"]]


def test_reference_essay_with_the_default_voice(reference: Path, tmp_path: Path) -> None:
    episode = render_cli(reference, tmp_path / "out")
    titles = ["Leaving Las Vegas", *reference_headings(reference)]
    assert [c["title"] for c in episode["chapters"]] == titles
    judges.check_episode(Path(episode["mp3"]), titles)
    check_transcripts(episode, reference)
    # 1,500 words at 175 wpm is about 8.5 minutes; pauses add a little.
    assert 420 < episode["duration"] < 720


def test_emerson_corpus_with_the_default_voice(shared: Path, tmp_path: Path) -> None:
    essays = sorted((shared / "corpus" / "emerson").glob("*.md"))
    assert len(essays) == 4
    for essay in essays:
        episode = render_cli(essay, tmp_path / "out")
        title = load_essay(essay).sections[0].title
        judges.check_episode(Path(episode["mp3"]), [title])
        check_transcripts(episode, essay)
        words = load_essay(essay).words
        assert episode["duration"] > words * 60 / 175 * 0.7


def test_difficult_text_with_the_default_voice(tmp_path: Path) -> None:
    wall = " ".join(f"river{i % 50} stone" for i in range(1500))
    assert len(wall) > 20000 and not any(c in wall for c in ".,;:!?")
    text = (
        "Difficult Text\n"
        "Emoji 🎧 and 🌍 stay. שָׁלוֹם עֲלֵיכֶם is Hebrew. مرحبا بالعالم is Arabic.\n"
        "Tags like <speak><break time='3s'/></speak> are words here, as are & and <.\n"
        "The Wall\n"
        f"{wall}\n"
    )
    essay = write(tmp_path, "difficult.txt", text)
    episode = render_cli(essay, tmp_path / "out")
    assert [c["title"] for c in episode["chapters"]] == ["Difficult Text", "The Wall"]
    judges.check_episode(Path(episode["mp3"]), ["Difficult Text", "The Wall"])
    check_transcripts(episode, essay)
    wall_chapter = episode["chapters"][1]
    # 3,000 words: a truncated render would be far shorter than 3,000 x 0.2 s.
    assert wall_chapter["end"] - wall_chapter["start"] > 3000 * 0.2


def test_scripts_render_renders_the_bundled_example() -> None:
    result = subprocess.run(
        [str(REPO / "scripts" / "render")], capture_output=True, text=True, timeout=1800
    )
    assert result.returncode == 0, result.stderr
    mp3 = REPO / "output" / "the-listening-room.mp3"
    judges.check_episode(
        mp3,
        [
            "The Listening Room",
            "Why Listen to an Essay",
            "What Makes Speech Clear",
            "Closing the Door",
        ],
    )
