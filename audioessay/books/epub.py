"""EPUB 3 with Media Overlays: ``<slug>.epub``, text highlighted in sync with the narration.

One XHTML content document and one SMIL 3.0 overlay per chapter; each sentence is a span whose
``par`` pairs it with its ``clipBegin``/``clipEnd`` in the episode's MP3. With ``sync="word"``
each word the voice timed is a span of its own with a ``par``, and a sentence's ``par``s are
grouped in a ``seq`` that points at the sentence, so reading systems that step by sentence
still can. The navigation
document nests the chapters by heading level, and the package carries the EPUB Accessibility
metadata reading systems and catalogues look for.
"""

from __future__ import annotations

import io
import uuid
import zipfile
from pathlib import Path

from .. import __version__
from ..escaping import xml_attr, xml_text
from ..files import Staging, render_time
from ..formats import audio_format
from ..model import Episode
from ..transcript import timestamp as clock
from . import BookSection, Clip, book_sections

ACTIVE_CLASS = "-epub-media-overlay-active"
STYLE = f"""body {{ font-family: serif; line-height: 1.6; margin: 1em; }}
h1, h2, h3, h4, h5, h6 {{ font-family: sans-serif; line-height: 1.25; }}
.{ACTIVE_CLASS} {{ background-color: #fff1b8; color: #000; }}
"""


def write_epub(
    episode: Episode, narrator: str, stage: Staging, audio: Path, sync: str = "sentence"
) -> None:
    """Stage the EPUB where the episode's outputs say.

    ``audio`` is the episode's MP3 as it stands now (still staged under a temporary name).
    """
    assert episode.files.epub is not None  # the render planned it
    stage.write(episode.files.epub, build_epub(episode, narrator, audio, sync))


def build_epub(
    episode: Episode, narrator: str, audio_file: Path | None = None, sync: str = "sentence"
) -> bytes:
    """The EPUB file's bytes."""
    by_word = sync == "word"
    sections = book_sections(episode)
    audio = f"audio/{episode.files.mp3.name}"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as book:
        book.writestr(zipfile.ZipInfo("mimetype"), "application/epub+zip")  # first, stored
        deflated = zipfile.ZIP_DEFLATED
        book.writestr("META-INF/container.xml", _CONTAINER, deflated)
        book.writestr("EPUB/package.opf", _package(episode, sections, audio, narrator), deflated)
        book.writestr("EPUB/nav.xhtml", _nav(episode, sections), deflated)
        book.writestr("EPUB/style.css", STYLE, deflated)
        for section in sections:
            chapter = _chapter(episode, section, by_word)
            book.writestr(f"EPUB/{_doc(section)}", chapter, deflated)
            book.writestr(f"EPUB/{_overlay(section)}", _smil(section, audio, by_word), deflated)
        book.write(audio_file or episode.files.mp3, f"EPUB/{audio}", zipfile.ZIP_STORED)
    return buffer.getvalue()


_CONTAINER = """<?xml version="1.0" encoding="UTF-8"?>
<container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">
  <rootfiles>
    <rootfile full-path="EPUB/package.opf" media-type="application/oebps-package+xml"/>
  </rootfiles>
</container>
"""


def _doc(section: BookSection) -> str:
    return f"c{section.number:04d}.xhtml"


def _overlay(section: BookSection) -> str:
    return f"c{section.number:04d}.smil"


def identifier(episode: Episode) -> str:
    """``urn:uuid:…`` for a UUID GUID, else the GUID itself."""
    try:
        return f"urn:uuid:{uuid.UUID(episode.guid)}"
    except ValueError:
        return episode.guid or f"urn:audioessay:{episode.slug}"


def _package(episode: Episode, sections: list[BookSection], audio: str, narrator: str) -> str:
    meta = episode.metadata
    modified = render_time().strftime("%Y-%m-%dT%H:%M:%SZ")
    durations = [s.end - s.start for s in sections]
    lines = [
        f'<dc:identifier id="uid">{xml_text(identifier(episode))}</dc:identifier>',
        f"<dc:title>{xml_text(meta.title)}</dc:title>",
        f"<dc:language>{xml_text(meta.language)}</dc:language>",
        f'<meta property="dcterms:modified">{modified}</meta>',
    ]
    if meta.author:
        lines.append(f"<dc:creator>{xml_text(meta.author)}</dc:creator>")
    if episode.published:
        lines.append(f"<dc:date>{episode.published.date().isoformat()}</dc:date>")
    if episode.description:
        lines.append(f"<dc:description>{xml_text(episode.description)}</dc:description>")
    lines += [
        f'<meta property="media:duration" refines="#mo{s.number}">{clock(d)}</meta>'
        for s, d in zip(sections, durations, strict=True)
    ]
    lines += [
        f'<meta property="media:duration">{clock(sum(durations))}</meta>',
        f'<meta property="media:narrator">{xml_text(narrator)}</meta>',
        f'<meta property="media:active-class">{ACTIVE_CLASS}</meta>',
        '<meta property="schema:accessMode">textual</meta>',
        '<meta property="schema:accessMode">auditory</meta>',
        '<meta property="schema:accessModeSufficient">textual</meta>',
        '<meta property="schema:accessModeSufficient">auditory</meta>',
        '<meta property="schema:accessModeSufficient">textual,auditory</meta>',
        *(
            f'<meta property="schema:accessibilityFeature">{feature}</meta>'
            for feature in (
                "synchronizedAudioText", "structuralNavigation", "tableOfContents",
                "readingOrder", "displayTransformability",
            )
        ),
        '<meta property="schema:accessibilityHazard">none</meta>',
        '<meta property="schema:accessibilitySummary">'
        + xml_text(
            "The full text of the essay with its complete narration by a synthetic voice. "
            "Every sentence is synchronized with the audio and highlighted as it is read; "
            "headings follow the essay's structure and the table of contents links to every "
            "chapter. The text can be read alone, the audio listened to alone, or both together."
        )
        + "</meta>",
        f'<meta name="generator" content="audioessay {__version__}"/>',
    ]  # fmt: skip
    manifest = [
        '<item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" properties="nav"/>',
        '<item id="css" href="style.css" media-type="text/css"/>',
        f'<item id="audio" href={xml_attr(audio)} media-type={xml_attr(audio_format("mp3").mime)}/>',
    ]
    spine = []
    for s in sections:
        manifest.append(
            f'<item id="c{s.number}" href="{_doc(s)}" media-type="application/xhtml+xml" '
            f'media-overlay="mo{s.number}"/>'
        )
        manifest.append(
            f'<item id="mo{s.number}" href="{_overlay(s)}" media-type="application/smil+xml"/>'
        )
        spine.append(f'<itemref idref="c{s.number}"/>')
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<package xmlns="http://www.idpf.org/2007/opf" version="3.0" unique-identifier="uid" '
        f"xml:lang={xml_attr(meta.language)}>\n"
        '<metadata xmlns:dc="http://purl.org/dc/elements/1.1/">\n'
        + "\n".join(lines)
        + "\n</metadata>\n<manifest>\n"
        + "\n".join(manifest)
        + "\n</manifest>\n<spine>\n"
        + "\n".join(spine)
        + "\n</spine>\n</package>\n"
    )


