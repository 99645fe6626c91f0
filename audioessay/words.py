"""Word times: where each written word of a cue begins, from where the voice says it began.

A voice reports times for the words of the text it was given: the spoken text, after the
speech rules. The transcript shows the written text. The two agree word for word except where a
rule rewrote something ("$1,200" is said as five words, a footnote marker as none, "a passage in
Greek is left out" stands for a whole passage), so the written words are matched to the spoken
ones by a longest-common-subsequence alignment (:mod:`difflib`) of their letters and digits:

- a written word said as written takes its spoken word's start;
- a run of rewritten written words shares the run of spoken words said for it, in proportion
  to how many words each is said as (so "1995, $1,200" over "nineteen ninety-five, one
  thousand two hundred dollars" starts "$1,200" at "one");
- a written word that is not said (a marker the rules drop) starts where the next spoken word
  does, and so lasts no time.

The same alignment matches piper's phoneme words to the spoken words (:func:`align`): eSpeak's
phonemizer runs some words together ("was a" is one phoneme word) and splits none.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from difflib import SequenceMatcher

from .engines import WordMark

_TOKEN = re.compile(r"\S+")
_LETTERS = re.compile(r"\w+")


def tokens(text: str) -> list[re.Match[str]]:
    """The words of ``text``: runs of non-space characters, as the transcript shows them."""
    return list(_TOKEN.finditer(text))


def key(word: str) -> str:
    """What two spellings of a word share: its letters and digits, lower-cased."""
    return "".join(_LETTERS.findall(word)).casefold()


def align(
    source: Sequence[str],
    target: Sequence[str],
    starts: Sequence[int],
    end: int,
    weight: Callable[[str], int] = len,
) -> list[int]:
    """The start of each ``source`` word, from the ``starts`` of the ``target`` words.

    Words are compared by :func:`key`. Where the two differ, each source word of the differing
    run starts at its share of the target run, by ``weight``: at a target word's start when the
    share falls on one, else between two; a source run with no target words starts where the
    next target word does (or at ``end``).
    """
    times = [*starts, end]
    out: list[int] = []
    matcher = SequenceMatcher(None, [key(w) for w in source], [key(w) for w in target], False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            out.extend(times[j1 : j1 + (i2 - i1)])
        elif tag != "insert":  # replace or delete: share the target run by weight
            run = source[i1:i2]
            weights = [max(1, weight(w)) for w in run] if len(run) > 1 else [1]
            total, done = sum(weights), 0
            for w in weights:  # at its share of the run, between target starts if need be
                low, rest = divmod(done * (j2 - j1), total)
                low += j1
                gap = times[low + 1] - times[low] if rest else 0
                out.append(times[low] + rest * gap // total)
                done += w
    return out


def spoken_starts(spoken: str, marks: Sequence[WordMark], length: int) -> list[int]:
    """The start of every word of ``spoken``, from the voice's marks.

    A word starts at the first mark inside it. A word with none (eSpeak NG runs an unstressed
    "a" into the next word, and reports one mark for "ninety-five") is placed between its
    neighbours in proportion to its characters.
    """
    words = tokens(spoken)
    found: list[int | None] = []
    ordered = sorted(marks)
    index = 0
    for word in words:
        while index < len(ordered) and ordered[index].offset < word.start():
            index += 1
        inside = index < len(ordered) and ordered[index].offset < word.end()
        found.append(ordered[index].sample if inside else None)
    if found and found[0] is None:
        found[0] = 0
    starts: list[int] = []
    for position, start in enumerate(found):
        if start is not None:
            starts.append(start)
            continue
        after = next((p for p in range(position + 1, len(found)) if found[p] is not None), None)
        previous = starts[-1]
        following = found[after] if after is not None else length
        assert following is not None
        first = words[position - 1].start()
        last = words[after].start() if after is not None else len(spoken)
        share = (words[position].start() - first) / max(1, last - first)
        starts.append(previous + round(share * (following - previous)))
    return starts


def written_starts(
    written: str,
    spoken: str,
    marks: Sequence[WordMark],
    length: int,
    said_as: Callable[[str], str],
) -> tuple[int, ...]:
    """Where each written word of a piece begins, in samples from the piece's start.

    ``said_as`` gives a written word's spoken form (the speech rules), used to share a
    rewritten run. The starts never decrease and lie within the piece's ``length``.
    """
    said = [w.group() for w in tokens(spoken)]
    starts = spoken_starts(spoken, marks, length)
    shown = [w.group() for w in tokens(written)]
    placed = align(shown, said, starts, length, lambda w: len(said_as(w).split()))
    out: list[int] = []
    for start in placed:
        out.append(min(max(start, out[-1] if out else 0), max(0, length - 1)))
    return tuple(out)
