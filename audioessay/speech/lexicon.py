"""Pronunciation lexicons: words or phrases mapped to a respelling or to phonemes.

Two file formats are read:

- TOML (ours)::

      Shue = "Shoo"                           # a respelling
      Saoirse = { ipa = "ˈsɪɹʃə" }            # IPA phonemes
      Goethe = { espeak = "g'3:t@" }          # eSpeak NG phoneme mnemonics
      NATO = { say = "nay toe", case = "sensitive" }
      [options]
      case = "auto"                           # or "sensitive" / "insensitive"

  Entries may also sit under a ``[words]`` table.

- W3C PLS 1.0 (``.pls``/``.xml``), the lexicon format of DAISY and EPUB: each ``<lexeme>``'s
  ``<grapheme>`` elements map to its first ``<alias>`` (a respelling) or ``<phoneme>``
  (``alphabet="ipa"``, or ``x-espeak`` for eSpeak mnemonics).

Matching is always on whole words (a phrase's spaces match any run of spaces; "Shue's" still
matches "Shue"). Case rule ``auto``: an entry written with a capital letter matches only that
spelling, an all-lowercase entry matches any capitalisation. Phonemes reach each engine in its
own alphabet (``[[...]]``): eSpeak NG mnemonics for the eSpeak voices, IPA for piper; IPA is
converted for eSpeak NG through the table below, and a symbol it lacks is an error at load.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import SettingsError
from ..files import SETTINGS_LIMIT, parse_toml, read_regular
from ._protect import Protected

CASES = ("auto", "sensitive", "insensitive")
PLS_NAMESPACE = "http://www.w3.org/2005/01/pronunciation-lexicon"

# IPA ↔ eSpeak NG (English phoneme set). Longest symbols first when converting.
_IPA_ESPEAK: tuple[tuple[str, str], ...] = (
    ("tʃ", "tS"), ("dʒ", "dZ"), ("eɪ", "eI"), ("aɪ", "aI"), ("ɔɪ", "OI"), ("aʊ", "aU"),
    ("oʊ", "oU"), ("əʊ", "@U"), ("ɪə", "i@"), ("eə", "e@"), ("ɛə", "e@"), ("ʊə", "U@"),
    ("iː", "i:"), ("uː", "u:"), ("ɑː", "A:"), ("ɔː", "O:"), ("ɜː", "3:"), ("ɝ", "3:"),
    ("ɚ", "3"), ("θ", "T"), ("ð", "D"), ("ʃ", "S"), ("ʒ", "Z"), ("ŋ", "N"), ("ɹ", "r"),
    ("ɾ", "t#"), ("ʔ", "?"), ("ɪ", "I"), ("ɛ", "E"), ("æ", "a"), ("ɑ", "A"), ("ɒ", "0"),
    ("ɔ", "O"), ("ʊ", "U"), ("ʌ", "V"), ("ə", "@"), ("ɜ", "3"), ("ɐ", "a#"), ("ᵻ", "I2"),
    ("ɡ", "g"), ("ˈ", "'"), ("ˌ", ","), ("ː", ":"), ("x", "x"),
    *((c, c) for c in "pbtdkgfvszhmnlrwjieaou"),
    (" ", " "),
)  # fmt: skip
_DROPPED_IPA = ".‿/[]"
"""Syllable marks and transcription brackets: no sound of their own."""


def ipa_to_espeak(ipa: str) -> str:
    """IPA → eSpeak NG mnemonics, or :class:`ValueError` naming a symbol with no equivalent."""
    return _convert(ipa, sorted(_IPA_ESPEAK, key=lambda p: -len(p[0])), "IPA", _DROPPED_IPA)


def espeak_to_ipa(mnemonics: str) -> str:
    """eSpeak NG mnemonics → IPA (for voices such as piper that read IPA)."""
    first: dict[str, str] = {}
    for ipa, espeak in _IPA_ESPEAK:
        first.setdefault(espeak, ipa)  # where two IPA symbols share a mnemonic, the first wins
    pairs = sorted(first.items(), key=lambda p: -len(p[0]))
    return _convert(mnemonics, pairs, "eSpeak", "")


def _convert(text: str, table: list[tuple[str, str]], name: str, dropped: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(text):
        if text[i] in dropped:
            i += 1
            continue
        for source, target in table:
            if text.startswith(source, i):
                out.append(target)
                i += len(source)
                break
        else:
            raise ValueError(f"{name} symbol {text[i]!r} has no equivalent")
    return "".join(out)


@dataclass(frozen=True)
class Entry:
    """One word or phrase and how to say it."""

    key: str
    say: str | None = None
    """A respelling, spoken by any voice."""
    espeak: str | None = None
    """Phonemes as eSpeak NG mnemonics (given, or converted from IPA)."""
    ipa: str | None = None
    """Phonemes in IPA (given, or converted from eSpeak mnemonics)."""
    sensitive: bool = False
    """Match this exact capitalisation only."""

    def spoken(self, alphabet: str | None, written: str) -> str:
        """What to hand an engine whose phoneme input is ``alphabet`` (None: text only)."""
        if alphabet == "espeak" and self.espeak:
            return f"[[{self.espeak}]]"
        if alphabet == "ipa" and self.ipa:
            return f"[[{self.ipa}]]"
        return self.say or written


@dataclass(frozen=True)
class Lexicon:
    """Entries from one or more files; a later file's entry replaces an earlier one's."""

    entries: tuple[Entry, ...] = ()
    sources: tuple[str, ...] = field(default=(), compare=False)

    def __bool__(self) -> bool:
        return bool(self.entries)

    def merged(self, other: Lexicon) -> Lexicon:
        """This lexicon with ``other``'s entries added, replacing same-word ones."""

        def ident(e: Entry) -> tuple[str, bool]:
            return (e.key if e.sensitive else e.key.casefold(), e.sensitive)

        replaced = {ident(e) for e in other.entries}
        kept = tuple(e for e in self.entries if ident(e) not in replaced)
        return Lexicon(kept + other.entries, self.sources + other.sources)

    def apply(self, text: str, protected: Protected, alphabet: str | None) -> str:
        """Replace every whole-word match (longest first) by a protected placeholder."""
        if not self.entries:
            return text
        pattern, table = _matcher(self.entries)

        def say(match: re.Match[str]) -> str:
            written = match.group(0)
            candidates = table[_fold(written)]
            entry = next((e for e in candidates if e.sensitive and _same(e.key, written)), None)
            entry = entry or next((e for e in candidates if not e.sensitive), None)
            if entry is None:
                return written
            return protected.hold(entry.spoken(alphabet, written))

        return pattern.sub(say, text)


