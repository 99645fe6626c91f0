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
)
T = TypeVar("T")
_state = {"debug": False}


@app.callback()
def _main(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks and debug logs.")] = False,
) -> None:
    """Turn written essays into chaptered podcast episodes, fully offline."""
    _state["debug"] = debug
    logging.basicConfig(
        level=logging.DEBUG if debug else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )


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
        typer.echo("Interrupted.", err=True)
        raise typer.Exit(code=130) from None


def _run(func: Callable[[], T]) -> T:
    with _errors():
        return func()
    raise AssertionError("unreachable")  # pragma: no cover


@app.command()
def render(
    essay: Annotated[Path, typer.Argument(help="The essay: Markdown (.md) or plain text.")],
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
    as_json: Annotated[
        bool, typer.Option("--json", help="Print a JSON summary on stdout.")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Show errors only.")] = False,
) -> None:
    """Render an essay into a chaptered MP3 with chapters JSON, WebVTT and SRT transcripts."""
    from .config import Pauses, RenderSettings
    from .pipeline import render as render_episode

    explicit = frozenset(
        name for name, value in (("engine", engine), ("voice", voice), ("rate", rate)) if value
    )
    defaults = RenderSettings()
    settings = RenderSettings(
        engine=engine or defaults.engine,
        voice=voice,
        rate=rate if rate is not None else defaults.rate,
        bitrate=bitrate,
        output_dir=output,
        cover=cover,
        pauses=Pauses(
            sentence=sentence_pause,
            paragraph=paragraph_pause,
            title=title_pause,
            chapter=chapter_pause,
        ),
    )
    with _errors(), _progress(quiet or as_json, essay.name) as progress:
        settings.validate()
        episode = render_episode(essay, settings, explicit, progress)
    if as_json:
        typer.echo(json.dumps({"episodes": [_episode_json(episode)]}, ensure_ascii=False, indent=2))
    elif not quiet:
        from rich.console import Console

        Console(stderr=True).print(
            f"[green]✓[/] {episode.files['mp3']}  "
            f"{_clock(episode.duration)}, {len(episode.chapters)} chapters"
        )


@app.command()
def chapters(
    essay: Annotated[Path, typer.Argument(help="The essay to preview.")],
    rate: Annotated[int, typer.Option(help="Words per minute for the estimate.")] = 175,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Preview the chapter list (title, level, words, estimated duration) without narrating."""
    from .parse import load_essay

    loaded = _run(lambda: load_essay(essay))
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


@app.command()
def inspect(
    mp3: Annotated[Path, typer.Argument(help="An episode MP3.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")] = False,
) -> None:
    """Read an episode's tags and chapters back."""
    from dataclasses import asdict

    from .tags import read_tags

    report = _run(lambda: read_tags(mp3))
    if as_json:
        typer.echo(json.dumps(asdict(report), ensure_ascii=False, indent=2))
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


@contextmanager
def _progress(quiet: bool, label: str) -> Iterator[Callable[[int, int, float], None] | None]:
    """A rich progress bar on a terminal; nothing when quiet or not a terminal."""
    if quiet or not sys.stderr.isatty():
        yield None
        return
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} sentences, {task.fields[audio]} of audio"),
        TimeRemainingColumn(),
        transient=True,
    ) as bar:
        task = bar.add_task(f"Narrating {label}", total=None, audio="0:00")

        def update(done: int, total: int, audio: float) -> None:
            bar.update(task, completed=done, total=total, audio=_clock(audio))

        yield update


def _estimate(words: int, title: str, rate: int) -> float:
    """Seconds a section should take at ``rate``: its words and its spoken title."""
    return (words + len(title.split())) * 60 / rate


def _episode_json(episode: Any) -> dict[str, Any]:
    return {
        "source": str(episode.source),
        "title": episode.metadata.title,
        "slug": episode.slug,
        "mp3": str(episode.files["mp3"]),
        "duration": round(episode.duration, 3),
        "chapters": [
            {"title": c.title, "level": c.level, "start": round(c.start, 3), "end": round(c.end, 3)}
            for c in episode.chapters
        ],
        "files": {kind: str(path) for kind, path in episode.files.items()},
    }


def _clock(seconds: float) -> str:
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def main() -> None:
    """Console-script entry point."""
    app()
