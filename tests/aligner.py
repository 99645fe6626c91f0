"""An independent judge of word times: CMU pocketsphinx's forced aligner.

Each cue's audio (cut from the decoded MP3 by the cue times the W3C WebVTT parser reads) is
aligned with the words spoken in it, and the aligner's start of each word is compared with the
start our JSON transcript gives the same written word. Nothing of audioessay's timing is used:
only its speech rules, to know which words were said (the aligner must be told the text).

Two things the aligner needs that a recording has and synthetic speech lacks:

- A noise floor. The episode's pauses are digital silence, and pocketsphinx's silence model
  cannot score frames of exact zeros: with them no alignment is found at all. Noise at
  -72 dBFS (σ = 8 of 32768) is added, the same seeded noise every time.
- Pronunciations for words its dictionary lacks (names, mostly). They come from eSpeak NG's
  phonemizer, mapped from IPA to the dictionary's ARPAbet. That tells the aligner what sounds
  to look for, not where they are.
"""

from __future__ import annotations

import json
import re
import statistics
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from pathlib import Path
from typing import Any

import numpy as np

from tests.judges import missing, require

PAD = 0.25
"""Seconds of audio either side of a cue given to the aligner (it places silence there)."""
NOISE = 8.0

_IPA = {
    "tʃ": "CH", "dʒ": "JH", "aɪ": "AY", "aʊ": "AW", "eɪ": "EY", "oʊ": "OW", "ɔɪ": "OY",
    "ɜ": "ER", "ɝ": "ER", "ɚ": "ER", "ɑ": "AA", "ɒ": "AA", "æ": "AE", "ʌ": "AH", "ə": "AH",
    "ɐ": "AH", "ɔ": "AO", "ɛ": "EH", "e": "EH", "ɪ": "IH", "ᵻ": "IH", "i": "IY", "o": "OW",
    "ʊ": "UH", "u": "UW", "a": "AE", "b": "B", "d": "D", "ð": "DH", "f": "F", "ɡ": "G",
    "g": "G", "h": "HH", "k": "K", "l": "L", "m": "M", "n": "N", "ŋ": "NG", "p": "P", "ɹ": "R",
    "r": "R", "s": "S", "ʃ": "SH", "t": "T", "θ": "TH", "v": "V", "w": "W", "j": "Y", "z": "Z",
    "ʒ": "ZH", "ɾ": "D", "ʔ": "T", "x": "K", "ɬ": "L", "ç": "HH",
}  # fmt: skip
_DROPPED = re.compile(r"[ˈˌːˑ̩̃.‿-]")


@dataclass
class Agreement:
    """How our word starts compare with the aligner's."""

    words: int = 0
    """Written words in the transcript."""
    offsets: list[float] = field(default_factory=list)
    """|ours − aligner's| in milliseconds, one per word the aligner placed."""

    @property
    def placed(self) -> float:
        return len(self.offsets) / max(1, self.words)

    @property
    def median(self) -> float:
        return statistics.median(self.offsets)

    @property
    def p95(self) -> float:
        return float(np.percentile(self.offsets, 95))

    def __str__(self) -> str:
        return (f"{len(self.offsets)} of {self.words} words placed ({self.placed:.0%}); "
                f"median {self.median:.0f} ms, 95th percentile {self.p95:.0f} ms")  # fmt: skip


def _decoder(rate: int) -> Any:
    try:
        from pocketsphinx import Decoder
    except ImportError:
        missing("pocketsphinx")
    return Decoder(samprate=rate, lm=None, loglevel="FATAL")


def _arpabet(ipa: str) -> str | None:
    """eSpeak NG's IPA for a word, as ARPAbet phones (None if a sound has no match)."""
    phones = []
    for symbol in _DROPPED.sub("", ipa).split("_"):
        while symbol:
            for size in (2, 1):
                if symbol[:size] in _IPA:
                    phones.append(_IPA[symbol[:size]])
                    symbol = symbol[size:]
                    break
            else:
                return None
    return " ".join(phones) or None


def _pronounce(decoder: Any, words: set[str]) -> None:
    """Add eSpeak NG's pronunciation of every word the dictionary lacks."""
    unknown = sorted(w for w in words if decoder.lookup_word(w) is None)
    if not unknown:
        return
    out = subprocess.run(
        [require("espeak-ng"), "-q", "--ipa", "--sep=_", "-v", "en-us"],
        input="\n".join(unknown) + "\n", capture_output=True, text=True, check=True,
    ).stdout.split("\n")  # fmt: skip
    for word, ipa in zip(unknown, out, strict=False):
        phones = _arpabet(ipa.strip().replace(" ", "_"))
        if phones:
            decoder.add_word(word, phones, False)


