"""The command line: the only module that imports typer or rich.

Each command parses its options, calls the library, and reports. Errors from the library
arrive as :class:`AudioEssayError` and are printed as one ``Error: …`` line with exit code 1.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from .errors import AudioEssayError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Turn written essays into chaptered podcast episodes, fully offline.",
    pretty_exceptions_enable=False,
    # Plain help: rich markup would eat "[cluster]"-like text, and its panels show "<bool>"
    # after every flag, which reads as if the flag took a value.
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)
T = TypeVar("T")
LexiconOption = Annotated[
    list[Path] | None,
    typer.Option(
        "--lexicon", metavar="FILE", help="Pronunciation lexicon (TOML or PLS); repeatable."
    ),
]
CitationsOption = Annotated[
    bool | None,
    typer.Option(
        "--skip-citations/--read-citations",
        help="Leave citations such as [Smith 2004] or (Smith, 2004) unspoken.",
    ),
]
HeadingsOption = Annotated[
    str | None,
    typer.Option(
        "--headings",
        help="A regular expression for heading lines; it replaces detection in plain text.",
    ),
]
SkipOption = Annotated[
    list[str] | None,
    typer.Option(
        "--skip", metavar="TITLE", help="Leave out the section with this title; repeatable."
    ),
]
_state = {"debug": False}


def _version(value: bool) -> None:
    if value:
        from . import __version__

        typer.echo(f"audioessay {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks and debug logs.")] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
) -> None:
    """Turn written essays into chaptered podcast episodes, fully offline."""
    _state["debug"] = debug
    # Warnings read like errors do ("Warning: …"); --debug shows where each came from.
    logging.basicConfig(
        level=logging.DEBUG if debug else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s" if debug else "%(levelname)s: %(message)s",
    )
    logging.addLevelName(logging.WARNING, "Warning")
    logging.addLevelName(logging.ERROR, "Error")


@contextmanager
def _errors() -> Iterator[None]:
    """Turn library errors into one line on stderr and exit code 1 (130 on Ctrl-C)."""
    try:
        yield
    except AudioEssayError as exc:
        if _state["debug"]:
            raise
        typer.echo(f"Error: {exc}", err=True)
        raise typer.Exit(code=1) from None
    except KeyboardInterrupt:
        from .interrupt import EXIT_CODE, announce

        announce()
        raise typer.Exit(code=EXIT_CODE) from None


def _run(func: Callable[[], T]) -> T:
    with _errors():
        return func()
    raise AssertionError("unreachable")  # pragma: no cover


@app.command()
def render(
    essays: Annotated[
        list[Path], typer.Argument(help="Essays (.md, .txt) or directories of them.")
    ],
    output: Annotated[Path, typer.Option("-o", "--output", help="Output directory.")] = Path(
        "output"
    ),
    engine: Annotated[
        str | None, typer.Option(help="Voice engine (see `audioessay voices`).")
    ] = None,
    voice: Annotated[str | None, typer.Option(help="Voice id of the engine.")] = None,
    rate: Annotated[
        int | None, typer.Option(help="Speaking rate in words per minute (80-450).")
    ] = None,
    bitrate: Annotated[int, typer.Option(help="CBR MP3 bit rate in kb/s.")] = 64,
    cover: Annotated[Path | None, typer.Option(help="Cover art (square JPEG or PNG).")] = None,
    sentence_pause: Annotated[float, typer.Option(help="Seconds between sentences.")] = 0.35,
    paragraph_pause: Annotated[float, typer.Option(help="Seconds between paragraphs.")] = 0.7,
    title_pause: Annotated[float, typer.Option(help="Seconds after a spoken title.")] = 1.0,
    chapter_pause: Annotated[float, typer.Option(help="Seconds between chapters.")] = 1.5,
    jobs: Annotated[
        int | None, typer.Option("--jobs", "-j", help="Parallel jobs (default: every core).")
    ] = None,
    cache_dir: Annotated[
        Path | None,
        typer.Option(
            help="Audio cache directory (default: $AUDIOESSAY_CACHE_DIR or the user cache)."
        ),
    ] = None,
    no_cache: Annotated[
        bool, typer.Option("--no-cache", help="Neither read nor fill the audio cache.")
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print a JSON summary on stdout.")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Show errors only.")] = False,
    lexicon: LexiconOption = None,
    skip_citations: CitationsOption = None,
    headings: HeadingsOption = None,
    skip: SkipOption = None,
    formats: Annotated[
        str | None,
        typer.Option(
            "--format",
            help="Outputs, comma-separated: mp3 (always), opus, m4a, m4b, daisy, epub "
            "(default: front matter's `formats`, else mp3).",
        ),
    ] = None,
    opus_bitrate: Annotated[int, typer.Option(help="Opus bit rate in kb/s (6-256).")] = 24,
    sync: Annotated[
        str | None,
        typer.Option(
            help="How the EPUB's text follows the audio: sentence, or word (one highlight per "
            "word; default: front matter's `sync`, else sentence)."
        ),
    ] = None,
    feed: Annotated[
        bool,
        typer.Option("--feed", help="Then rebuild the output folder's podcast feed and pages."),
    ] = False,
    base_url: Annotated[
        str | None,
        typer.Option(
            help="Where the output folder is published (implies --feed; kept in podcast.toml)."
        ),
    ] = None,
    cluster: Annotated[
        str | None,
        typer.Option(
            help="Render on a Dask cluster: tcp://HOST:PORT of its scheduler, or local[:N] to "
            "start N workers here (default: $AUDIOESSAY_CLUSTER, else your config.toml's "
            "cluster address, else in this process). Needs the cluster extra."
        ),
    ] = None,
) -> None:
    """Render essays into chaptered MP3s with chapters JSON, WebVTT, SRT and an HTML page."""
    import os

    from .cache import default_cache_dir
    from .config import load_settings

    flags = {
        "engine": engine, "voice": voice, "rate": rate, "lexicon": lexicon,
        "skip_citations": skip_citations, "headings": headings, "skip": skip,
        "bitrate": bitrate, "opus_bitrate": opus_bitrate, "output_dir": output, "cover": cover,
        "formats": formats, "sync": sync, "jobs": jobs if jobs is not None else (os.cpu_count() or 1),
        "cache_dir": None if no_cache else (cache_dir or default_cache_dir()),
        "sentence_pause": sentence_pause, "paragraph_pause": paragraph_pause,
        "title_pause": title_pause, "chapter_pause": chapter_pause,
    }  # fmt: skip
    settings, explicit = load_settings(flags)
    with _errors():
        settings.validate()
        sources = _expand(essays)
    from .batch import cluster_address, open_executor
    from .interrupt import stop_on_signals

    done: dict[int, dict[str, Any]] = {}
    failed: dict[int, dict[str, str]] = {}
    with (
        _errors(),
        stop_on_signals() as cancel,
        _Reporter(quiet) as reporter,
        open_executor(cluster_address(cluster)) as executor,
    ):
        for outcome in executor.render(sources, settings, explicit, reporter, cancel):
            episode, source = outcome.episode, outcome.source
            if outcome.error is not None or episode is None:
                if _state["debug"] and outcome.error is not None:
                    raise outcome.error
                named = str(source) in str(outcome.error) or source.name in str(outcome.error)
                prefix = f"{source}: " if len(sources) > 1 and not named else ""
                reporter.error(f"Error: {prefix}{outcome.error}")
                failed[outcome.index] = {"source": str(source), "error": str(outcome.error)}
                continue
            done[outcome.index] = _episode_json(episode)
            unchanged = "  (unchanged)" if episode.work.get("unchanged") else ""
            reporter.done(
                f"✓ {episode.files.mp3}  {_clock(episode.duration)}, "
                f"{len(episode.chapters)} chapters{unchanged}"
            )
    episodes = [done[index] for index in sorted(done)]  # in the order the essays were given
    failures = [failed[index] for index in sorted(failed)]
    payload: dict[str, Any] = {"episodes": episodes}
    if feed or base_url:
        # Published even when some essays failed: the ones that rendered are complete.
        payload["feed"] = _publish(output, {"base_url": base_url}, quiet or as_json)
    if as_json:
        if failures:
            payload["errors"] = failures
        typer.echo(json.dumps(payload, ensure_ascii=False, indent=2))
    if failures:
        raise typer.Exit(code=1)


def _settings(
    engine: str | None,
    voice: str | None,
    rate: int | None,
    lexicon: list[Path] | None,
    skip_citations: bool | None,
    headings: str | None = None,
    skip: list[str] | None = None,
) -> tuple[Any, frozenset[str]]:
    """Settings from the voice options shared by ``render`` and ``script``, and which were given."""
    from .config import load_settings

    return load_settings({
        "engine": engine, "voice": voice, "rate": rate, "lexicon": lexicon,
        "skip_citations": skip_citations, "headings": headings, "skip": skip,
    })  # fmt: skip


@app.command()
def script(
    essay: Annotated[Path, typer.Argument(help="The essay (.md or .txt).")],
    engine: Annotated[
        str | None, typer.Option(help="Voice engine (decides how lexicon phonemes are written).")
    ] = None,
    lexicon: LexiconOption = None,
    skip_citations: CitationsOption = None,
    headings: HeadingsOption = None,
    skip: SkipOption = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print chapters with written and spoken lines.")
    ] = False,
) -> None:
    """Print the narration script exactly as it will be spoken, chapter by chapter."""
    from .pipeline import prepare

    settings, explicit = _settings(engine, None, None, lexicon, skip_citations, headings, skip)
    essay_, settings, narration = _run(lambda: prepare(essay, settings, explicit))
    chapters: list[dict[str, Any]] = []
    for index, part in enumerate(narration.sections):
        lines = [narration.intro] if index == 0 else []
        if part.heading is not None:
            lines.append(part.heading)
        paragraphs = [[line.spoken for line in p if line.spoken] for p in part.paragraphs]
        chapters.append(
            {
                "title": part.section.title,
                "level": part.section.level,
                "heading": [line.spoken for line in lines],
                "paragraphs": [p for p in paragraphs if p],
                "lines": [
                    {"written": line.written, "spoken": line.spoken}
                    for line in [*lines, *(x for p in part.paragraphs for x in p)]
                ],
            }
        )
    if as_json:
        payload = {
            "title": essay_.metadata.title,
            "language": essay_.metadata.language,
            "engine": settings.engine,
            "voice": settings.voice,
            "chapters": chapters,
        }
        typer.echo(json.dumps(payload, ensure_ascii=False, indent=2))
        return
    for number, chapter in enumerate(chapters, start=1):
        typer.echo(f"## {number}. {chapter['title']}")
        typer.echo("")
        if chapter["heading"]:
            typer.echo(" ".join(chapter["heading"]))
            typer.echo("")
        for paragraph in chapter["paragraphs"]:
            typer.echo(" ".join(paragraph))
            typer.echo("")


def _publish(directory: Path, overrides: dict[str, Any], quiet: bool) -> dict[str, Any]:
    """Rebuild the folder's feed and pages, report what was written, return it as JSON data."""
    from .publishing import publish

    publication = _run(lambda: publish(directory, overrides))
    for warning in publication.warnings:
        typer.echo(f"Warning: {warning}", err=True)
    if not quiet:
        if publication.created_settings:
            typer.echo(f"Created {publication.settings} (edit it to describe your podcast)")
        typer.echo(f"✓ {publication.feed}  {publication.episodes} episode(s)")
        typer.echo(f"Subscribe at {publication.feed_url}")
    return {
        "feed": str(publication.feed),
        "url": publication.feed_url,
        "episodes": publication.episodes,
        "warnings": publication.warnings,
    }


