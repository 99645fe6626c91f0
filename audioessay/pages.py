"""Accessible HTML pages: one per episode (player, chapters, timed transcript) and an index.

The pages are plain semantic HTML that works without JavaScript: the ``<audio>`` element plays,
the whole transcript is there with each sentence's time, and the chapter list links to the
transcript's sections. ``audioessay.js`` then adds what needs a script: chapter buttons and
sentences that seek, the current sentence highlighted, a speed control and keyboard shortcuts.
Nothing is loaded from another site.

The episode page doubles as the feed's ``text/html`` transcript: its headings mirror the
chapters and every sentence carries its start time.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from importlib import resources
from pathlib import Path

from .escaping import xml_text
from .files import write_atomic
from .formats import audio_format
from .model import Chapter, Cue, Episode, chapter_texts
from .podcast import Podcast

STYLESHEET = "audioessay.css"
SCRIPT = "audioessay.js"
ASSETS = (STYLESHEET, SCRIPT)
INDEX_FILE = "index.html"
SPEEDS = (0.75, 1.0, 1.25, 1.5, 1.75, 2.0, 2.25, 2.5)
SHORTCUTS = (
    ("K", "Play or pause"),
    ("J", "Back 10 seconds"),
    ("L", "Forward 10 seconds"),
    ("P", "Previous chapter"),
    ("N", "Next chapter"),
    ("[", "Slower"),
    ("]", "Faster"),
)
TRANSCRIPT_KEYS = (
    ("Up / Down arrow", "Previous or next sentence, in the transcript"),
    ("Enter or Space", "Play from the focused sentence or chapter"),
)


def e(text: str) -> str:
    """Escaped text (quotes too, so it is safe in attributes), through the one escaper."""
    return xml_text(text)


def clock(seconds: float) -> str:
    """``9:21`` or ``1:02:03``."""
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def spoken_duration(seconds: float) -> str:
    """``9 min 21 s`` (also read well by screen readers)."""
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{hours} h"] if hours else []
    if minutes or hours:
        parts.append(f"{minutes} min")
    parts.append(f"{secs} s")
    return " ".join(parts)


def iso_duration(seconds: float) -> str:
    """``PT1M2.345S``, the ``datetime`` form of a ``<time>`` holding a duration."""
    minutes, secs = divmod(round(seconds, 3), 60)
    return f"PT{int(minutes)}M{secs:.3f}S" if minutes else f"PT{secs:.3f}S"


def heading_depths(chapters: Sequence[Chapter], every_chapter: bool = False) -> list[int]:
    """Heading depth per chapter, nesting by level without ever skipping one (0: no heading).

    Essays skip levels (a ``###`` straight under ``#``); pages and books must not, or
    screen-reader users lose their place in the outline. On a page the opening has no heading
    of its own (the page's ``h1`` names it); in a book (``every_chapter``) it is the title.
    """
    stack: list[int] = []
    depths = []
    for chapter in chapters:
        if not (chapter.heading or every_chapter):
            depths.append(0)
            continue
        while stack and stack[-1] >= chapter.level:
            stack.pop()
        stack.append(chapter.level)
        depths.append(len(stack))
    return depths


def write_assets(directory: Path) -> None:
    """Put the stylesheet and script beside the pages (only rewritten when they differ)."""
    for name in ASSETS:
        data = resources.files("audioessay.assets").joinpath(name).read_bytes()
        target = directory / name
        if not target.is_file() or target.read_bytes() != data:
            write_atomic(target, data)


def _head(title: str, language: str, podcast: Podcast | None) -> str:
    alternate = ""
    if podcast is not None:
        alternate = (
            f'\n<link rel="alternate" type="application/rss+xml" href="feed.xml" '
            f'title="{e(podcast.title)}">'
        )
    return f"""<!DOCTYPE html>
<html lang="{e(language)}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="audioessay">
<title>{e(title)}</title>
<link rel="stylesheet" href="{STYLESHEET}">{alternate}
<script src="{SCRIPT}" defer></script>
</head>"""


def audio_sizes(episode: Episode) -> dict[str, int]:
    """The size of each of the episode's audio files that exists, by format."""
    return {a.format: a.path.stat().st_size for a in episode.files.audio if a.path.is_file()}


def _audio_links(episode: Episode, sizes: Mapping[str, int]) -> list[str]:
    """A download link for each of the episode's audio files, with its size when known."""
    links = []
    for audio in episode.files.audio:
        size = f" ({sizes[audio.format] / 1e6:.1f} MB)" if audio.format in sizes else ""
        label = audio_format(audio.format).label + size
        links.append(f'<a href="{e(audio.path.name)}" download>{e(label)}</a>')
    return links


def episode_page(
    episode: Episode, podcast: Podcast | None = None, sizes: Mapping[str, int] | None = None
) -> str:
    """The episode's page: player, chapters, downloads, shortcuts and the timed transcript.

    ``sizes`` gives each audio file's size by format (the files may still be staged)."""
    sizes = sizes or {}
    meta = episode.metadata
    files = episode.files
    title = f"{meta.title} · {podcast.title}" if podcast else meta.title
    byline = [f"By {e(meta.author)}"] if meta.author else []
    if episode.published:
        day = episode.published.date().isoformat()
        byline.append(f'<time datetime="{day}">{day}</time>')
    byline.append(
        f'<time datetime="{iso_duration(episode.duration)}">{spoken_duration(episode.duration)}</time>'
    )
    back = ""
    if podcast is not None:
        back = (
            f'<p class="podcast"><a href="{INDEX_FILE}">{e(podcast.title)}</a>: all episodes</p>\n'
        )
    description = (
        f'<p class="description">{e(episode.description)}</p>\n' if episode.description else ""
    )
    mp3 = e(files.mp3.name)
    downloads = _audio_links(episode, sizes)
    for path, label in (
        (files.vtt, "WebVTT captions"),
        (files.srt, "SRT captions"),
        (files.chapters, "chapters (JSON)"),
        (files.transcript, "word-by-word transcript (Podcasting 2.0 JSON)"),
        (files.epub, "EPUB 3 book, text in sync with the audio"),
        (files.daisy_zip, "DAISY 2.02 talking book"),
    ):
        if path is not None:
            downloads.append(f'<a href="{e(path.name)}">{label}</a>')
    speeds = "".join(
        f'<option value="{s:g}"{" selected" if s == 1 else ""}>{s:g}×</option>' for s in SPEEDS
    )
    shortcuts = "".join(f"<dt><kbd>{e(k)}</kbd></dt><dd>{e(v)}</dd>" for k, v in SHORTCUTS)
    shortcuts += "".join(f"<dt>{e(k)}</dt><dd>{e(v)}</dd>" for k, v in TRANSCRIPT_KEYS)
    return f"""{_head(title, meta.language, podcast)}
<body>
<a class="skip" href="#transcript">Skip to the transcript</a>
<header>
{back}<h1>{e(meta.title)}</h1>
<p class="byline">{" · ".join(byline)}</p>
{description}</header>
<section class="player" aria-labelledby="listen">
<h2 id="listen">Listen</h2>
<audio id="audio" controls preload="metadata" src="{mp3}">
<a href="{mp3}">Download the MP3</a>
</audio>
<div class="controls" hidden>
<label for="speed">Speed</label>
<select id="speed">{speeds}</select>
<label><input type="checkbox" id="follow" checked> Follow the narration in the transcript</label>
<label><input type="checkbox" id="words" checked> Highlight each word</label>
<label><input type="checkbox" id="shortcuts" checked> Keyboard shortcuts</label>
</div>
<p class="status" id="status" role="status"></p>
<p class="downloads">Download: {", ".join(downloads)}</p>
<details class="keys">
<summary>Keyboard shortcuts</summary>
<p>When shortcuts are on, and the focus is not in a form field:</p>
<dl>{shortcuts}</dl>
</details>
</section>
<nav class="chapters" aria-labelledby="chapters-title">
<h2 id="chapters-title">Chapters</h2>
<ol>
{"".join(_chapter_link(i, c) for i, c in enumerate(episode.chapters))}</ol>
</nav>
<main id="transcript" tabindex="-1" aria-label="Transcript">
{"".join(_transcript(episode))}</main>
<footer><p>Narrated by a synthetic voice with <a href="https://pypi.org/project/audioessay/">audioessay</a>.</p></footer>
</body>
</html>
"""


def _chapter_link(index: int, chapter: Chapter) -> str:
    return (
        f'<li><a href="#chapter-{index + 1}" data-start="{chapter.start:.3f}">{e(chapter.title)}'
        f' <span class="time">(<time datetime="{iso_duration(chapter.start)}">{clock(chapter.start)}</time>)</span></a></li>\n'
    )


def _cue(cue: Cue, number: int, shown: str | None = None) -> str:
    """A sentence with its start time; ``shown`` replaces the spoken text (headings).

    A sentence the voice timed word by word carries each word's start, in milliseconds after
    the sentence's, in ``data-words``: the page's script wraps the words to highlight them.
    The page stays small (a book has 100,000 words) and without the script it is plain text."""
    words = ""
    if shown is None and cue.words is not None and len(cue.words) == len(cue.text.split()):
        offsets = " ".join(str(round((w - cue.start) * 1000)) for w in cue.words)
        words = f' data-words="{offsets}"'
    return (
        f'<span class="cue" id="s{number}" data-start="{cue.start:.3f}" data-end="{cue.end:.3f}"'
        f'{words}><time datetime="{iso_duration(cue.start)}">{clock(cue.start)}</time> '
        f"{e(cue.text if shown is None else shown)}</span>"
    )


def _transcript(episode: Episode) -> Iterator[str]:
    """The transcript, one section per chapter, one ``<p>`` per paragraph, one span per cue."""
    depths = heading_depths(episode.chapters)
    texts = chapter_texts(episode)
    for index, (chapter, text) in enumerate(zip(episode.chapters, texts, strict=True)):
        titles = text.titles
        yield f'<section id="chapter-{index + 1}" data-start="{chapter.start:.3f}">\n'
        if chapter.heading:
            level = min(6, depths[index] + 1)
            if len(titles) == 1:  # the heading as written, not as spoken ("Title.")
                spans = _cue(titles[0][1], titles[0][0], chapter.title)
            else:
                spans = " ".join(_cue(c, n) for n, c in titles) or e(chapter.title)
            yield f"<h{level}>{spans}</h{level}>\n"
        elif titles:
            yield f'<p class="intro">{" ".join(_cue(c, n) for n, c in titles)}</p>\n'
        for paragraph in text.paragraphs:
            yield f"<p>{' '.join(_cue(c, n) for n, c in paragraph)}</p>\n"
        yield "</section>\n"


def index_page(
    podcast: Podcast, episodes: Sequence[Episode], feed_url: str, image: str, sizes: Sequence[int]
) -> str:
    """The podcast's front page: what it is, how to subscribe, and every episode."""
    items = []
    for episode, size in zip(episodes, sizes, strict=True):
        meta = episode.metadata
        facts = [f"By {e(meta.author)}"] if meta.author else []
        if episode.published:
            day = episode.published.date().isoformat()
            facts.append(f'<time datetime="{day}">{day}</time>')
        facts.append(spoken_duration(episode.duration))
        page = e((episode.files.html or episode.files.mp3).name)
        items.append(
            f'<li><article aria-labelledby="ep-{e(episode.slug)}">\n'
            f'<h3 id="ep-{e(episode.slug)}"><a href="{page}">{e(meta.title)}</a></h3>\n'
            f'<p class="byline">{" · ".join(facts)}</p>\n'
            f"<p>{e(episode.description)}</p>\n"
            f"<p>{', '.join(_audio_links(episode, {**audio_sizes(episode), 'mp3': size}))}</p>\n"
            "</article></li>\n"
        )
    listing = (
        f'<ol class="episodes">\n{"".join(items)}</ol>' if items else "<p>No episodes yet.</p>"
    )
    return f"""{_head(podcast.title, podcast.language, podcast)}
<body>
<a class="skip" href="#episodes">Skip to the episodes</a>
<header>
<img class="cover" src="{e(image)}" alt="" width="240" height="240">
<h1>{e(podcast.title)}</h1>
<p class="description">{e(podcast.description)}</p>
<p class="byline">By {e(podcast.author)}</p>
</header>
<section class="subscribe" aria-labelledby="subscribe">
<h2 id="subscribe">Subscribe</h2>
<p><a href="feed.xml" type="application/rss+xml">Podcast feed (RSS)</a>. To subscribe, paste this address into your podcast app:</p>
<p><code>{e(feed_url)}</code></p>
</section>
<main id="episodes" tabindex="-1" aria-labelledby="episodes-title">
<h2 id="episodes-title">Episodes</h2>
{listing}
</main>
<footer><p>Narrated by a synthetic voice with <a href="https://pypi.org/project/audioessay/">audioessay</a>.</p></footer>
</body>
</html>
"""
