"""Fast tier: whole renders on the deterministic fake engine, with exact expected times.

The fake engine speaks every word as exactly 11025 samples at 240 words per minute, so every
chapter length below is computed by hand. Each utterance and the pause after it is a stream of
its own: its speech, then its pause less the one frame a joint adds, rounded to whole frames of
1152 samples; LAME writes n / 1152 + 1 frames for it. The third-party judges then check the
files the render wrote.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path

import pytest
from typer.testing import CliRunner

from audioessay import RenderSettings, render
from audioessay.cli import app
from audioessay.config import Pauses

from . import judges
from .conftest import write

WORD = 11025  # samples per word at 240 wpm
RATE = 44100
ESSAY = """---
title: Tones
author: Tester
---
First sentence here. Second one.

Another paragraph.

## Part Two

Only one sentence.
"""


def frames(speech: int, pause: int) -> int:
    """Frames of one block's stream: ``speech`` samples, then ``pause``, less a frame, rounded."""
    whole = max(round((speech + pause - 1152) / 1152), math.ceil(speech / 1152))
    return whole + 1


def fake(tmp_path: Path, **changes: object) -> RenderSettings:
    settings = RenderSettings(engine="fake", rate=240, output_dir=tmp_path / "out")
    for key, value in changes.items():
        object.__setattr__(settings, key, value)
    return settings


def test_exact_chapter_and_cue_times(tmp_path: Path) -> None:
    episode = render(write(tmp_path, "tones.md", ESSAY), fake(tmp_path))
    p = Pauses()
    sentence, paragraph, title, chapter = (
        round(x * RATE) for x in (p.sentence, p.paragraph, p.title, p.chapter)
    )
    # "Tones. By Tester." | title | "First sentence here." | sentence | "Second one." |
    # paragraph | "Another paragraph." | chapter pause
    blocks = [
        frames(3 * WORD, title), frames(3 * WORD, sentence), frames(2 * WORD, paragraph),
        frames(2 * WORD, chapter),
    ]  # fmt: skip
    # "Part Two." | title | "Only one sentence." | closing pause
    blocks2 = [frames(2 * WORD, title), frames(3 * WORD, paragraph)]
    assert (blocks, blocks2) == ([67, 42, 46, 77], [57, 56])
    starts = [sum(blocks[:i]) * 1152 for i in range(len(blocks))]
    start2 = sum(blocks) * 1152 / RATE
    end = (sum(blocks) + sum(blocks2)) * 1152 / RATE
    assert [(c.title, c.level) for c in episode.chapters] == [("Tones", 1), ("Part Two", 2)]
    assert episode.chapters[0].start == 0
    assert episode.chapters[1].start == pytest.approx(start2, abs=1e-9)
    assert episode.duration == pytest.approx(end, abs=1e-9)

    delay = 1105  # each stream's first sample is decoded after LAME's delay
    expected_cues = [
        (starts[0], starts[0] + 3 * WORD, "Tones. By Tester."),
        (starts[1], starts[1] + 3 * WORD, "First sentence here."),
        (starts[2], starts[2] + 2 * WORD, "Second one."),
        (starts[3], starts[3] + 2 * WORD, "Another paragraph."),
    ]
    for (start, stop, text), cue in zip(expected_cues, episode.cues, strict=False):
        assert cue.text == text
        assert cue.start == pytest.approx((start + delay) / RATE, abs=1e-9)
        assert cue.end == pytest.approx((stop + delay) / RATE, abs=1e-9)
    for cue in episode.cues:  # the voice's word marks, carried through trim, layout and delay
        assert cue.words == pytest.approx(
            [cue.start + k * WORD / RATE for k in range(len(cue.text.split()))], abs=1e-9
        )
    heading = episode.cues[4]
    assert heading.text == "Part Two."
    assert heading.start == pytest.approx((sum(blocks) * 1152 + delay) / RATE, abs=1e-9)
    # Every pause is heard within half a frame of the one asked for.
    heard = episode.cues[2].start - episode.cues[1].end
    assert abs(heard - p.sentence) <= 576 / RATE

    # The judges agree, to the millisecond.
    probe = judges.ffprobe(episode.files.mp3)
    assert [round(float(c["start_time"]), 3) for c in probe["chapters"]] == [0, round(start2, 3)]
    assert round(float(probe["chapters"][-1]["end_time"]), 3) == round(end, 3)


