"""``render()``: essay in, episode out. Reads top to bottom like the pipeline diagram.

    unchanged? (:mod:`.freshness`: the record's command and the files it read)
          → parse → script (speakable text; every written word checked)
          → check voice, art, limits → claim a slug → plan the outputs
          → unchanged? (the parsed inputs' key)
          → each format's gain (calibrated once per voice and format, cached)
          → narrate (cached pieces) ─┬→ lay out each chapter in blocks as soon as it is spoken,
                                     │  each alternate format's aligned to the MP3's
                                     └→ limit + encode each block of each format (cached)
          → check each format's loudness → place chapters and cues → stage: each audio file
            (tags and chapters, then its block streams), sidecars, cover art → the Episode
            → its talking books and page → move all into place → the record

Synthesis runs on ``jobs`` threads and mastering on ``jobs`` more, so a chapter is measured and
encoded while later ones are still being spoken (LAME and NumPy release the GIL; pyttsx3 and
eSpeak NG speak in worker processes). Each block's stream (an utterance and its pause) depends
on its own audio and the gain alone, and they are joined in order, so the output is
byte-identical whatever ``jobs`` is."""

from __future__ import annotations

import contextlib
import logging
import tempfile
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from functools import partial
from importlib import import_module
from pathlib import Path
from typing import TypeVar

from .assemble import Aligner, ChapterLayout, lay_out
from .cache import Cache, content_key
from .config import RenderSettings
from .coverage import check_coverage
from .engines import (
    Engine,
    EnginePool,
    Samples,
    create_engine,
    engine_alphabet,
    voice_for_language,
)
from .files import (
    LOCK_FILE,
    check_writable,
    code_version,
    episode_slug,
    locked,
    prepare_output_dir,
    staging,
    sweep_folder,
    watching,
)
from .formats import FORMATS, AudioFormat, Timing, audio_format, check_chapter_limits
from .freshness import recorded, request_key
from .interrupt import Stop, check
from .mastering import CALIBRATION_LINES, EncodedChapter, Mastering, calibration_layout
from .model import AudioFile, Chapter, Cue, Episode, Essay, Outputs, Progress, Structure
from .narrate import (
    SAMPLE_RATE,
    NarratedSection,
    Narrator,
    Piece,
    Prelude,
    Voicing,
    completed,
    narrate,
)
from .pages import episode_page, write_assets
from .parse import load_essay
from .podcast import read_podcast
from .project import Project, build_lexicon, find_project
from .publishing import republished
from .record import Inputs, claim_slug, stable_identity, unchanged, write_record
from .script import Script, write_script
from .speech import SpeechOptions
from .tags import read_cover
from .transcript import format_json_chapters, format_json_transcript, format_srt, format_vtt
from .work import Work

log = logging.getLogger(__name__)
T = TypeVar("T")
R = TypeVar("R")


def render(
    source: Path | str,
    settings: RenderSettings | None = None,
    explicit: frozenset[str] = frozenset(),
    progress: Callable[[Progress], None] | None = None,
    cancel: threading.Event | None = None,
    work: Work | None = None,
) -> Episode:
    """Render the essay at ``source`` into a tagged, chaptered MP3, its alternates in the
    other formats asked for, and its sidecar files (``settings.output_dir``, by default
    ``output``).

    ``explicit`` names the settings the caller insists on, which win over the essay's
    folder and front matter. Setting ``cancel`` from another thread stops the render within
    a fraction of a second (:class:`.RenderInterruptedError`). Every refusal is an
    :class:`.AudioEssayError` whose message is written for a person.
    """
    work = work or Work()
    planned = plan(Path(source), settings or RenderSettings(), explicit, work)
    if isinstance(planned, Episode):
        return planned
    check(cancel)
    with claimed(planned) as (out_dir, slug, wanted):
        return finish(planned, out_dir, slug, wanted, progress, cancel, work)


