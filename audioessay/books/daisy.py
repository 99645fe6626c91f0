"""DAISY 2.02: ``<slug>.daisy/`` (and ``<slug>.daisy.zip``) with full audio and full text.

    ncc.html       the navigation centre: dc:/ncc: metadata, h1-h6 headings linking into SMIL
    sNNNN.smil     one SMIL 1.0 file per section: a par per sentence (text + audio clip)
    content.html   the whole text, every heading and sentence with an id
    <slug>.mp3     the episode's audio, which every clip points into

Times are the episode's cue times, so the book and the transcripts agree to the millisecond.
"""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

from .. import __version__
from ..escaping import xml_attr, xml_text
from ..files import Staging, render_time
from ..model import Episode
from ..transcript import timestamp as clock
from . import BookSection, book_sections

XHTML_DOCTYPE = (
    '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" '
    '"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">'
)
SMIL_DOCTYPE = (
    '<!DOCTYPE smil PUBLIC "-//W3C//DTD SMIL 1.0//EN" "http://www.w3.org/TR/REC-smil/SMIL10.dtd">'
)
CONTENT = "content.html"


def write_daisy(
    episode: Episode, narrator: str, stage: Staging, audio: Path, sync: str = "sentence"
) -> None:
    """Stage the DAISY folder and its zip where the episode's outputs say. DAISY 2.02's SMIL
    is by sentence whatever ``sync`` asks: its players step by phrase, and none highlights words.

    ``audio`` is the episode's MP3 as it stands now (still staged under a temporary name).
    """
    mp3, folder, archive = episode.files.mp3, episode.files.daisy, episode.files.daisy_zip
    assert folder is not None and archive is not None  # the render planned them
    sections = book_sections(episode)
    tmp = stage.directory(folder)
    shutil.copyfile(audio, tmp / mp3.name)
    (tmp / CONTENT).write_text(_content(episode, sections), encoding="utf-8")
    for section in sections:
        (tmp / _smil_name(section)).write_text(
            _smil(episode, section, mp3.name), encoding="utf-8"
        )
    files = 3 + len(sections)  # ncc, content, audio, and the SMIL files
    (tmp / "ncc.html").write_text(
        _ncc(episode, sections, narrator, files, _size(tmp)), encoding="utf-8"
    )
    stage.write(archive, _zip(tmp, folder.name))


def _smil_name(section: BookSection) -> str:
    return f"s{section.number:04d}.smil"


def _size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.iterdir())


def _meta(name: str, content: str, scheme: str | None = None) -> str:
    extra = f" scheme={xml_attr(scheme)}" if scheme else ""
    return f"<meta name={xml_attr(name)} content={xml_attr(content)}{extra} />"


def _ncc(
    episode: Episode, sections: list[BookSection], narrator: str, files: int, size: int
) -> str:
    meta = episode.metadata
    produced = render_time().date().isoformat()
    published = (episode.published or render_time()).date().isoformat()
    depth = max(s.depth for s in sections)
    metas = [
        _meta("dc:title", meta.title),
        _meta("dc:creator", meta.author or "Unknown"),
        _meta("dc:date", published, "yyyy-mm-dd"),
        _meta("dc:format", "Daisy 2.02"),
        _meta("dc:identifier", episode.guid or episode.slug),
        _meta("dc:language", meta.language, "ISO 639"),
        _meta("dc:publisher", meta.author or "audioessay"),
        _meta("dc:source", episode.source.name or meta.title),
        _meta("ncc:charset", "utf-8"),
        _meta("ncc:depth", str(depth)),
        _meta("ncc:files", str(files)),
        _meta("ncc:footnotes", "0"),
        _meta("ncc:generator", f"audioessay {__version__}"),
        _meta("ncc:kByteSize", str(round(size / 1024))),
        _meta("ncc:maxPageNormal", "0"),
        _meta("ncc:multimediaType", "audioFullText"),
        _meta("ncc:narrator", narrator),
        _meta("ncc:pageFront", "0"),
        _meta("ncc:pageNormal", "0"),
        _meta("ncc:pageSpecial", "0"),
        _meta("ncc:prodNotes", "0"),
        _meta("ncc:producedDate", produced, "yyyy-mm-dd"),
        _meta("ncc:producer", "audioessay"),
        _meta("ncc:setInfo", "1 of 1"),
        _meta("ncc:sidebars", "0"),
        _meta("ncc:sourceDate", published, "yyyy-mm-dd"),
        _meta("ncc:tocItems", str(len(sections))),
        _meta("ncc:totalTime", clock(episode.duration), "hh:mm:ss"),
    ]
    headings = []
    for section in sections:
        tag = f"h{section.depth}"
        title_class = ' class="title"' if section.number == 1 else ""
        headings.append(
            f'<{tag}{title_class} id="n{section.number}">'
            f'<a href="{_smil_name(section)}#{section.heading.id}">{xml_text(section.title)}</a>'
            f"</{tag}>"
        )
    return _xhtml(meta.language, meta.title, "\n".join(metas), "\n".join(headings))