def test_fake_render_passes_every_judge(tmp_path: Path) -> None:
    episode = render(write(tmp_path, "tones.md", ESSAY), fake(tmp_path))
    judges.check_episode(episode.files.mp3, ["Tones", "Part Two"])
    errors, cues = judges.vtt_errors(episode.files.vtt)
    assert errors == []
    assert cues == len(episode.cues) == 6
    chapters = json.loads(episode.files.chapters.read_text())
    assert chapters["version"] == "1.2.0"
    assert [c["title"] for c in chapters["chapters"]] == ["Tones", "Part Two"]
    assert [c["startTime"] for c in chapters["chapters"]] == [
        0,
        round(episode.chapters[1].start, 3),
    ]
    srt = episode.files.srt.read_text()
    assert srt.startswith("1\n00:00:00,025 --> 00:00:00,775\nTones. By Tester.\n")
    tag = judges.eyed3_tag(episode.files.mp3)
    assert tag.title == "Tones" and tag.artist == "Tester" and tag.album == "Tones"
    probe = judges.ffprobe(episode.files.mp3)  # no date in the essay: the render's date
    assert probe["format"]["tags"]["date"] == dt.date.today().isoformat()
    assert tag.version == (2, 3, 0)
    assert tag.frame_set[b"TLAN"][0].text == "eng"
    assert int(tag.frame_set[b"TLEN"][0].text) == round(episode.duration * 1000)
    assert tag.comments[0].text == "First sentence here. Second one."


def test_cli_json_summary_and_inspect(tmp_path: Path) -> None:
    essay = write(tmp_path, "tones.md", ESSAY)
    out = tmp_path / "out"
    runner = CliRunner()
    result = runner.invoke(
        app, ["render", str(essay), "-o", str(out), "--engine", "fake", "--rate", "240", "--json"]
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    (episode,) = summary["episodes"]
    assert episode["title"] == "Tones" and episode["slug"] == "tones"
    assert Path(episode["mp3"]) == out / "tones.mp3"
    assert [c["title"] for c in episode["chapters"]] == ["Tones", "Part Two"]
    assert [c["level"] for c in episode["chapters"]] == [1, 2]
    assert set(episode["files"]) == {"mp3", "chapters", "vtt", "srt", "html", "transcript"}
    assert episode["duration"] == episode["chapters"][-1]["end"]

    inspected = runner.invoke(app, ["inspect", str(out / "tones.mp3"), "--json"])
    assert inspected.exit_code == 0, inspected.output
    report = json.loads(inspected.stdout)
    assert [c["title"] for c in report["chapters"]] == ["Tones", "Part Two"]
    assert report["bitrate"] == 64 and report["sample_rate"] == 44100

    text = runner.invoke(app, ["inspect", str(out / "tones.mp3")])
    assert "Part Two" in text.stdout


def test_every_word_of_a_huge_unpunctuated_paragraph_is_spoken(tmp_path: Path) -> None:
    words = [f"word{i % 97}" for i in range(3000)]
    paragraph = " ".join(words)
    assert len(paragraph) > 20000
    episode = render(write(tmp_path, "wall.txt", paragraph + "\n"), fake(tmp_path))
    body = [c for c in episode.cues if c.text != "Wall."]
    assert " ".join(c.text for c in body) == paragraph
    assert all(len(c.text) <= 200 for c in body)
    spoken = sum(round((c.end - c.start) * RATE) for c in body)
    assert spoken == len(words) * WORD  # every word's tone is in the audio
    judges.check_episode(episode.files.mp3, ["Wall"])


def test_unusual_text_is_spoken_as_text(tmp_path: Path) -> None:
    text = (
        "Emoji 🎧 and 🌍 stay. שָׁלוֹם עֲלֵיכֶם is Hebrew. مرحبا بالعالم is Arabic.\n"
        "Tags like <speak><break time='3s'/></speak> are words here, as are & and <.\n"
    )
    episode = render(write(tmp_path, "odd.txt", text), fake(tmp_path))
    spoken = " ".join(c.text for c in episode.cues)
    for fragment in ("🎧", "שָׁלוֹם", "مرحبا", "<speak><break time='3s'/></speak>", "& and <."):
        assert fragment in spoken
    errors, _ = judges.vtt_errors(episode.files.vtt)
    assert errors == []
    assert "&lt;speak&gt;" in episode.files.vtt.read_text()


def test_front_matter_title_cannot_leave_the_output_directory(tmp_path: Path) -> None:
    essay = write(tmp_path, "x.md", "---\ntitle: ../../../etc/evil/..\n---\nHello there.\n")
    episode = render(essay, fake(tmp_path))
    out = (tmp_path / "out").resolve()
    for path in episode.files.named().values():
        assert path.resolve().parent == out
    assert episode.slug == "etc-evil"


def test_cover_art_is_embedded(tmp_path: Path) -> None:
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")
        )

    png = b"\x89PNG\r\n\x1a\n" + chunk(
        b"IHDR", (1).to_bytes(4, "big") * 2 + b"\x08\x02\x00\x00\x00"
    )
    png += chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00")) + chunk(b"IEND", b"")
    cover = tmp_path / "cover.png"
    cover.write_bytes(png)
    episode = render(write(tmp_path, "tones.md", ESSAY), fake(tmp_path, cover=cover))
    tag = judges.eyed3_tag(episode.files.mp3)
    (image,) = list(tag.images)
    assert image.mime_type == "image/png" and image.image_data == png
    judges.check_episode(episode.files.mp3, ["Tones", "Part Two"])