@app.command()
def feed(
    directory: Annotated[Path, typer.Argument(help="Folder of rendered episodes.")],
    base_url: Annotated[
        str | None,
        typer.Option(help="Where the folder is published, e.g. https://example.com/essays."),
    ] = None,
    title: Annotated[str | None, typer.Option(help="Podcast title.")] = None,
    description: Annotated[str | None, typer.Option(help="Podcast description.")] = None,
    author: Annotated[str | None, typer.Option(help="Podcast author.")] = None,
    owner_name: Annotated[str | None, typer.Option(help="Owner's name (itunes:owner).")] = None,
    owner_email: Annotated[str | None, typer.Option(help="Owner's e-mail (itunes:owner).")] = None,
    language: Annotated[str | None, typer.Option(help="Language tag, e.g. en or en-GB.")] = None,
    category: Annotated[str | None, typer.Option(help="Apple Podcasts category.")] = None,
    subcategory: Annotated[str | None, typer.Option(help="Apple Podcasts subcategory.")] = None,
    explicit: Annotated[
        bool | None, typer.Option("--explicit/--not-explicit", help="Explicit content.")
    ] = None,
    image: Annotated[
        str | None, typer.Option(help="Cover art: a file in the folder or a URL.")
    ] = None,
    link: Annotated[str | None, typer.Option(help="The podcast's website.")] = None,
    locked: Annotated[
        bool | None, typer.Option("--locked/--unlocked", help="podcast:locked.")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print a JSON summary on stdout.")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Show errors only.")] = False,
) -> None:
    """Write DIR/feed.xml, cover art and accessible pages from every episode rendered into DIR.

    Settings come from DIR/podcast.toml (created on first use with what is given here);
    options override it for this run.
    """
    if not directory.is_dir():
        _run(lambda: _fail(f"{directory} is not a folder of rendered episodes"))
    overrides = {
        "base_url": base_url, "title": title, "description": description, "author": author,
        "owner_name": owner_name, "owner_email": owner_email, "language": language,
        "category": category, "subcategory": subcategory, "explicit": explicit,
        "image": image, "link": link, "locked": locked,
    }  # fmt: skip
    summary = _publish(directory, overrides, as_json or quiet)
    if as_json:
        typer.echo(json.dumps(summary, ensure_ascii=False, indent=2))


