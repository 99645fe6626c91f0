"""Audio formats: the seam between the episode's blocks and a file that players open.

A format owns everything that differs from one container and codec to the next:

- the encoder, which turns one block (an utterance and its pause) into a stream of its own;
- its timing: the frame the codec works in, the encoder's delay at the start of every stream,
  and what joining two streams adds between them. The layout rounds each block to whole
  frames with it, and chapters and cues are placed from the frames each stream really holds;
- the container: how the streams are joined into one file, with the tags and chapters;
- its MIME type and file extension;
- the encoder's own gain, which the loudness target makes up for.

MP3 is the episode's own format (:mod:`.mp3`): the feed's enclosure, and the audio of the
pages and talking books. Ogg Opus (:mod:`.opus`) and AAC in MP4 (:mod:`.mp4`, as M4A and as the
M4B audiobook) are alternates, encoded from the same blocks at the same gain. A new format is a
class with the same members, registered in :data:`FORMATS`; nothing in the pipeline changes.
"""

from __future__ import annotations

from ..errors import OutputError, SettingsError
from .base import AudioFormat, Timing
from .mp3 import Mp3
from .mp4 import M4a, M4b
from .opus import Opus

__all__ = ["FORMATS", "AudioFormat", "Timing", "audio_format", "check_chapter_limits"]


def audio_format(name: str) -> AudioFormat:
    """The registered format called ``name``."""
    try:
        return FORMATS[name]
    except KeyError:
        raise SettingsError(
            f"unknown audio format {name!r}; known: {', '.join(sorted(FORMATS))}"
        ) from None


FORMATS: dict[str, AudioFormat] = {f.name: f for f in (Mp3(), Opus(), M4a(), M4b())}
"""Every audio format, by name."""


def check_chapter_limits(count: int, formats: tuple[str, ...]) -> None:
    """Refuse, right after parsing, an essay with more chapters than a format asked for can
    list (the MP3 is always made): before its script is built, let alone spoken."""
    for name in ("mp3", *formats):
        audio = FORMATS.get(name)
        if audio is not None and count > audio.max_chapters:
            other = "" if name == "mp3" else f", or leave out {name}"
            raise OutputError(
                f"{count:,} chapters is more than {audio.label} can list "
                f"({audio.max_chapters:,}); merge some headings or split the essay{other}"
            )