@dataclass(frozen=True)
class Plan:
    """An essay read, spoken as a script and checked: everything a render needs besides the
    voice. It is what a cluster's workers are sent, so they never need the essay's folder."""

    essay: Essay
    settings: RenderSettings
    """Settled: defaults < audioessay.toml < front matter < flags, and validated."""
    script: Script
    voicing: Voicing
    art: tuple[bytes, str] | None
    """The cover art's bytes and MIME type."""
    request: str
    """The command's key (:func:`.freshness.request_key`), for the record."""
    reads: tuple[tuple[str, str | None], ...]
    """Every input file read or looked for so far, with its digest, for the record."""


def plan(
    source: Path, given: RenderSettings, explicit: frozenset[str], work: Work | None = None
) -> Plan | Episode:
    """Read, parse and check the essay at ``source``; or the episode already made from it.

    Everything that can be refused is checked here, before any output folder exists or any
    audio is made: the essay, the voice, the cover art, the limits of the tags."""
    work = work or Work()
    # The same command on files that have not changed: the episode there is the answer, known
    # from its record before anything is parsed.
    with work.timed("parse"):
        fresh = recorded(source, given, explicit)
    if fresh is not None:
        return replace(fresh, work={**fresh.work, **work.summary()})
    with watching() as reads:  # every input file read from here on goes into the record
        # Read and parse; settings: defaults < audioessay.toml < front matter < flags.
        with work.timed("parse"):
            essay, settings, script = prepare(source, given, explicit)
        voicing = _voicing(settings)
        cover = settings.cover or essay.metadata.image
        art = read_cover(cover) if cover is not None else None
    voiced = (voicing.identity, voicing.voice, voicing.rate)
    request = request_key(source, given, explicit, voiced)
    return Plan(essay, settings, script, voicing, art, request, tuple(reads.items()))


@contextlib.contextmanager
def claimed(planned: Plan) -> Iterator[tuple[Path, str, str]]:
    """The output folder, made and checked writable, and a slug of it held for the essay:
    ``(folder, slug, the slug it wanted)``. A folder made here is removed again if the render
    fails and nothing else is in it."""
    essay = planned.essay
    created = not planned.settings.output_dir.exists()
    out_dir = prepare_output_dir(planned.settings.output_dir)
    try:
        check_writable(out_dir)
        sweep_folder(out_dir)
        wanted = episode_slug(essay.metadata.title, essay.source)
        with claim_slug(out_dir, wanted, essay.source, essay.metadata.title) as slug:
            yield out_dir, slug, wanted
    except BaseException:
        if created:
            with contextlib.suppress(OSError):
                (out_dir / LOCK_FILE).unlink(missing_ok=True)
                out_dir.rmdir()
        raise


def finish(
    planned: Plan,
    out_dir: Path,
    slug: str,
    wanted: str,
    progress: Callable[[Progress], None] | None = None,
    cancel: threading.Event | None = None,
    work: Work | None = None,
    voices: EnginePool | None = None,
) -> Episode:
    """The render proper, once the essay is planned and holds its own slug: narrate and
    master every chapter (from the cache, where a cluster's chapter tasks have put them),
    then write every output and the record. ``voices`` keeps engines between a cluster
    worker's tasks."""
    with watching() as reads:  # the planning's reads first, then the folder's own
        reads.update(planned.reads)
        return _render(
            planned, out_dir, slug, wanted, progress, cancel, work or Work(), reads, voices
        )