def _xhtml(language: str, title: str, head: str, body: str) -> str:
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        f"{XHTML_DOCTYPE}\n"
        f'<html xmlns="http://www.w3.org/1999/xhtml" xml:lang={xml_attr(language)} '
        f"lang={xml_attr(language)}>\n<head>\n"
        '<meta http-equiv="Content-type" content="text/html; charset=utf-8" />\n'
        f"<title>{xml_text(title)}</title>\n{head}\n</head>\n<body>\n{body}\n</body>\n</html>\n"
    )


def _content(episode: Episode, sections: list[BookSection]) -> str:
    """The full text: headings and paragraphs, every sentence a span with the id SMIL cites."""
    body = []
    for section in sections:
        tag = f"h{section.depth}"
        body.append(f'<{tag} id="{section.heading.id}">{xml_text(section.title)}</{tag}>')
        for paragraph in section.paragraphs:
            spans = " ".join(f'<span id="{c.id}">{xml_text(c.text)}</span>' for c in paragraph)
            body.append(f"<p>{spans}</p>")
    meta = episode.metadata
    return _xhtml(meta.language, meta.title, "", "\n".join(body))


def _smil(episode: Episode, section: BookSection, audio: str) -> str:
    pars = []
    for clip in section.clips:
        pars.append(
            f'<par endsync="last" id="{clip.id}">'
            f'<text src="{CONTENT}#{clip.id}" id="t{clip.id}" />'
            f'<audio src={xml_attr(audio)} clip-begin="npt={clip.start:.3f}s" '
            f'clip-end="npt={clip.end:.3f}s" id="a{clip.id}" />'
            "</par>"
        )
    length = section.end - section.start
    head = "\n".join(
        [
            _meta("dc:format", "Daisy 2.02"),
            _meta("dc:title", episode.metadata.title),
            _meta("dc:identifier", episode.guid or episode.slug),
            _meta("ncc:generator", f"audioessay {__version__}"),
            _meta("ncc:totalElapsedTime", clock(section.start)),
            _meta("ncc:timeInThisSmil", clock(length)),
            '<layout><region id="txtView" /></layout>',
        ]
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        f"{SMIL_DOCTYPE}\n<smil>\n<head>\n{head}\n</head>\n<body>\n"
        f'<seq dur="{length:.3f}s">\n' + "\n".join(pars) + "\n</seq>\n</body>\n</smil>\n"
    )


def _zip(folder: Path, name: str) -> bytes:
    """The folder zipped, ncc.html first, under the folder name ``name``."""
    import io

    buffer = io.BytesIO()
    entries = sorted(p.name for p in folder.iterdir())
    entries.sort(key=lambda n: n != "ncc.html")
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for entry in entries:
            kind = zipfile.ZIP_STORED if entry.endswith(".mp3") else zipfile.ZIP_DEFLATED
            archive.write(folder / entry, f"{name}/{entry}", compress_type=kind)
    return buffer.getvalue()
