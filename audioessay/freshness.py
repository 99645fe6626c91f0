"""Is the episode already there? Decided before the essay is parsed.

A render leaves in its record the command that made it (the *request*: the essay's path, the
settings as given, the voice it settled on, this code) and every input file it read or looked
for, with their digests (see :func:`files.watching`). A re-render of the same command whose
files are all unchanged would write the same bytes, so it is answered from the record: a few
file reads, with none of the parsing, speech or audio stages even imported. The CLI asks here
first; :func:`pipeline.render` asks again, for callers of the API.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from .cache import content_key
from .config import RenderSettings
from .engines import create_engine
from .errors import AudioEssayError
from .files import code_version, sweep_folder
from .model import Episode
from .record import recorded_voicing, up_to_date
from .work import Work


def voice_identity(engine: str, voice: str | None, rate: int) -> str:
    """The installed voice's identity (engine and library versions); raises if it is gone."""
    probe = create_engine(engine, voice, rate)
    try:
        return probe.identity
    finally:
        probe.close()


def request_key(
    source: Path, given: RenderSettings, explicit: frozenset[str], voiced: tuple[str, str | None, int]
) -> str:
    """A key of the command: the essay's path, the settings as given (not the folder, cache or
    jobs, which never change a byte), the flags, the voice settled on, and this code."""
    relevant = replace(given, jobs=0, cache_dir=None, output_dir=Path())
    parts = [code_version(), str(source.resolve()), repr(relevant), sorted(explicit), list(voiced)]
    return content_key("request", *parts)


def recorded(source: Path, given: RenderSettings, explicit: frozenset[str]) -> Episode | None:
    """The episode in the output folder if this same command made it from files that are all
    unchanged (:func:`record.up_to_date`), its ``work`` saying so; None if anything may differ.

    A folder found up to date is still swept of the temporaries killed renders left
    (:func:`.files.sweep_folder`): an unchanged render writes nothing else."""
    found = recorded_voicing(given.output_dir, source)
    if found is None:
        return None
    slug, (engine, voice, rate) = found
    try:  # the voice the last render settled on, as it is installed now
        voiced = (voice_identity(engine, voice, rate), voice, rate)
    except AudioEssayError:
        return None  # the render proper says what is wrong
    episode = up_to_date(given.output_dir, slug, request_key(source, given, explicit, voiced))
    if episode is None:
        return None
    sweep_folder(given.output_dir)
    return replace(episode, work={**Work().summary(), "unchanged": 1})