def _render(
    planned: Plan,
    out_dir: Path,
    slug: str,
    wanted: str,
    progress: Callable[[Progress], None] | None,
    cancel: threading.Event | None,
    work: Work,
    reads: dict[str, str | None],
    voices: EnginePool | None,
) -> Episode:
    """The render proper, once the essay has its checked settings and its own slug.

    The plan's ``request`` and ``reads`` go into the record for the next render
    (:mod:`.freshness`)."""
    essay, settings, script, voicing, art = (
        planned.essay, planned.settings, planned.script, planned.voicing, planned.art
    )  # fmt: skip
    source = essay.source
    audios = [audio_format(name) for name in FORMATS if name == "mp3" or name in settings.formats]
    files = plan_outputs(out_dir, slug, audios, settings.formats)
    guid, published = stable_identity(essay.metadata, out_dir, slug, wanted)
    podcast = read_podcast(out_dir)
    inputs = _inputs_key(essay, settings, script, voicing, art, repr(podcast), guid, published)
    fresh = unchanged(out_dir, slug, inputs)
    if fresh is not None:  # these very files were made from these very inputs: nothing to do
        return replace(fresh, work={**work.summary(), "unchanged": 1})

    description = describe(essay)
    # The files' date: the essay's, else its publication date, which the record keeps (not
    # the day of this render: a re-render, or a cluster's worker after midnight, agrees).
    tagged = replace(essay.metadata, date=essay.metadata.date or published.date().isoformat())
    with _open_cache(settings) as cache:
        run = _Run(settings, cache, Stop(cancel), progress, work, voices)
        # One mastering per distinct encoding (the M4B is the M4A's very AAC), the MP3's first.
        encoding = {audio.name: _encoding(audio, settings) for audio in audios}
        masters: dict[tuple[str, Timing], Mastering] = {}
        for audio in audios:
            if encoding[audio.name] not in masters:
                masters[encoding[audio.name]] = Mastering(
                    settings, voicing, cache, run.repair, run.cancel, work, audio
                )
        encoded = _narrate_and_master(script, voicing, run, list(masters.values()))
        mastered = dict(zip(masters, encoded, strict=True))
        main = mastered[encoding[audios[0].name]]
        chapters, cues, duration = main.placed(audios[0].timing)

        check(run.cancel)
        # Every output is staged under a temporary name, then all are moved into place at
        # once: each audio file (its tags and chapters, then its block streams), the
        # sidecars, the art, then the talking books and the page, which are views of them.
        with work.timed("write"), staging() as stage:
            staged: dict[str, Path] = {}
            for audio, audio_file in zip(audios, files.audio, strict=True):
                own = mastered[encoding[audio.name]]
                own_chapters, _, own_duration = own.placed(audio.timing)
                staged[audio.name] = stage.file(audio_file.path)
                audio.write(
                    staged[audio.name], tagged, own_chapters, own_duration,
                    description, art, own.streams(),
                )  # fmt: skip
            stage.write(
                files.chapters, format_json_chapters(chapters, essay.metadata, files.mp3.name)
            )
            stage.write(files.vtt, format_vtt(cues))
            stage.write(files.srt, format_srt(cues))
            assert files.transcript is not None  # planned with the rest
            stage.write(files.transcript, format_json_transcript(cues))
            image = None
            if art is not None:
                image = out_dir / f"{slug}.cover.{'png' if art[1] == 'image/png' else 'jpg'}"
                stage.write(image, art[0])
            episode = Episode(
                source=source,
                metadata=essay.metadata,
                slug=slug,
                duration=duration,
                chapters=tuple(chapters),
                cues=tuple(cues),
                files=files,
                guid=guid,
                published=published,
                description=description,
                image=image,
            )
            # Talking books, when asked for: the same cues time their text.
            narrator = f"{settings.engine} (synthetic voice)"
            for book in BOOKS:
                if book in settings.formats:  # (imported only when asked for)
                    module = import_module(f".books.{book}", __package__)
                    write = getattr(module, f"write_{book}")
                    write(episode, narrator, stage, staged["mp3"], settings.sync)
            # The page (the HTML transcript), which offers every file for download.
            write_assets(out_dir)
            sizes = {name: path.stat().st_size for name, path in staged.items()}
            assert files.html is not None  # planned with the rest
            stage.write(files.html, episode_page(episode, podcast, sizes))
            check(run.cancel)  # the last moment to stop: then everything moves into place
            voiced = (settings.engine, settings.voice, settings.rate)
            # Feed builds and servers see the folder before or after; a static feed.xml
            # never lists the new files with the old sizes (:func:`.publishing.republished`).
            with locked(out_dir), republished(out_dir, slug):
                stage.commit()
                # Last, the record, with every file's size and hash: its presence
                # means the set is whole.
                record = Inputs(inputs, planned.request, tuple(reads.items()), voiced)
                write_record(episode, record)
    loudness = round(main.master.loudness(main.encoded), 2)
    return replace(episode, work={**work.summary(), "loudness_lufs": loudness})


