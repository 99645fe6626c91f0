"""The guard against silent loss: every written word of the essay must reach the script.

Readers record each word they meet before building sections (``Essay.written``); the script's
written lines, with what readers left out on purpose (``Essay.omitted``, each with its
reason), must hold every one of them, as many times. The check is a multiset difference,
linear in the essay's length, so it runs on every render and every ``audioessay script``. A
word that a reader, the parser or the section builder lost turns into an error, not a quieter
episode.
"""

from __future__ import annotations

from collections import Counter

from .errors import CoverageError
from .model import Essay, written_words
from .script import Script


def missing_words(essay: Essay, script: Script) -> Counter[str]:
    """The written words of ``essay`` that no line of ``script`` carries, with their counts."""
    needed = Counter(word.casefold() for word in essay.written)
    for omission in essay.omitted:
        needed.subtract(word.casefold() for word in written_words(omission.text))
    for line in script.lines():
        needed.subtract(word.casefold() for word in written_words(line.written))
    return +needed  # keeps only what is still owed


def check_coverage(essay: Essay, script: Script) -> None:
    """Raise :class:`CoverageError` when the script would leave any written word unspoken."""
    missing = missing_words(essay, script)
    if missing:
        total = sum(missing.values())
        first = ", ".join(f"“{word}”" for word, _ in missing.most_common(5))
        raise CoverageError(
            f"{essay.source}: {total} word(s) of the text would not be spoken ({first}); "
            "nothing was rendered. This is a bug in audioessay: please report it with the essay"
        )