def dictionary_word(token: str) -> str:
    """A spoken token as the aligner's dictionary spells words."""
    return re.sub(r"[^a-z0-9']", "", token.lower().replace("’", "'")).strip("'")


RATE = 16000
"""The aligner's model's rate."""


def decode(mp3: Path, band: int = RATE) -> np.ndarray:
    """The MP3 as 16-bit mono at 16 kHz, by FFmpeg, with the noise floor added; with ``band``
    below 16 kHz, a copy that went through that rate first (telephone audio, for 8000)."""
    narrow = ["-af", f"aresample={band},aresample={RATE}"] if band < RATE else []
    pcm = subprocess.run(
        [require("ffmpeg"), "-v", "error", "-i", str(mp3), "-ac", "1", *narrow, "-ar", str(RATE),
         "-f", "s16le", "-"], capture_output=True, check=True,
    ).stdout  # fmt: skip
    audio = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
    audio += np.random.default_rng(0).normal(0.0, NOISE, len(audio))
    return np.clip(audio, -32768, 32767).astype("<i2")


def align_cue(decoder: Any, audio: np.ndarray, rate: int, start: float, end: float,
              words: Sequence[str]) -> list[float] | None:  # fmt: skip
    """The aligner's start, in seconds of the episode, of each of ``words`` spoken between
    ``start`` and ``end``; None if it finds no alignment."""
    low = max(0.0, start - PAD)
    clip = audio[int(low * rate) : int((end + PAD) * rate)]
    try:
        decoder.set_align_text(" ".join(words))
    except RuntimeError:
        return None
    decoder.start_utt()
    decoder.process_raw(clip.tobytes(), no_search=False, full_utt=True)
    decoder.end_utt()
    if decoder.hyp() is None:
        return None
    found = [s for s in decoder.seg() if not s.word.startswith(("<", "[", "("))]
    if [re.sub(r"\(\d+\)$", "", s.word) for s in found] != list(words):
        return None
    return [low + s.start_frame / 100 for s in found]


def judge(mp3: Path, transcript: Path, cues: list[dict[str, Any]], band: int = RATE,
          said_as: Any = None) -> tuple[Agreement, list[list[float] | None]]:  # fmt: skip
    """Compare the JSON transcript's word starts with the aligner's, cue by cue.

    ``cues`` are the W3C parser's (start, end, plain text); ``said_as`` gives a cue's spoken text
    (audioessay's speech rules). Returns the agreement and the aligner's starts per cue."""
    from audioessay.speech import SpeechOptions, speakable
    from audioessay.words import key, tokens

    say = said_as or (lambda text: speakable(text, SpeechOptions()))
    segments = json.loads(transcript.read_text(encoding="utf-8"))["segments"]
    audio = decode(mp3, band)
    rate = RATE
    decoder = _decoder(rate)
    spoken = [[dictionary_word(t.group()) for t in tokens(say(c["plain"]))] for c in cues]
    _pronounce(decoder, {w for words in spoken for w in words if w})
    result = Agreement()
    starts: list[list[float] | None] = []
    position = 0
    for cue, said in zip(cues, spoken, strict=True):
        written = [t.group() for t in tokens(cue["plain"])]
        ours = segments[position : position + len(written)]
        position += len(written)
        result.words += len(written)
        said = [w for w in said if w]
        found = align_cue(decoder, audio, rate, cue["start"], cue["end"], said)
        starts.append(found)
        if found is None:
            continue
        matcher = SequenceMatcher(None, [key(w) for w in written], [key(w) for w in said], False)
        for tag, i1, i2, j1, _ in matcher.get_opcodes():
            if tag == "equal":
                for k in range(i2 - i1):
                    ours_start = ours[i1 + k]["startTime"]
                    result.offsets.append(abs(ours_start - found[j1 + k]) * 1000)
    assert position == len(segments), "the transcript's words and the cues' words differ"
    return result, starts


def self_disagreement(first: list[list[float] | None], second: list[list[float] | None]) -> list[float]:
    """|start at one rate − start at another| in ms, for words both runs placed."""
    return [abs(a - b) * 1000 for x, y in zip(first, second, strict=True) if x and y
            and len(x) == len(y) for a, b in zip(x, y, strict=True)]  # fmt: skip