@dataclass(frozen=True)
class Done:
    """What a cluster's task did before an essay's finish: the work it took, and the seconds
    of audio it narrated (a chapter) or the gain it settled (a voice's calibration)."""

    work: dict[str, float | int]
    audio: float = 0.0
    gain: float = 0.0


def settle_gain(
    planned: Plan, cancel: threading.Event | None = None, voices: EnginePool | None = None
) -> Done:
    """The MP3's gain for the plan's voice: from the cache, else calibrated now and cached.

    On a cluster this is a task of its own, which every chapter task of the voice waits for
    (the gain is the same for every essay spoken by one voice, at one target)."""
    settings, work = planned.settings, Work()
    with _open_cache(settings) as cache:
        run = _Run(settings, cache, Stop(cancel), None, work, voices)
        master = Mastering(settings, planned.voicing, cache, run.repair, run.cancel, work, MP3)
        gain = master.cached_gain()
        if gain is not None:
            return Done(work.summary(), gain=gain)
        for part in narrate(
            planned.script, planned.voicing, run.engine, cache, jobs=settings.jobs,
            cancel=run.cancel, work=work, prelude=CALIBRATION_LINES, sections=(),
            release=run.release,
        ):  # fmt: skip
            assert isinstance(part, Prelude)  # the only part asked for
            gain = master.calibrate(calibration_layout(part.utterances, settings.pauses, MP3.timing))
    assert gain is not None
    return Done(work.summary(), gain=gain)


def speak_chapter(
    planned: Plan,
    index: int,
    gain: float,
    cancel: threading.Event | None = None,
    voices: EnginePool | None = None,
) -> Done:
    """Narrate chapter ``index`` and encode its MP3 blocks at ``gain``, into the cache.

    A cluster's unit of work: :func:`finish` then finds every piece and stream of the
    chapter cached, and lays it out, encodes it and writes it exactly as a local render
    does. (Alternate formats are encoded by :func:`finish`: each block's length there
    depends on every chapter before it.)"""
    settings, work = planned.settings, Work()
    with _open_cache(settings) as cache:
        run = _Run(settings, cache, Stop(cancel), None, work, voices)
        master = Mastering(settings, planned.voicing, cache, run.repair, run.cancel, work, MP3)
        audio = 0
        for part in narrate(
            planned.script, planned.voicing, run.engine, cache, jobs=settings.jobs,
            cancel=run.cancel, work=work, sections=(index,), release=run.release,
        ):  # fmt: skip
            assert isinstance(part, NarratedSection)  # no prelude was asked for
            layout = lay_out(part, settings.pauses, MP3.timing)
            master.encode(layout, gain)
            audio += sum(block.length for block in layout.blocks)
    return Done(work.summary(), audio=audio / SAMPLE_RATE)


def _encoding(audio: AudioFormat, settings: RenderSettings) -> tuple[str, Timing]:
    """What decides a format's streams: formats that agree on it share them."""
    return audio.identity(audio.bitrate(settings)), audio.timing


@dataclass(frozen=True)
class _Encoded:
    """One encoding of the whole episode: its chapters' layouts and cached streams."""

    master: Mastering
    layouts: list[ChapterLayout]
    encoded: list[EncodedChapter]

    def placed(self, timing: Timing) -> tuple[list[Chapter], list[Cue], float]:
        return place(self.layouts, [chapter.frames for chapter in self.encoded], timing)

    def streams(self) -> Iterator[bytes]:
        for chapter in self.encoded:
            yield from self.master.streams(chapter)


MP3 = FORMATS["mp3"]
"""The episode's own format: the one a cluster's chapter tasks encode."""
BOOKS = ("daisy", "epub")
"""The talking books, each written by ``write_<name>`` in :mod:`audioessay.books.<name>`."""