@app.command()
def serve(
    directory: Annotated[Path, typer.Argument(help="Folder of rendered episodes.")],
    host: Annotated[
        str, typer.Option(help="Address to listen on; 0.0.0.0 shares it on your network.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port (0 picks a free one).")] = 8000,
    allow_host: Annotated[
        list[str] | None,
        typer.Option(
            "--allow-host",
            help="Another host name requests may use (e.g. behind a proxy); repeatable.",
        ),
    ] = None,
    behind_proxy: Annotated[
        bool,
        typer.Option(
            "--behind-proxy",
            help="Believe X-Forwarded-Proto and -For from a reverse proxy on this machine.",
        ),
    ] = False,
) -> None:
    """Serve the folder over HTTP: feed, episodes, transcripts and pages, with byte ranges."""
    from .server import bind, is_local, run, url_of

    if not directory.is_dir():
        _run(lambda: _fail(f"{directory} is not a folder to serve"))
    sock = _run(lambda: bind(host, port))
    url = url_of(sock)
    where = (
        "this computer only; --host 0.0.0.0 shares it on your network"
        if is_local(host)
        else "reachable from your network"
    )
    typer.echo(f"Serving {directory.resolve()} at {url} ({where})")
    typer.echo(f"Subscribe in a podcast app: {url}feed.xml")
    typer.echo("Press Ctrl-C to stop.", err=True)
    sys.stdout.flush()
    # uvicorn shuts down gracefully, then re-raises the signal: exit 130 like every command.
    with _errors():
        run(directory, sock, tuple(allow_host or ()), behind_proxy)


