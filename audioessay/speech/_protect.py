"""Placeholders that keep finished text (a lexicon entry, a spoken URL) away from later rules.

Each held text is replaced by one private-use character, which no normalisation rule matches
(it is neither a letter, a digit nor punctuation), and put back at the very end.
"""

from __future__ import annotations

_BASE = 0xF0000
"""Supplementary Private Use Area-A: never in an essay's own text after cleaning."""


class Protected:
    """Texts held out of normalisation, and the placeholders standing in for them."""

    def __init__(self) -> None:
        self._held: list[str] = []

    def hold(self, text: str) -> str:
        """A placeholder for ``text``."""
        self._held.append(text)
        return chr(_BASE + len(self._held) - 1)

    def restore(self, text: str) -> str:
        """``text`` with every placeholder replaced by what it holds."""
        if not self._held:
            return text
        return "".join(
            self._held[ord(c) - _BASE] if _BASE <= ord(c) < _BASE + len(self._held) else c
            for c in text
        )


def strip_private_use(text: str) -> str:
    """Remove private-use characters from essay text, so placeholders cannot collide."""
    return "".join(c for c in text if not 0xF0000 <= ord(c) <= 0x10FFFF)
