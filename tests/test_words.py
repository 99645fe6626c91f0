"""Fast tier: written words timed from the words a voice reports, through the speech rules."""

from __future__ import annotations

from audioessay.engines import WordMark
from audioessay.model import Cue
from audioessay.speech import SpeechOptions, speakable
from audioessay.transcript import format_json_transcript, format_vtt
from audioessay.words import align, spoken_starts, written_starts


def said(text: str) -> str:
    return speakable(text, SpeechOptions())


def marks(spoken: str, every: int = 1000, skip: frozenset[int] = frozenset()) -> list[WordMark]:
    """A voice that reports word n at n * ``every`` samples, except the words in ``skip``."""
    found, position = [], 0
    for n, word in enumerate(spoken.split(" ")):
        if n not in skip:
            found.append(WordMark(position, len(word), n * every))
        position += len(word) + 1
    return found


def test_a_rewritten_run_shares_the_spoken_words_said_for_it() -> None:
    written = "In 1995, $1,200 was a lot [3] of money."
    spoken = said(written)
    assert spoken.split()[:9] == ["In", "nineteen", "ninety-five,", "one", "thousand", "two",
                                  "hundred", "dollars", "was"]  # fmt: skip
    starts = written_starts(written, spoken, marks(spoken), 20_000, said)
    by_word = dict(zip(written.split(), starts, strict=True))
    assert by_word["In"] == 0
    assert by_word["1995,"] == 1000  # "nineteen"
    assert by_word["$1,200"] == 3000  # "one", not "ninety-five"
    assert by_word["was"] == 8000
    assert by_word["[3]"] == by_word["of"] == 11000  # not said: lasts no time
    assert list(starts) == sorted(starts)


def test_a_word_the_voice_runs_into_the_next_is_placed_between_its_neighbours() -> None:
    spoken = "It was a lot"
    starts = spoken_starts(spoken, marks(spoken, skip=frozenset({2})), 5000)
    assert starts[:2] == [0, 1000] and starts[3] == 3000
    assert 1000 < starts[2] < 3000


def test_starts_stay_inside_the_piece_and_never_go_back() -> None:
    spoken = "one two three"
    wild = [WordMark(0, 3, 900), WordMark(4, 3, 100), WordMark(8, 5, 99_999)]
    starts = written_starts(spoken, spoken, wild, 5000, said)
    assert starts == (900, 900, 4999)


def test_align_spreads_fewer_target_words_over_more_source_words() -> None:
    # piper's phonemizer says "was a" as one word: "a" falls inside it, not on "was".
    starts = align(["was", "a", "lot"], ["wasa", "lot"], [100, 300], 500)
    assert starts[0] == 100 and 100 < starts[1] < 300 and starts[2] == 300


def test_timed_cues_give_voice_times_and_inline_vtt_timestamps() -> None:
    cues = [Cue(1.0, 2.0, "Hello there, world.", words=(1.0, 1.25, 1.6)),
            Cue(3.0, 4.0, "Say <it> & go.", words=(3.0, 3.0004, 3.5, 3.7))]  # fmt: skip
    vtt = format_vtt(cues)
    assert "Hello <00:00:01.250>there, <00:00:01.600>world." in vtt
    # A timestamp within the same millisecond as the one before is left out; text is escaped.
    assert "Say &lt;it&gt; <00:00:03.500>&amp; <00:00:03.700>go." in vtt
    import json

    document = json.loads(format_json_transcript(cues))
    assert document["wordTimes"] == "voice"
    first = document["segments"][:3]
    assert [(s["startTime"], s["endTime"], s["body"]) for s in first] == [
        (1.0, 1.25, "Hello"), (1.25, 1.6, "there,"), (1.6, 2.0, "world.")]  # fmt: skip
    estimated = json.loads(format_json_transcript([Cue(0.0, 1.0, "Two words.")]))
    assert estimated["wordTimes"] == "estimated"
    mixed = json.loads(format_json_transcript([cues[0], Cue(5.0, 6.0, "Two words.")]))
    assert mixed["wordTimes"] == "voice, else estimated"


def test_the_json_transcript_is_what_json_dumps_would_write() -> None:
    import json

    cues = [Cue(0.0, 1.0, 'Say "it" — ünïcode.', words=(0.0, 0.1234567, 0.5, 0.5)),
            Cue(2.0, 3.0, "Two words.")]  # fmt: skip
    text = format_json_transcript(cues)
    assert text == json.dumps(json.loads(text), ensure_ascii=False, indent=1) + "\n"
    assert json.loads(text)["segments"][1]["startTime"] == 0.123
    empty = format_json_transcript([])
    assert empty == json.dumps(json.loads(empty), ensure_ascii=False, indent=1) + "\n"
