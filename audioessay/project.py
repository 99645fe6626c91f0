"""Settings that outlive one essay: a folder's ``audioessay.toml`` and the user-wide lexicon.

Precedence, lowest first: built-in defaults, the user-wide lexicon, the nearest
``audioessay.toml`` (in the essay's folder or a parent), the essay's front matter, flags.

``audioessay.toml`` takes the same keys as front matter (``engine``, ``voice``, ``rate``,
``language``, ``lexicon``, ``skip_citations``, ``formats``, ``sync``) plus a ``[words]`` table of lexicon entries and a ``[cluster]`` table whose
``address`` is the Dask scheduler a batch renders on (:mod:`audioessay.batch`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import platformdirs

from .config import cluster_setting
from .errors import SettingsError
from .files import noticed, project_file, read_toml
from .model import EssaySettings
from .parse import essay_settings
from .speech.lexicon import Lexicon, lexicon_from_table, load_lexicon

USER_LEXICON = "lexicon.toml"


def config_dir() -> Path:
    """The user's audioessay configuration folder (``AUDIOESSAY_CONFIG_DIR`` overrides it)."""
    override = os.environ.get("AUDIOESSAY_CONFIG_DIR")
    return Path(override) if override else Path(platformdirs.user_config_dir("audioessay"))


def user_lexicon() -> Path | None:
    """The user-wide default lexicon, if there is one."""
    path = config_dir() / USER_LEXICON
    noticed(path)
    return path if path.is_file() else None


@dataclass(frozen=True)
class Project:
    """A folder's ``audioessay.toml``: settings and inline lexicon entries."""

    path: Path | None = None
    settings: EssaySettings = field(default_factory=EssaySettings)
    words: Lexicon = field(default_factory=Lexicon)
    cluster: str | None = None
    """``[cluster] address``: the Dask scheduler a batch of the folder's essays renders on."""


def find_project(essay: Path) -> Project:
    """The nearest ``audioessay.toml`` at or above the essay's folder (empty if none)."""
    path = project_file(essay)
    return load_project(path) if path is not None else Project()


def load_project(path: Path) -> Project:
    """Read one ``audioessay.toml``."""
    data = read_toml(path)
    words = data.pop("words", {})
    if not isinstance(words, dict):
        raise SettingsError(f"{path}: [words] must be a table of word = respelling")
    address = cluster_setting(data.pop("cluster", {}), path)
    known = {"engine", "voice", "rate", "language", "lexicon", "skip_citations", "headings", "skip",
             "formats", "sync"}
    unknown = set(data) - known
    if unknown:
        raise SettingsError(f"{path}: unknown setting(s) {', '.join(sorted(unknown))}")
    settings = essay_settings(data, path.parent, str(path))
    return Project(path, settings, lexicon_from_table(words, str(path)), address)


def build_lexicon(files: tuple[Path, ...], project: Project) -> Lexicon:
    """The user-wide lexicon, then the project's inline words, then ``files`` in order."""
    lexicon = Lexicon()
    default = user_lexicon()
    if default is not None:
        lexicon = lexicon.merged(load_lexicon(default))
    lexicon = lexicon.merged(project.words)
    for path in files:
        lexicon = lexicon.merged(load_lexicon(path))
    return lexicon