def plan_outputs(
    out_dir: Path, slug: str, audios: list[AudioFormat], formats: tuple[str, ...]
) -> Outputs:
    """Where each output of the episode ``slug`` goes: known before any is written."""

    def named(suffix: str) -> Path:
        return out_dir / f"{slug}{suffix}"

    return Outputs(
        audio=tuple(AudioFile(audio.name, named(audio.extension)) for audio in audios),
        chapters=named(".chapters.json"),
        vtt=named(".vtt"),
        srt=named(".srt"),
        html=named(".html"),
        transcript=named(".transcript.json"),
        daisy=named(".daisy") if "daisy" in formats else None,
        daisy_zip=named(".daisy.zip") if "daisy" in formats else None,
        epub=named(".epub") if "epub" in formats else None,
    )


def _narrate_and_master(
    script: Script, voicing: Voicing, run: _Run, masters: list[Mastering]
) -> list[_Encoded]:
    """Every chapter laid out, limited and encoded in each format, the later ones spoken
    meanwhile.

    Speaks every sentence the cache lacks, in order. Each chapter is laid out as soon as its
    pieces exist and sent to be limited and encoded at the voice's gain while the next ones are
    spoken. The voice's calibration passage is spoken first when its gain is not cached yet.
    The first master's format (the MP3) sets the layout; every other format's is aligned to it
    and encoded from the same pieces, at a gain calibrated for its own target and ceiling.
    """
    settings, pauses = run.settings, run.settings.pauses
    main = masters[0]
    cached = [master.cached_gain() for master in masters]
    aligners = [Aligner(main.audio.timing, master.audio.timing) for master in masters[1:]]
    layouts: list[list[ChapterLayout]] = [[] for _ in masters]
    distinct: set[str] = set()
    uncalibrated = any(gain is None for gain in cached)
    with _Mastering(settings.jobs, run.cancel) as pool:
        gains = [pool.value(gain) if gain is not None else None for gain in cached]
        for part in narrate(
            script, voicing, run.engine, run.cache, jobs=settings.jobs, progress=run.narrated,
            cancel=run.cancel, work=run.work, prelude=CALIBRATION_LINES if uncalibrated else (),
            release=run.release,
        ):  # fmt: skip
            if isinstance(part, Prelude):  # each format's gain, for its own target and ceiling
                for index, master in enumerate(masters):
                    if gains[index] is None:
                        passage = calibration_layout(part.utterances, pauses, master.audio.timing)
                        gains[index] = pool.submit(master.calibrate, passage)
                continue
            layout = lay_out(part, pauses, main.audio.timing)
            fresh = {block.key for block in layout.blocks} - distinct
            distinct |= fresh
            run.work.count("blocks", len(fresh))  # the distinct streams the episode is made of
            chapter = [layout, *(aligner.align(layout) for aligner in aligners)]
            for master, aligned, settling, laid in zip(masters, chapter, gains, layouts, strict=True):
                assert settling is not None  # the prelude comes first
                laid.append(aligned)
                pool.chapter(partial(master.encode, aligned), settling)
        encoded = pool.results(run.encoded(len(layouts[0]) * len(masters)))
        settled = [settling.result() if settling is not None else 0.0 for settling in gains]
    # The essay as each format encoded it is measured: one far from the level is corrected.
    results = []
    for index, (master, laid, gain) in enumerate(zip(masters, layouts, settled, strict=True)):
        chapters = encoded[index :: len(masters)]
        corrected = master.correction(chapters, gain)
        if corrected is not None:
            with _Mastering(settings.jobs, run.cancel) as pool:
                for layout in laid:
                    pool.chapter(partial(master.encode, layout), pool.value(corrected))
                chapters = pool.results(run.encoded(len(laid)))
        results.append(_Encoded(master, laid, chapters))
    return results


def _inputs_key(
    essay: Essay,
    settings: RenderSettings,
    script: Script,
    voicing: Voicing,
    art: tuple[bytes, str] | None,
    podcast: str,
    guid: str,
    published: object,
) -> str:
    """A key of everything a render's bytes depend on: the parsed essay and its script (so
    lexicons and speech rules are in it), the settings that change output (not ``jobs``, the
    cache or the folder, which never change a byte), the voice, the art, the podcast's
    settings for the page, the identity kept in the record, and this code itself."""
    import hashlib

    relevant = replace(settings, jobs=0, cache_dir=None, output_dir=Path())
    parts = [
        code_version(), repr(essay), repr(relevant), repr(script),
        [voicing.identity, voicing.voice, voicing.rate],
        hashlib.sha256(art[0]).hexdigest() if art else None, podcast, guid, str(published),
    ]  # fmt: skip
    return content_key("inputs", *parts)