def _xhtml(language: str, title: str, body: str) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE html>\n'
        '<html xmlns="http://www.w3.org/1999/xhtml" xmlns:epub="http://www.idpf.org/2007/ops" '
        f"lang={xml_attr(language)} xml:lang={xml_attr(language)}>\n"
        f'<head>\n<meta charset="utf-8"/>\n<title>{xml_text(title)}</title>\n'
        '<link rel="stylesheet" type="text/css" href="style.css"/>\n</head>\n'
        f"<body>\n{body}\n</body>\n</html>\n"
    )


def _sentence(clip: Clip, by_word: bool) -> str:
    """A sentence's span; by word, with a span per word run inside it."""
    if not (by_word and clip.words):
        return f'<span id="{clip.id}">{xml_text(clip.text)}</span>'
    words = " ".join(
        f'<span id="{clip.id}w{n}">{xml_text(text)}</span>'
        for n, (text, _, _) in enumerate(clip.words, start=1)
    )
    return f'<span id="{clip.id}">{words}</span>'


def _chapter(episode: Episode, section: BookSection, by_word: bool = False) -> str:
    level = f"h{section.depth}"
    kind = 'epub:type="titlepage"' if section.number == 1 else 'epub:type="chapter"'
    role = "" if section.number == 1 else ' role="doc-chapter"'
    parts = [
        f'<section {kind}{role} aria-labelledby="{section.heading.id}">',
        f'<{level} id="{section.heading.id}">{xml_text(section.title)}</{level}>',
    ]
    if section.number == 1 and episode.metadata.author:
        parts.append(f'<p class="author">{xml_text(episode.metadata.author)}</p>')
    for paragraph in section.paragraphs:
        spans = " ".join(_sentence(c, by_word) for c in paragraph)
        parts.append(f"<p>{spans}</p>")
    parts.append("</section>")
    title = f"{section.title} · {episode.metadata.title}" if section.number > 1 else section.title
    return _xhtml(episode.metadata.language, title, "\n".join(parts))


def _par(id: str, src: str, audio: str, start: float, end: float) -> str:
    return (
        f'<par id="p{id}"><text src="{src}#{id}"/>'
        f'<audio src="{audio}" clipBegin="{clock(start)}" clipEnd="{clock(end)}"/></par>'
    )


def _smil(section: BookSection, audio: str, by_word: bool = False) -> str:
    doc = _doc(section)
    pars = []
    for clip in section.clips:
        if by_word and clip.words:
            words = [
                _par(f"{clip.id}w{n}", doc, audio, start, end)
                for n, (_, start, end) in enumerate(clip.words, start=1)
            ]
            pars.append(f'<seq id="q{clip.id}" epub:textref="{doc}#{clip.id}">{"".join(words)}</seq>')
        else:
            pars.append(_par(clip.id, doc, audio, clip.start, clip.end))
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<smil xmlns="http://www.w3.org/ns/SMIL" xmlns:epub="http://www.idpf.org/2007/ops" '
        'version="3.0">\n<body>\n'
        f'<seq id="seq{section.number}" epub:textref="{_doc(section)}" epub:type="chapter">\n'
        + "\n".join(pars)
        + "\n</seq>\n</body>\n</smil>\n"
    )


def _nav(episode: Episode, sections: list[BookSection]) -> str:
    """The table of contents, nested by heading level."""
    out: list[str] = []
    depth = 0
    for section in sections:
        target = section.depth
        if target > depth:
            out.extend(["<ol>"] * (target - depth))
        else:
            out.append("</li>")
            for _ in range(depth - target):
                out.extend(["</ol>", "</li>"])
        depth = target
        out.append(f'<li><a href="{_doc(section)}">{xml_text(section.title)}</a>')
    out.append("</li>")
    for _ in range(depth - 1):
        out.extend(["</ol>", "</li>"])
    out.append("</ol>")
    body = (
        '<nav epub:type="toc" role="doc-toc" id="toc" aria-labelledby="toc-title">\n'
        '<h1 id="toc-title">Contents</h1>\n' + "\n".join(out) + "\n</nav>"
    )
    return _xhtml(episode.metadata.language, f"Contents · {episode.metadata.title}", body)
