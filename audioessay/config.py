"""Render settings: defaults, overridden by the essay's front matter, overridden by CLI flags."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from .errors import SettingsError
from .model import EssaySettings

MIN_RATE = 80
"""Slowest speaking rate accepted, in words per minute (eSpeak NG's own lower limit)."""
MAX_RATE = 450
"""Fastest speaking rate accepted; players speed audio up better than a rushed voice does."""
FORMATS = ("mp3", "opus", "m4a", "m4b", "daisy", "epub")
"""Outputs of a render: the MP3 (always), Opus, M4A and M4B alternates of it, a DAISY 2.02 book,
an EPUB 3 with Media Overlays."""
SYNCS = ("sentence", "word")
"""How finely an EPUB's text follows the audio."""
OPUS_BITRATES = range(6, 257)
"""What libopus accepts for mono, in kb/s."""
BITRATES = (32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320)
"""MPEG-1 Layer III bit rates (kb/s) valid at 44.1 kHz."""


@dataclass(frozen=True)
class Pauses:
    """Silences placed between spoken pieces, in seconds, exactly as the listener hears them."""

    sentence: float = 0.35
    """Between two sentences of one paragraph."""
    clause: float = 0.12
    """Between the pieces of a sentence too long to be spoken in one go."""
    paragraph: float = 0.7
    """Between paragraphs."""
    title: float = 1.0
    """After the episode title and after each chapter's spoken heading."""
    chapter: float = 1.5
    """Between the end of one chapter and the next chapter's heading."""

    def validate(self) -> Pauses:
        """Return self, or raise if a pause is negative or absurdly long."""
        for name in ("sentence", "clause", "paragraph", "title", "chapter"):
            value = getattr(self, name)
            if not 0 <= value <= 30:
                raise SettingsError(f"--{name}-pause must be between 0 and 30 seconds, not {value}")
        return self


@dataclass(frozen=True)
class RenderSettings:
    """Everything a render needs besides the essay itself."""

    engine: str = "pyttsx3"
    voice: str | None = None
    """Engine voice id; None uses the engine's default."""
    rate: int = 175
    """Speaking rate in words per minute."""
    bitrate: int = 64
    """CBR MP3 bit rate in kb/s (the M4A and M4B's AAC uses it too)."""
    opus_bitrate: int = 24
    """Opus bit rate in kb/s: 24 is transparent enough for speech and a third of the MP3."""
    pauses: Pauses = field(default_factory=Pauses)
    output_dir: Path = Path("output")
    cover: Path | None = None
    """Square JPEG or PNG embedded as APIC cover art."""
    loudness: float = -19.0
    """Integrated loudness target (LUFS) for mono speech."""
    jobs: int = 1
    """Threads that synthesize, measure and encode; the output is the same for any number."""
    cache_dir: Path | None = None
    """Where synthesized audio and encoded blocks are kept; None for a private, temporary one."""
    formats: tuple[str, ...] = ("mp3",)
    """What to produce: the MP3 and its sidecars always, and any of ``opus``, ``m4a``, ``m4b``,
    ``daisy`` and ``epub``."""
    sync: str = "sentence"
    """How finely the EPUB's Media Overlays follow the narration: ``sentence`` (every reading
    system) or ``word`` (one ``par`` per word, for those that highlight words, such as
    Thorium). DAISY 2.02 is always by sentence."""
    lexicons: tuple[Path, ...] = ()
    """``--lexicon`` files: they win over every other lexicon."""
    essay_lexicons: tuple[Path, ...] = ()
    """Lexicons named by audioessay.toml, then by front matter (in that order)."""
    skip_citations: bool = False
    """Leave bracketed and author-year citations unspoken."""
    headings: str | None = None
    """``--headings``: a pattern for heading lines that replaces detection (plain text)."""
    skip: tuple[str, ...] = ()
    """``--skip``: titles of sections to leave out, with those of audioessay.toml and front matter."""
    true_peak: float = -2.0
    """True-peak ceiling (dBTP) before encoding. MP3 quantisation adds up to about 0.6 dB of
    overshoot, so this margin keeps the encoded file at or below -1 dBTP."""

    def validate(self) -> RenderSettings:
        """Return self, or raise :class:`SettingsError` naming the bad option."""
        if not MIN_RATE <= self.rate <= MAX_RATE:
            raise SettingsError(
                f"--rate must be between {MIN_RATE} and {MAX_RATE} words per minute, not {self.rate}"
            )
        if self.bitrate not in BITRATES:
            allowed = ", ".join(str(b) for b in BITRATES)
            raise SettingsError(f"--bitrate must be one of {allowed} kb/s, not {self.bitrate}")
        if self.opus_bitrate not in OPUS_BITRATES:
            raise SettingsError(
                f"--opus-bitrate must be between 6 and 256 kb/s, not {self.opus_bitrate}"
            )
        if not 1 <= self.jobs <= 64:
            raise SettingsError(f"--jobs must be between 1 and 64, not {self.jobs}")
        unknown = set(self.formats) - set(FORMATS)
        if unknown or not self.formats:
            raise SettingsError(
                f"--format takes {', '.join(FORMATS)} (comma-separated), not {','.join(self.formats)}"
            )
        if self.sync not in SYNCS:
            raise SettingsError(f"--sync takes {' or '.join(SYNCS)}, not {self.sync!r}")
        self.pauses.validate()
        return self

    def with_essay(self, essay: EssaySettings, explicit: frozenset[str]) -> RenderSettings:
        """Apply an essay's (or a folder's) settings, except those the user set explicitly.

        Lexicons add up instead (see :func:`~audioessay.project.build_lexicon` for the order).
        """
        changes: dict[str, object] = {}
        for name in ("engine", "voice", "rate", "skip_citations", "sync"):
            value = getattr(essay, name)
            if value is not None and name not in explicit:
                changes[name] = value
        if essay.formats is not None and "formats" not in explicit:
            changes["formats"] = essay.formats
        if essay.lexicon:
            changes["essay_lexicons"] = (*self.essay_lexicons, *essay.lexicon)
        return replace(self, **changes) if changes else self  # type: ignore[arg-type]


_PAUSE_FLAGS = {f"{name}_pause": name for name in ("sentence", "clause", "paragraph", "title", "chapter")}


USER_CONFIG = "config.toml"
"""The user's own settings file in :func:`config_dir`: where a cluster may be named."""


def config_dir() -> Path:
    """The user's audioessay configuration folder (``AUDIOESSAY_CONFIG_DIR`` overrides it)."""
    import platformdirs

    override = os.environ.get("AUDIOESSAY_CONFIG_DIR")
    return Path(override) if override else Path(platformdirs.user_config_dir("audioessay"))


def cluster_setting(table: object, path: Path) -> str | None:
    """``[cluster] address`` of the settings file at ``path`` (None when absent): the Dask
    scheduler its folder's batches render on."""
    address = table.get("address") if isinstance(table, dict) else None
    if not isinstance(table, dict) or set(table) - {"address"} or not isinstance(address, str | None):
        raise SettingsError(f'{path}: [cluster] takes one setting, address = "tcp://host:8786"')
    return address


def load_settings(flags: Mapping[str, Any]) -> tuple[RenderSettings, frozenset[str]]:
    """The settings the command line gives, and the names of those it gave (``None`` is not
    given): defaults < ``audioessay.toml`` < front matter < flags, where the essay's folder and
    front matter are applied per essay by ``with_essay``, which leaves the given ones alone.

    Flags are named like the settings, except ``--lexicon`` (``lexicon``, files), ``--format``
    (``formats``, comma-separated text) and the pauses (``sentence_pause``…)."""
    given = {name: value for name, value in flags.items() if value is not None}
    changes: dict[str, Any] = {}
    pauses: dict[str, float] = {}
    for name, value in given.items():
        if name in _PAUSE_FLAGS:
            pauses[_PAUSE_FLAGS[name]] = value
        elif name == "lexicon":
            changes["lexicons"] = tuple(value)
        elif name == "formats":
            changes["formats"] = tuple(f.strip().lower() for f in str(value).split(",") if f.strip())
        elif name in {"skip"}:
            changes[name] = tuple(value)
        elif name in _FIELDS:
            changes[name] = value
        else:
            raise ValueError(f"no setting is called {name!r}")
    if pauses:
        changes["pauses"] = Pauses(**pauses)
    explicit = frozenset(name for name in given if name not in ("lexicon",) or given[name])
    return replace(RenderSettings(), **changes), explicit


_FIELDS = {f.name for f in fields(RenderSettings)}