def _fail(message: str) -> None:
    from .errors import InputError

    raise InputError(message)


def _expand(paths: list[Path]) -> list[Path]:
    """Files as given; a directory as every .md and .txt file under it, in sorted order; each
    essay once."""
    from .errors import InputError
    from .files import MARKDOWN_SUFFIXES

    suffixes = MARKDOWN_SUFFIXES | {".txt"}
    sources: dict[Path, Path] = {}  # by real path: an essay given twice is rendered once
    for path in paths:
        if not path.is_dir():
            sources.setdefault(path.resolve(), path)
            continue
        found = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in suffixes)
        if not found:
            raise InputError(f"{path} is a directory with no .md or .txt essays in it")
        for essay in found:
            sources.setdefault(essay.resolve(), essay)
    return list(sources.values())


cache_app = typer.Typer(help="Inspect or clear the audio cache.", no_args_is_help=True)
app.add_typer(cache_app, name="cache")


@cache_app.command("info")
def cache_info(
    cache_dir: Annotated[Path | None, typer.Option(help="Cache directory.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show where the audio cache is and how much it holds."""
    from .cache import Cache, default_cache_dir

    info = Cache(cache_dir or default_cache_dir()).info()
    if as_json:
        typer.echo(
            json.dumps({"path": str(info.path), "entries": info.entries, "bytes": info.bytes})
        )
        return
    typer.echo(f"{info.path}: {info.entries} entries, {info.bytes / 1e6:.1f} MB")


@cache_app.command("clear")
def cache_clear(
    cache_dir: Annotated[Path | None, typer.Option(help="Cache directory.")] = None,
) -> None:
    """Delete every entry of the audio cache."""
    from .cache import Cache, default_cache_dir

    info = _run(lambda: Cache(cache_dir or default_cache_dir()).clear())
    typer.echo(f"Removed {info.entries} entries ({info.bytes / 1e6:.1f} MB) from {info.path}")


@app.command()
def chapters(
    essay: Annotated[Path, typer.Argument(help="The essay to preview.")],
    rate: Annotated[int, typer.Option(help="Words per minute for the estimate.")] = 175,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    explain: Annotated[
        bool,
        typer.Option("--explain", help="Say why each heading is one, and each near miss is not."),
    ] = False,
    headings: HeadingsOption = None,
    skip: SkipOption = None,
) -> None:
    """Preview the chapter list (title, level, words, estimated duration) without narrating."""
    from .pipeline import read_essay

    settings, _ = _settings(None, None, None, None, None, headings, skip)
    loaded = _run(lambda: read_essay(essay, settings))[0]
    if explain:
        _explain(loaded, as_json)
        return
    rows = [
        {
            "title": s.title,
            "level": s.level,
            "words": s.words,
            "estimated_duration": round(_estimate(s.words, s.title, rate), 1),
        }
        for s in loaded.sections
    ]
    if as_json:
        payload = {"title": loaded.metadata.title, "chapters": rows}
        typer.echo(json.dumps(payload, ensure_ascii=False, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=loaded.metadata.title)
    for column in ("#", "Chapter", "Level", "Words", "Est."):
        table.add_column(column, justify="left" if column == "Chapter" else "right")
    for number, section in enumerate(loaded.sections, start=1):
        table.add_row(
            str(number),
            "  " * (section.level - 1) + section.title,
            str(section.level),
            str(section.words),
            _clock(_estimate(section.words, section.title, rate)),
        )
    Console().print(table)


def _explain(essay: Any, as_json: bool) -> None:
    """Print each decision about structure: what is a heading, what is not, what is left out."""
    rows = [{"line": line, "why": why} for line, why in essay.decisions]
    left_out = [{"what": o.title, "why": o.reason, "words": len(o.text.split())} for o in essay.omitted]
    if as_json:
        payload = {"title": essay.metadata.title, "decisions": rows, "left_out": left_out}
        typer.echo(json.dumps(payload, ensure_ascii=False, indent=2))
        return
    for row in rows:
        typer.echo(f"{row['why']:<64} {row['line'][:72]}")
    for item in left_out:
        typer.echo(f"left out ({item['why']}, {item['words']} words): {item['what']}")


@app.command()
def inspect(
    mp3: Annotated[Path, typer.Argument(help="An episode's audio: MP3, Opus, M4A or M4B.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")] = False,
    words: Annotated[
        bool, typer.Option("--words", help="List every word with its start and end time.")
    ] = False,
) -> None:
    """Read an episode's tags and chapters back (and, with --words, its word times)."""
    from dataclasses import asdict

    from .tags import read_tags
    from .transcript import read_word_times

    report = _run(lambda: read_tags(mp3))
    source, timed = _run(lambda: read_word_times(mp3)) if words else ("", [])
    if as_json:
        data: dict[str, Any] = asdict(report)
        if words:
            data["word_times"] = source
            data["words"] = [{"start": s, "end": e, "word": w} for s, e, w in timed]
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    from rich.console import Console

    console = Console(highlight=False)
    console.print(f"[bold]{report.title}[/]" + (f" by {report.author}" if report.author else ""))
    console.print(
        f"{_clock(report.duration)}  {report.bitrate} kb/s  {report.sample_rate} Hz  "
        f"language {report.language or '-'}  cover {'yes' if report.has_cover else 'no'}"
    )
    for number, chapter in enumerate(report.chapters, start=1):
        console.print(
            f"{number:3d}  {_clock(chapter.start)} – {_clock(chapter.end)}  {chapter.title}"
        )
    if words:
        console.print(f"{len(timed)} words (word times: {source})")
        for start, end, word in timed:
            console.print(f"{start:10.3f} {end:10.3f}  {word}", markup=False)


@app.command()
def voices(
    engine: Annotated[str, typer.Option(help="Engine whose voices to list.")] = "pyttsx3",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """List the voices an engine offers (id, name, languages)."""
    from .engines import list_voices

    found = _run(lambda: list_voices(engine))
    if as_json:
        rows = [{"id": v.id, "name": v.name, "languages": list(v.languages)} for v in found]
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{engine} voices")
    for column in ("Id", "Name", "Languages"):
        table.add_column(column)
    for v in found:
        table.add_row(v.id, v.name, ", ".join(v.languages))
    Console().print(table)


class _Reporter:
    """Progress for people: a rich bar on a terminal, plain lines otherwise, nothing if quiet."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.live = not quiet and sys.stderr.isatty()
        self._bar: Any = None
        self._batch: Any = None
        self._last_line = ""

    def __enter__(self) -> _Reporter:
        if self.live:
            from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

            self._bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                TextColumn("{task.fields[status]}"),
                TimeRemainingColumn(),
                transient=True,
            )
            self._bar.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)

    def for_source(self, name: str) -> Callable[[Any], None] | None:
        """A progress callback for one essay."""
        if self.quiet:
            return None
        task = self._bar.add_task(name, total=None, status="") if self._bar is not None else None
        shown: dict[str, int] = {}

        def update(event: Any) -> None:
            if event.stage == "narrate":
                status = f"{event.done}/{event.total} sentences, {_clock(event.audio)} of audio"
            else:
                status = f"{event.done}/{event.total} chapters, {_clock(event.audio)} of audio"
            if self._bar is not None:
                self._bar.update(task, completed=event.done, total=event.total, status=status)
                return
            # Plain lines: the start of a stage and every quarter of it.
            quarter = 4 * event.done // max(1, event.total)
            if shown.get(event.stage) != quarter:
                shown[event.stage] = quarter
                typer.echo(f"{name}: {event.stage} {status}", err=True)

        return update

    def batch(self, event: Any) -> None:
        """Progress of a batch on a cluster: one bar for every worker's essays."""
        if self.quiet:
            return
        status = (
            f"{event.essays_done}/{event.essays} essays, {event.chapters_done}/{event.chapters} "
            f"chapters, {_clock(event.audio)} of audio, {event.workers} workers busy"
        )
        if self._bar is not None:
            if self._batch is None:
                self._batch = self._bar.add_task("cluster", total=event.chapters, status="")
            self._bar.update(self._batch, completed=event.chapters_done, status=status)
            return
        # Plain lines: the start, every quarter of the chapters, and the end.
        quarter = (4 * event.chapters_done // max(1, event.chapters), event.essays_done == event.essays)
        if self._batch != quarter:
            self._batch = quarter
            typer.echo(f"cluster: {status}", err=True)

    def error(self, line: str) -> None:
        if self._bar is not None:
            self._bar.console.print(line, markup=False, highlight=False)
        else:
            typer.echo(line, err=True)

    def done(self, line: str) -> None:
        if self.quiet:
            return
        if self._bar is not None:
            self._bar.console.print(line, markup=False, highlight=False)
        else:
            typer.echo(line, err=True)


def _estimate(words: int, title: str, rate: int) -> float:
    """Seconds a section should take at ``rate``: its words and its spoken title."""
    return (words + len(title.split())) * 60 / rate


def _episode_json(episode: Any) -> dict[str, Any]:
    return {
        "source": str(episode.source),
        "title": episode.metadata.title,
        "slug": episode.slug,
        "mp3": str(episode.files.mp3),
        "duration": round(episode.duration, 3),
        "chapters": [
            {"title": c.title, "level": c.level, "start": round(c.start, 3), "end": round(c.end, 3)}
            for c in episode.chapters
        ],
        "files": {kind: str(path) for kind, path in episode.files.named().items()},
        "work": episode.work,
    }


def _clock(seconds: float) -> str:
    from .pages import clock

    return clock(round(seconds))


def main() -> None:
    """Console-script entry point. A bad option or argument is one ``Error:`` line and exit
    code 1, like every other bad input, not a boxed usage text."""
    try:
        code = app(standalone_mode=False)
    except typer.TyperException as exc:
        show = getattr(exc, "show", None)
        if type(exc).__name__ == "NoArgsIsHelpError" and show is not None:
            show()  # a command given alone: its help
            sys.exit(0)
        context = getattr(exc, "ctx", None)
        where = f" (see: {context.command_path} --help)" if context is not None else ""
        message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
        typer.echo(f"Error: {message}{where}", err=True)
        sys.exit(1)
    except typer.Abort:
        from .interrupt import EXIT_CODE, announce

        announce()
        sys.exit(EXIT_CODE)
    sys.exit(code if isinstance(code, int) else 0)