def _fold(text: str) -> str:
    return " ".join(text.split()).casefold()


def _same(key: str, written: str) -> bool:
    return " ".join(written.split()) == key


_MATCHERS: dict[tuple[Entry, ...], tuple[re.Pattern[str], dict[str, list[Entry]]]] = {}


def _matcher(entries: tuple[Entry, ...]) -> tuple[re.Pattern[str], dict[str, list[Entry]]]:
    if entries not in _MATCHERS:
        table: dict[str, list[Entry]] = {}
        for entry in entries:
            table.setdefault(_fold(entry.key), []).append(entry)
        keys = sorted(table, key=len, reverse=True)
        alternatives = "|".join(r"\s+".join(map(re.escape, k.split())) for k in keys)
        _MATCHERS[entries] = (re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE), table)
    return _MATCHERS[entries]


def load_lexicon(path: Path) -> Lexicon:
    """Read a TOML or PLS lexicon; every problem is one :class:`SettingsError` naming the file."""
    data = read_regular(path, SETTINGS_LIMIT)
    pls = path.suffix.lower() in (".pls", ".xml") or data.lstrip().startswith(b"<")
    table = None if pls else parse_toml(data, f"lexicon {path}")
    try:
        entries = list(_from_pls(data) if table is None else _from_toml(table))
    except (ValueError, ET.ParseError, UnicodeDecodeError) as exc:
        raise SettingsError(f"lexicon {path}: {exc}") from exc
    return Lexicon(tuple(entries), (str(path),))


