"""Speakable text: what a careful narrator says for what is written.

    clean (invisible characters) → lexicon (held) → footnote markers and citations
          → language rules (numbers, dates, money, abbreviations, numerals, addresses, symbols)
          → dashes and ellipses as short pauses → tidy → held text back in

Transcripts keep the written text; only the voice gets the spoken one. Language rules live in
one module per language, registered in :data:`LANGUAGES`; a language without one still gets
every language-neutral step. Text the lexicon or a rule has finished is held out of later rules
(see :mod:`._protect`), so a respelling is never re-read as a number or an abbreviation.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field

from . import english
from ._protect import Protected, strip_private_use
from .lexicon import Lexicon

Normalizer = Callable[[str, Protected, bool], str]
LANGUAGES: dict[str, Normalizer] = {"en": english.normalize}
"""Language rules by primary language subtag; add a module and an entry for a new language."""

_KEPT_FORMAT = {"\u200c", "\u200d"}
"""Zero-width (non-)joiners shape Persian, Indic scripts and emoji; every other format
character (soft hyphen, word joiner, zero-width space, BOM, bidi marks) is dropped."""
_SUPERSCRIPTS = "⁰¹²³⁴⁵⁶⁷⁸⁹"
_NOTE_AT_START = re.compile(rf"^\s*(?:\[(\d+)\]|([{_SUPERSCRIPTS}]+))\s*")
_MARKER = re.compile(rf"\s?\[\d+(?:\s*[,–-]\s*\d+)*\]|(?<=\S)[{_SUPERSCRIPTS}]+")
_CITATION = re.compile(
    r"\s?\[[^\[\]]*?\b\d{4}[a-z]?\b[^\[\]]*\]"
    r"|\s?\((?:see |cf\. )?[A-Z][\w'’-]+(?:,? (?:and|&) [A-Z][\w'’-]+| et al\.)?,? \d{4}[a-z]?"
    r"(?:[,:] ?(?:pp?\. ?)?\d+(?:[–-]\d+)?)?(?:; [^()]*)?\)"
)
_PAGE_MARKER = re.compile(
    r"\s?(?:\{\d+\}|\[(?:Pg\.?|Page|p\.)\s?\d+\]|\{Pg\.?\s?\d+\})", re.IGNORECASE
)
"""Page markers and brace note markers of e-texts: ``{12}``, ``[Pg 12]``, ``[p. 12]``."""
_SCRIPTS = {
    "Greek": "\u0370-\u03ff\u1f00-\u1fff",
    "Cyrillic": "\u0400-\u052f",
    "Hebrew": "\u0590-\u05ff",
    "Arabic": "\u0600-\u06ff",
}
_FOREIGN = {
    name: re.compile(rf"[{chars}][{chars}\u0300-\u036f\u0483-\u0489\u0591-\u05c7]*(?:[\s,;:·.’'-]+[{chars}][{chars}\u0300-\u036f\u0483-\u0489\u0591-\u05c7]*)*")
    for name, chars in _SCRIPTS.items()
}
"""A passage in another script: letters of it, with the marks and spaces between its words."""
_SCRIPT_OF_LANGUAGE = {"el": "Greek", "ru": "Cyrillic", "uk": "Cyrillic", "bg": "Cyrillic",
                       "sr": "Cyrillic", "he": "Hebrew", "ar": "Arabic", "fa": "Arabic"}  # fmt: skip
_DASH = re.compile(r"\s*—\s*|\s+[–-]{1,2}\s+|\s*--\s*")
_ELLIPSIS = re.compile(r"\s*(?:…|\.\s?\.\s?\.)\s*")


@dataclass(frozen=True)
class SpeechOptions:
    """How written text becomes spoken text for one render."""

    language: str = "en"
    lexicon: Lexicon = field(default_factory=Lexicon)
    skip_citations: bool = False
    """Drop bracketed and author-year citations such as [Smith 2004] or (Smith, 2004, p. 5)."""
    alphabet: str | None = None
    """The engine's phoneme input (``espeak``, ``ipa``) for lexicon phonemes; None: text only."""


def primary_language(tag: str) -> str:
    """``en-GB`` → ``en``."""
    return tag.replace("_", "-").split("-", 1)[0].lower()


def clean(text: str) -> str:
    """Drop invisible format characters (keeping joiners that shape scripts).

    Doubled brackets are undone too: the eSpeak voices read ``[[...]]`` as phonemes, and only
    the lexicon may write those.
    """
    text = "".join(
        c for c in strip_private_use(text) if unicodedata.category(c) != "Cf" or c in _KEPT_FORMAT
    )
    while "[[" in text or "]]" in text:
        text = text.replace("[[", "[").replace("]]", "]")
    return text


def speakable(text: str, options: SpeechOptions, heading: bool = False) -> str:
    """``text`` as it is to be spoken. ``heading``: a title, where "IV" reads as "4"."""
    held = Protected()
    text = clean(text)
    text = options.lexicon.apply(text, held, options.alphabet)
    text = _NOTE_AT_START.sub(lambda m: f"Note {_note_number(m)}. ", text, count=1)
    text = _MARKER.sub("", text)
    text = _PAGE_MARKER.sub("", text)
    text = _announce_other_scripts(text, primary_language(options.language))
    if options.skip_citations:
        text = _CITATION.sub("", text)
    normalize = LANGUAGES.get(primary_language(options.language))
    if normalize is not None:
        text = normalize(text, held, heading)
    text = _DASH.sub(", ", text)
    text = _ELLIPSIS.sub(lambda m: "." if m.end() == len(text) else ", ", text)
    return held.restore(_tidy(text))


def _announce_other_scripts(text: str, language: str) -> str:
    """A passage in a script the essay's voice does not read (Greek inside English) is
    announced in a few words, never spelled out letter by letter."""
    own = _SCRIPT_OF_LANGUAGE.get(language)
    for name, pattern in _FOREIGN.items():
        if name != own:
            text = pattern.sub(f"a passage in {name} is left out", text)
    return text


def _note_number(match: re.Match[str]) -> str:
    if match.group(1):
        return match.group(1)
    return "".join(str(_SUPERSCRIPTS.index(c)) for c in match.group(2))


def _tidy(text: str) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    text = re.sub(r"\s+([,.;:!?])", r"\1", text)
    text = re.sub(r",(?:\s*,)+", ",", text)
    text = re.sub(r",\s*([.!?;:])", r"\1", text)
    return re.sub(r"^[,;:]\s*", "", text)


__all__ = ["LANGUAGES", "Lexicon", "SpeechOptions", "clean", "primary_language", "speakable"]
