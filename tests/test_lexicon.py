"""Pronunciation lexicons: formats, matching rules, precedence, and the ``script`` command."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from audioessay.errors import SettingsError
from audioessay.speech import SpeechOptions, speakable
from audioessay.speech.lexicon import espeak_to_ipa, ipa_to_espeak, load_lexicon

from .conftest import run_cli, write

PLS = """<?xml version="1.0" encoding="UTF-8"?>
<lexicon version="1.0" xmlns="http://www.w3.org/2005/01/pronunciation-lexicon"
         alphabet="ipa" xml:lang="en-US">
  <lexeme><grapheme>Nguyen</grapheme><alias>Win</alias></lexeme>
  <lexeme><grapheme>Saoirse</grapheme><phoneme>ˈsɪɹʃə</phoneme></lexeme>
  <lexeme><grapheme>Goethe</grapheme><phoneme alphabet="x-espeak">g'3:t@</phoneme></lexeme>
</lexicon>
"""


def say(
    text: str, lexicon_text: str, tmp_path: Path, alphabet: str | None = None, name: str = "l.toml"
) -> str:
    path = write(tmp_path, name, lexicon_text)
    return speakable(text, SpeechOptions(lexicon=load_lexicon(path), alphabet=alphabet))


def test_respelling_whole_words_only(tmp_path: Path) -> None:
    lexicon = 'Shue = "Shoo"\n'
    assert say("Elisabeth Shue's role.", lexicon, tmp_path) == "Elisabeth Shoo's role."
    assert say("Shuey and shoe-Shue.", lexicon, tmp_path) == "Shuey and shoe-Shoo."


def test_case_rules_are_explicit(tmp_path: Path) -> None:
    lexicon = """
    US = "United States"        # capital letters: this spelling only (auto)
    colour = "color"            # all lowercase: any capitalisation (auto)
    Apple = { say = "Ap-pull", case = "insensitive" }
    [options]
    case = "auto"
    """
    assert say("Tell us about the US.", lexicon, tmp_path) == "Tell us about the United States."
    assert say("Colour, COLOUR, colour.", lexicon, tmp_path) == "color, color, color."
    assert say("apple Apple APPLE", lexicon, tmp_path) == "Ap-pull Ap-pull Ap-pull"
    sensitive = 'colour = "color"\n[options]\ncase = "sensitive"\n'
    assert say("Colour colour", sensitive, tmp_path) == "Colour color"


def test_phrases_longest_first_and_held_from_normalisation(tmp_path: Path) -> None:
    lexicon = (
        '"New York" = "Noo York"\n"New York Times" = "the Times"\n"1984" = "Nineteen Eighty-Four"\n'
    )
    assert (
        say("The New  York\nTimes in New York.", lexicon, tmp_path) == "The the Times in Noo York."
    )
    assert (
        say("He read 1984 in 1984.", lexicon, tmp_path)
        == "He read Nineteen Eighty-Four in Nineteen Eighty-Four."
    )


def test_phonemes_reach_each_engine_in_its_alphabet(tmp_path: Path) -> None:
    lexicon = 'Saoirse = { ipa = "ˈsɪɹʃə", say = "Seer-sha" }\nGoethe = { espeak = "g\'3:t@" }\n'
    text = "Saoirse read Goethe."
    assert say(text, lexicon, tmp_path, "espeak") == "[['sIrS@]] read [[g'3:t@]]."
    assert say(text, lexicon, tmp_path, "ipa") == "[[ˈsɪɹʃə]] read [[ɡˈɜːtə]]."
    assert say(text, lexicon, tmp_path, None) == "Seer-sha read Goethe."
    assert ipa_to_espeak("ˈtʃɜːtʃ") == "'tS3:tS"
    assert espeak_to_ipa("h@l'oU") == "həlˈoʊ"


def test_pls_lexicon(tmp_path: Path) -> None:
    text = "Nguyen, Saoirse and Goethe."
    out = say(text, PLS, tmp_path, "espeak", name="names.pls")
    assert out == "Win, [['sIrS@]] and [[g'3:t@]]."


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("Shue = 5\n", "must be a respelling"),
        ('Shue = { sound = "x" }\n', "unknown field"),
        ('Shue = { ipa = "ʃuː❦" }\n', "has no equivalent"),
        ('Shue = { say = "x", case = "loud" }\n', "case must be one of"),
        ('Shue = "Shoo\n', "lexicon"),
        ('Shue = { say = "[[x]]" }\n', "without [[ or ]]"),
    ],
)
def test_bad_lexicons_are_one_clear_error(tmp_path: Path, text: str, fragment: str) -> None:
    path = write(tmp_path, "bad.toml", text)
    with pytest.raises(SettingsError, match=r"bad\.toml") as caught:
        load_lexicon(path)
    assert fragment in str(caught.value)
    essay = write(tmp_path, "e.md", "Shue spoke.\n")
    result = run_cli("script", str(essay), "--lexicon", str(path))
    assert result.returncode == 1 and fragment in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


def test_precedence_user_folder_front_matter_flag(tmp_path: Path) -> None:
    """User default < audioessay.toml < front matter's lexicon < --lexicon, per word."""
    config = tmp_path / "config"
    config.mkdir()
    (config / "lexicon.toml").write_text(
        'Alpha = "user"\nBeta = "user"\nGamma = "user"\nDelta = "user"\n'
    )
    project = tmp_path / "essays"
    project.mkdir()
    (project / "audioessay.toml").write_text(
        '[words]\nBeta = "folder"\nGamma = "folder"\nDelta = "folder"\n'
    )
    (project / "names.toml").write_text('Gamma = "essay"\nDelta = "essay"\n')
    flag = write(tmp_path, "flag.toml", 'Delta = "flag"\n')
    essay = project / "sub" / "e.md"
    essay.parent.mkdir()
    essay.write_text("---\nlexicon: ../names.toml\n---\nAlpha Beta Gamma Delta.\n")
    env = {**os.environ, "AUDIOESSAY_CONFIG_DIR": str(config)}
    result = run_cli("script", str(essay), "--lexicon", str(flag), "--json", env=env)
    assert result.returncode == 0, result.stderr
    lines = json.loads(result.stdout)["chapters"][0]["lines"]
    assert lines[-1] == {"written": "Alpha Beta Gamma Delta.", "spoken": "user folder essay flag."}