def _voicing(settings: RenderSettings) -> Voicing:
    """How this render's voice sounds, for the cache keys of its pieces. Creating a probe
    engine checks the engine and voice exist before anything is written."""
    probe = create_engine(settings.engine, settings.voice, settings.rate)
    try:
        return Voicing(probe.identity, settings.voice, settings.rate, probe.max_chars)
    finally:
        probe.close()


def read_essay(source: Path, settings: RenderSettings) -> tuple[Essay, Project]:
    """Parse the essay with the structure corrections of the folder and the command line."""
    project = find_project(source)
    structure = Structure(
        headings=settings.headings or project.settings.headings,
        skip=(*project.settings.skip, *settings.skip),
    )
    return load_essay(source, structure), project


def prepare(
    source: Path, settings: RenderSettings, explicit: frozenset[str] = frozenset()
) -> tuple[Essay, RenderSettings, Script]:
    """Parse the essay, settle its settings and write its narration script.

    ``audioessay script`` prints exactly this script, and ``render`` speaks exactly it.
    """
    essay, project = read_essay(source, settings)
    settings = settings.with_essay(project.settings, explicit)
    settings = settings.with_essay(essay.settings, explicit).validate()
    check_chapter_limits(len(essay.sections), settings.formats)  # before the script is built
    if essay.settings.language is None and project.settings.language:
        essay = replace(essay, metadata=replace(essay.metadata, language=project.settings.language))
    if settings.voice is None and "voice" not in explicit:
        # The voice follows the essay's language (front matter or audioessay.toml).
        voice = voice_for_language(settings.engine, essay.metadata.language)
        if voice is not None:
            settings = replace(settings, voice=voice)
        elif not essay.metadata.language.lower().startswith("en"):
            log.warning(
                "the %s engine has no voice for language %r; using its default voice",
                settings.engine, essay.metadata.language,
            )  # fmt: skip
    options = SpeechOptions(
        language=essay.metadata.language,
        lexicon=build_lexicon((*settings.essay_lexicons, *settings.lexicons), project),
        skip_citations=settings.skip_citations,
        alphabet=engine_alphabet(settings.engine),
    )
    script = write_script(essay, options)
    check_coverage(essay, script)  # no written word may go unspoken
    return essay, settings, script


@dataclass
class _Run:
    """What the stages of one render share: its settings, cache, cancellation, progress and,
    on a cluster's worker, the engines kept between tasks."""

    settings: RenderSettings
    cache: Cache
    cancel: threading.Event
    progress: Callable[[Progress], None] | None
    work: Work
    voices: EnginePool | None = None
    audio_seconds: float = 0.0

    def engine(self) -> Engine:
        """An engine for one narrating thread: a new one, or one the pool kept."""
        if self.voices is not None:
            return self.voices.take(self.settings.engine, self.settings.voice, self.settings.rate)
        return create_engine(self.settings.engine, self.settings.voice, self.settings.rate)

    @property
    def release(self) -> Callable[[Engine], None] | None:
        """Where an engine that did its work goes: back to the pool, if there is one."""
        voices, settings = self.voices, self.settings
        if voices is None:
            return None
        return lambda engine: voices.give(engine, settings.engine, settings.voice, settings.rate)

    def narrated(self, done: int, total: int, audio: float) -> None:
        self.audio_seconds = audio
        if self.progress is not None:
            self.progress(Progress("narrate", done, total, audio))

    def repair(self, piece: Piece) -> Samples:
        """Speak a piece again whose cached audio turned out to be damaged."""
        engine = self.engine()
        try:
            speech = Narrator(engine, self.settings.rate, self.work, self.cancel).speak_piece(piece.text)
        except BaseException:
            engine.close()
            raise
        release = self.release
        if release is not None:
            release(engine)
        else:
            engine.close()
        self.cache.store_piece(piece.key, speech.samples, SAMPLE_RATE, speech.words)
        return speech.samples

    def encoded(self, total: int) -> Callable[[int], None]:
        """Reports how many of ``total`` chapters are encoded."""

        def done(count: int) -> None:
            if self.progress is not None:
                self.progress(Progress("encode", count, total, self.audio_seconds))

        return done


