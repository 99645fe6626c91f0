"""One exception family whose messages are written for the person running audioessay.

The CLI catches :class:`AudioEssayError` alone, prints ``Error: <message>`` and exits 1, so
every message here must make sense on its own line, without a traceback.
"""

from __future__ import annotations


class AudioEssayError(Exception):
    """Base of every error audioessay raises on purpose."""


class InputError(AudioEssayError, ValueError):
    """The essay file cannot be read as an essay (missing, binary, undecodable, empty)."""


class ParseError(AudioEssayError, ValueError):
    """The essay was read but its structure or front matter is unusable."""


class SettingsError(AudioEssayError, ValueError):
    """An option or front-matter setting is out of range or unknown."""


class EngineError(AudioEssayError, RuntimeError):
    """A voice engine is unknown, unavailable, or failed to speak a sentence."""


class EncodeError(AudioEssayError, RuntimeError):
    """The MP3 encoder failed."""


class OutputError(AudioEssayError, OSError):
    """An output file or directory cannot be written where asked."""


class InspectError(AudioEssayError, ValueError):
    """A file handed to ``inspect`` is not a readable MP3 episode."""


class RenderInterruptedError(KeyboardInterrupt):
    """A render was cancelled (Ctrl-C, SIGTERM, or another thread); it unwinds like Ctrl-C."""


class CoverageError(AudioEssayError, RuntimeError):
    """Text of the essay would not be spoken: a reader lost it. Never passed over in silence."""


class ClusterError(AudioEssayError, RuntimeError):
    """The Dask cluster cannot be reached, or kept losing an essay's work."""
