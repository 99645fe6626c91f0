"""audioessay: turn written essays into chaptered podcast episodes, fully offline."""

from __future__ import annotations

from .config import Pauses, RenderSettings
from .engines import create_engine, engine_names, list_voices
from .errors import AudioEssayError
from .model import Chapter, Cue, Episode, Essay, Section
from .parse import load_essay
from .pipeline import render

__all__ = [
    "AudioEssayError",
    "Chapter",
    "Cue",
    "Episode",
    "Essay",
    "Pauses",
    "RenderSettings",
    "Section",
    "create_engine",
    "engine_names",
    "list_voices",
    "load_essay",
    "render",
]
__version__ = "0.1.0"
