"""Settings that outlive one essay: a folder's ``audioessay.toml`` and the user-wide lexicon.

Precedence, lowest first: built-in defaults, the user-wide lexicon, the nearest
``audioessay.toml`` (in the essay's folder or a parent), the essay's front matter, flags.

``audioessay.toml`` takes the same keys as front matter (``engine``, ``voice``, ``rate``,
``language``, ``lexicon``, ``skip_citations``, ``formats``, ``sync``) plus a ``[words]`` table
of lexicon entries. It changes how the folder's essays are read and nothing else: a
``[cluster]`` table there is ignored with a warning, since a folder from someone else must not
choose where its essays (and this machine's code) are sent. The cluster comes from the command
line, ``$AUDIOESSAY_CLUSTER`` or the user's own ``config.toml`` (:mod:`audioessay.batch`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from .config import USER_CONFIG, config_dir
from .errors import SettingsError
from .files import noticed, project_file, read_toml
from .model import EssaySettings
from .parse import essay_settings
from .speech.lexicon import Lexicon, lexicon_from_table, load_lexicon

USER_LEXICON = "lexicon.toml"


log = logging.getLogger(__name__)


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
    if data.pop("cluster", None) is not None:
        log.warning(
            "%s: [cluster] is ignored: a folder's settings cannot choose where its essays are "
            "sent (give --cluster, or set it in %s)", path, config_dir() / USER_CONFIG,
        )  # fmt: skip
    known = {"engine", "voice", "rate", "language", "lexicon", "skip_citations", "headings", "skip",
             "formats", "sync"}
    unknown = set(data) - known
    if unknown:
        raise SettingsError(f"{path}: unknown setting(s) {', '.join(sorted(unknown))}")
    settings = essay_settings(data, path.parent, str(path))
    return Project(path, settings, lexicon_from_table(words, str(path)))


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