def test_script_command_prints_what_will_be_spoken(tmp_path: Path) -> None:
    essay = write(
        tmp_path,
        "proof.md",
        "---\ntitle: Chapter IV\nauthor: Dr. Who\n---\n\nIt cost $5 in 1995.[^1]\n\n"
        "## Part II\n\nHenry VIII, e.g. a king.\n\n[^1]: A note about 2008.\n",
    )
    result = run_cli("script", str(essay))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "## 1. Chapter IV", "",
        "Chapter four. By Doctor Who.", "",
        "It cost five dollars in nineteen ninety-five.", "",
        "## 2. Part II", "",
        "Part two.", "",
        "Henry the Eighth, for example a king.", "",
        "Notes.", "",
        "Note one. A note about two thousand eight.", "",
    ]  # fmt: skip
    data = json.loads(run_cli("script", str(essay), "--json").stdout)
    assert [c["title"] for c in data["chapters"]] == ["Chapter IV", "Part II"]
    assert data["chapters"][0]["lines"][1] == {
        "written": "It cost $5 in 1995.",
        "spoken": "It cost five dollars in nineteen ninety-five.",
    }


def test_plain_text_notes_are_read_last(tmp_path: Path) -> None:
    essay = write(
        tmp_path,
        "notes.txt",
        "A claim[1] was made here, and then another one.² The essay goes on for a while.\n\n"
        "A second paragraph of ordinary prose follows, long enough not to be a heading.\n\n"
        "[1] The first note explains the claim.\n\n² The second note.\n",
    )
    data = json.loads(run_cli("script", str(essay), "--json").stdout)
    (chapter,) = data["chapters"]  # notes are no chapter of their own: read last, under "Notes"
    assert chapter["paragraphs"][-3:] == [
        ["Notes."], ["Note one. The first note explains the claim."], ["Note two. The second note."]
    ]
    body = " ".join(" ".join(p) for p in chapter["paragraphs"][:-3])
    assert "[1]" not in body and "²" not in body and "one" in body


def test_language_and_settings_from_folder_and_front_matter(tmp_path: Path) -> None:
    folder = tmp_path / "french"
    folder.mkdir()
    (folder / "audioessay.toml").write_text('language = "fr"\nengine = "fake"\nrate = 200\n')
    essay = write(folder, "e.md", "Le film de 1995 — enfin.\n")
    data = json.loads(run_cli("script", str(essay), "--json").stdout)
    assert (data["language"], data["engine"]) == ("fr", "fake")
    assert data["chapters"][0]["lines"][-1]["spoken"] == "Le film de 1995, enfin."
    # Front matter wins over the folder; a flag wins over both.
    english = write(folder, "en.md", "---\nlanguage: en\nengine: espeak\n---\nIn 1995.\n")
    data = json.loads(run_cli("script", str(english), "--json").stdout)
    assert (data["language"], data["engine"]) == ("en", "espeak")
    assert data["chapters"][0]["lines"][-1]["spoken"] == "In nineteen ninety-five."
    flagged = json.loads(run_cli("script", str(english), "--engine", "fake", "--json").stdout)
    assert flagged["engine"] == "fake"
    bad = write(folder, "bad.md", "---\nskip_citations: maybe\n---\nText.\n")
    result = run_cli("script", str(bad))
    assert result.returncode == 1 and "skip_citations" in result.stderr
    (folder / "audioessay.toml").write_text('colour = "red"\n')
    result = run_cli("script", str(essay))
    assert result.returncode == 1 and "unknown setting(s) colour" in result.stderr