def lexicon_from_table(table: dict[str, Any], where: str) -> Lexicon:
    """Entries given inline (in ``audioessay.toml``'s ``[words]``)."""
    try:
        return Lexicon(tuple(_from_toml(table)), (where,))
    except ValueError as exc:
        raise SettingsError(f"{where}: {exc}") from exc


def _from_toml(data: dict[str, Any]) -> Iterable[Entry]:
    options = data.get("options", {})
    if not isinstance(options, dict):
        raise ValueError("[options] must be a table")
    default_case = options.get("case", "auto")
    if default_case not in CASES:
        raise ValueError(f"options.case must be one of {', '.join(CASES)}, not {default_case!r}")
    words = dict(data.get("words", {}))
    words.update({k: v for k, v in data.items() if k not in ("options", "words")})
    for key, value in words.items():
        yield _entry(key, value, default_case)


def _entry(key: str, value: Any, default_case: str) -> Entry:
    if not key.strip():
        raise ValueError("an entry has an empty word")
    if isinstance(value, str):
        value = {"say": value}
    if not isinstance(value, dict):
        raise ValueError(f"{key!r} must be a respelling or a table with say, ipa or espeak")
    unknown = set(value) - {"say", "ipa", "espeak", "case"}
    if unknown:
        raise ValueError(f"{key!r} has unknown field(s) {', '.join(sorted(unknown))}")
    case = value.get("case", default_case)
    if case not in CASES:
        raise ValueError(f"{key!r}: case must be one of {', '.join(CASES)}, not {case!r}")
    say, ipa, espeak = value.get("say"), value.get("ipa"), value.get("espeak")
    if not (say or ipa or espeak):
        raise ValueError(f"{key!r} needs a respelling (say), ipa or espeak phonemes")
    for name, text in (("say", say), ("ipa", ipa), ("espeak", espeak)):
        if text is not None and (not isinstance(text, str) or "[[" in text or "]]" in text):
            raise ValueError(f"{key!r}: {name} must be text without [[ or ]]")
    try:
        if ipa and not espeak:
            espeak = ipa_to_espeak(ipa)
        if espeak and not ipa:
            ipa = espeak_to_ipa(espeak)
    except ValueError as exc:
        raise ValueError(f"{key!r}: {exc}; give its eSpeak NG phonemes too (espeak = …)") from None
    sensitive = case == "sensitive" or (case == "auto" and key != key.lower())
    return Entry(" ".join(key.split()), say, espeak, ipa, sensitive)


def _from_pls(data: bytes) -> Iterable[Entry]:
    root = ET.fromstring(data)
    ns = f"{{{PLS_NAMESPACE}}}"
    if root.tag != f"{ns}lexicon":
        raise ValueError(f"not a PLS lexicon (root element {root.tag!r})")
    default_alphabet = root.get("alphabet", "ipa")
    for lexeme in root.iter(f"{ns}lexeme"):
        graphemes = [
            g.text.strip() for g in lexeme.iter(f"{ns}grapheme") if g.text and g.text.strip()
        ]
        alias = next((a.text.strip() for a in lexeme.iter(f"{ns}alias") if a.text), None)
        phoneme = next(iter(lexeme.iter(f"{ns}phoneme")), None)
        value: dict[str, str] = {}
        if alias:
            value["say"] = alias
        if phoneme is not None and phoneme.text:
            alphabet = phoneme.get("alphabet", default_alphabet)
            if alphabet == "ipa":
                value["ipa"] = phoneme.text.strip()
            elif alphabet in ("x-espeak", "x-espeak-ng", "espeak"):
                value["espeak"] = phoneme.text.strip()
            else:
                raise ValueError(f"phoneme alphabet {alphabet!r} is not ipa or x-espeak")
        for grapheme in graphemes:
            yield _entry(grapheme, value, "auto")
