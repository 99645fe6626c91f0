"""audioessay: turn written essays into chaptered podcast episodes, fully offline.

The public API is imported lazily (PEP 562), so ``audioessay --help`` and the voice worker
processes do not pay for NumPy/SciPy imports they never use.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .config import Pauses, RenderSettings
    from .engines import create_engine, engine_names, list_voices
    from .errors import AudioEssayError, RenderInterruptedError
    from .model import Chapter, Cue, Episode, Essay, Section
    from .parse import load_essay
    from .pipeline import render
    from .publishing import Publication, publish
    from .server import serve
    from .tags import TagReport, read_tags

_EXPORTS = {
    "AudioEssayError": "errors",
    "RenderInterruptedError": "errors",
    "Chapter": "model",
    "Cue": "model",
    "Episode": "model",
    "Essay": "model",
    "Pauses": "config",
    "RenderSettings": "config",
    "Section": "model",
    "create_engine": "engines",
    "engine_names": "engines",
    "list_voices": "engines",
    "load_essay": "parse",
    "render": "pipeline",
    "Publication": "publishing",
    "publish": "publishing",
    "serve": "server",
    "TagReport": "tags",
    "read_tags": "tags",
}
__all__ = [
    "AudioEssayError",
    "Chapter",
    "Cue",
    "Episode",
    "Essay",
    "Pauses",
    "Publication",
    "RenderInterruptedError",
    "RenderSettings",
    "Section",
    "TagReport",
    "create_engine",
    "engine_names",
    "list_voices",
    "load_essay",
    "publish",
    "read_tags",
    "render",
    "serve",
]
__version__ = "0.1.0"
"""Kept equal to ``pyproject.toml``'s version (a test checks it)."""


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module 'audioessay' has no attribute {name!r}")