@contextlib.contextmanager
def _open_cache(settings: RenderSettings) -> Iterator[Cache]:
    """The configured cache; with ``--no-cache`` a private one that is deleted afterwards."""
    if settings.cache_dir is not None:
        yield Cache(settings.cache_dir)
        return
    with tempfile.TemporaryDirectory(prefix="audioessay-") as scratch:
        yield Cache(Path(scratch))


class _Mastering:
    """Chapter tasks on ``jobs`` threads of their own, beside the synthesis threads.

    A chapter task waits for the gain, which the calibration (submitted first) settles; so a
    chapter is encoded as soon as it is spoken, and never before the gain is known.
    """

    def __init__(self, jobs: int, cancel: threading.Event) -> None:
        self.cancel = cancel
        self.pool = ThreadPoolExecutor(max_workers=max(1, jobs), thread_name_prefix="master")
        self.chapters: list[Future[EncodedChapter]] = []

    def __enter__(self) -> _Mastering:
        return self

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        if kind is not None:  # stop the other chapters promptly, then wait for their threads
            self.cancel.set()
        self.pool.shutdown(wait=True, cancel_futures=kind is not None)

    def value(self, value: T) -> Future[T]:
        """A future that already holds ``value``."""
        future: Future[T] = Future()
        future.set_result(value)
        return future

    def submit(self, func: Callable[[T], R], arg: T) -> Future[R]:
        return self.pool.submit(func, arg)

    def chapter(self, encode: Callable[[float], EncodedChapter], gain: Future[float]) -> None:
        """Encode a chapter once ``gain`` is settled."""
        self.chapters.append(self.pool.submit(lambda: encode(gain.result())))

    def results(self, on_done: Callable[[int], None]) -> list[EncodedChapter]:
        """Every chapter, in order; the first failure is raised as soon as it happens."""
        on_done(0)
        for count, future in enumerate(completed(self.chapters, self.cancel), start=1):
            future.result()
            on_done(count)
        return [future.result() for future in self.chapters]


def place(
    layouts: list[ChapterLayout], frames: list[tuple[int, ...]], timing: Timing
) -> tuple[list[Chapter], list[Cue], float]:
    """Chapter and cue times in seconds, from the frames each block's stream holds.

    Positions are those of the decoded file: the part of the first stream that the container
    tells players to skip (``timing.trim``) is not in it."""
    chapters: list[Chapter] = []
    cues: list[Cue] = []
    start = -timing.trim
    for index, (layout, counts) in enumerate(zip(layouts, frames, strict=True)):
        chapter_start = max(start, 0)
        for block, count in zip(layout.blocks, counts, strict=True):
            offset = start + timing.delay  # each stream starts with the encoder's delay
            cues.extend(
                Cue((offset + c.start) / SAMPLE_RATE, (offset + c.end) / SAMPLE_RATE, c.text,
                    index, c.paragraph,
                    None if c.words is None else tuple((offset + w) / SAMPLE_RATE for w in c.words))
                for c in block.cues
            )  # fmt: skip
            start += count * timing.frame
        chapters.append(
            Chapter(layout.title, layout.level, chapter_start / SAMPLE_RATE, start / SAMPLE_RATE,
                    layout.heading)
        )  # fmt: skip
    return chapters, cues, start / SAMPLE_RATE


def describe(essay: Essay) -> str:
    """The episode description: front matter's, else the opening paragraph (about 300 chars)."""
    if essay.metadata.description:
        return essay.metadata.description
    for section in essay.sections:
        for paragraph in section.paragraphs:
            text = " ".join(s.text for s in paragraph.sentences)
            if len(text) <= 300:
                return text
            cut = text[:300].rsplit(" ", 1)[0]
            return cut + "…"
    return essay.metadata.title
