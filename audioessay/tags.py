"""ID3v2.3 tags with chapters stored in time order, and reading them back for ``inspect``.

mutagen's writer orders frames by size (mutagen issue #506), which puts CHAP frames out of
time order; ffprobe and VLC list chapters in file order. :class:`_OrderedID3` writes the table
of contents and the chapters last, in the order given.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mutagen.id3 import (
    APIC,
    CHAP,
    COMM,
    CTOC,
    ID3,
    TALB,
    TDRC,
    TIT2,
    TLAN,
    TLEN,
    TPE1,
    CTOCFlags,
    ID3NoHeaderError,
)

from .errors import InspectError, OutputError
from .files import read_regular
from .model import Chapter, Metadata

_NO_OFFSET = 0xFFFFFFFF
MAX_TOC_CHILDREN = 255
# ID3's TLAN takes ISO 639-2 codes; front matter usually gives ISO 639-1.
_ISO639_2 = {
    "ar": "ara",
    "bg": "bul",
    "ca": "cat",
    "cs": "ces",
    "cy": "cym",
    "da": "dan",
    "de": "deu",
    "el": "ell",
    "en": "eng",
    "eo": "epo",
    "es": "spa",
    "et": "est",
    "eu": "eus",
    "fa": "fas",
    "fi": "fin",
    "fr": "fra",
    "ga": "gle",
    "he": "heb",
    "hi": "hin",
    "hr": "hrv",
    "hu": "hun",
    "id": "ind",
    "is": "isl",
    "it": "ita",
    "ja": "jpn",
    "ko": "kor",
    "la": "lat",
    "lt": "lit",
    "lv": "lav",
    "nl": "nld",
    "no": "nor",
    "nb": "nob",
    "pl": "pol",
    "pt": "por",
    "ro": "ron",
    "ru": "rus",
    "sk": "slk",
    "sl": "slv",
    "sr": "srp",
    "sv": "swe",
    "sw": "swa",
    "th": "tha",
    "tr": "tur",
    "uk": "ukr",
    "vi": "vie",
    "zh": "zho",
}


class _OrderedID3(ID3):
    """An ID3 tag that writes CTOC then CHAP frames after the others, in insertion order."""

    def __init__(self) -> None:
        super().__init__()
        self.toc_frames: list[Any] = []

    def _write(self, config: Any) -> bytes:
        from mutagen.id3._tags import save_frame

        head = bytes(super()._write(config))
        return head + b"".join(bytes(save_frame(f, config=config)) for f in self.toc_frames)


def language_code(language: str) -> str:
    """ISO 639-2 code for TLAN (``en-US`` → ``eng``); unknown codes are passed through."""
    primary = language.split("-")[0].split("_")[0].lower()
    return _ISO639_2.get(primary, primary)


def write_tags(
    path: Path,
    metadata: Metadata,
    chapters: list[Chapter],
    duration: float,
    description: str,
    cover: tuple[bytes, str] | None = None,
) -> None:
    """Tag the MP3 at ``path`` in place (it is still the temporary file).

    ``cover`` is the art's bytes and MIME type, as :func:`read_cover` returns them.
    """
    check_chapter_limits(len(chapters))
    tag = _OrderedID3()
    tag.add(TIT2(encoding=1, text=metadata.title))
    if metadata.author:
        tag.add(TPE1(encoding=1, text=metadata.author))
    tag.add(TALB(encoding=1, text=metadata.title))
    # The recording date: the essay's own date, else its publication date (the pipeline's).
    if metadata.date:
        tag.add(TDRC(encoding=1, text=metadata.date[:10]))
    tag.add(TLEN(encoding=1, text=str(round(duration * 1000))))
    tag.add(TLAN(encoding=1, text=language_code(metadata.language)))
    tag.add(COMM(encoding=1, lang=language_code(metadata.language), desc="", text=description))
    if cover is not None:
        data, mime = cover
        tag.add(APIC(encoding=1, mime=mime, type=3, desc="Cover", data=data))
    ids = [f"chp{i}" for i in range(len(chapters))]
    tag.toc_frames.extend(toc_frames(ids, chapters, metadata.title))
    for element_id, chapter in zip(ids, chapters, strict=True):
        tag.toc_frames.append(
            CHAP(
                element_id=element_id,
                start_time=round(chapter.start * 1000),
                end_time=round(chapter.end * 1000),
                start_offset=_NO_OFFSET,
                end_offset=_NO_OFFSET,
                sub_frames=[TIT2(encoding=1, text=chapter.title)],
            )
        )
    tag.save(str(path), v2_version=3, v1=0)


MAX_CHAPTERS = MAX_TOC_CHILDREN**2
"""Two levels of tables of contents hold 65,025 chapters; more than any book has."""


def check_chapter_limits(count: int) -> None:
    """Refuse, before any narration, an essay with more chapters than the tag can list."""
    if count > MAX_CHAPTERS:
        raise OutputError(
            f"{count} chapters is more than an ID3 table of contents can list ({MAX_CHAPTERS}); "
            "merge some headings, or split the essay into several"
        )


def toc_frames(ids: list[str], chapters: list[Chapter], title: str) -> list[Any]:
    """The CTOC frames for ``chapters``: one titled top-level table when they fit in it.

    One table holds at most 255 children (ID3 Chapter Frame Addendum). Beyond that the top
    level lists the parts (level-1 chapters) and a part with sections under it gets a table
    of its own, titled like the part, listing the part and its sections; any list still too
    long is cut into tables of 255 consecutive entries ("Chapters 1-255"). Every table is
    ordered, so a reader that walks them meets every chapter in time order.
    """
    flags = CTOCFlags.ORDERED
    frames: list[Any] = []

    def table(element_id: str, heading: str, children: list[str], top: bool = False) -> None:
        frames.insert(
            0 if top else len(frames),
            CTOC(
                element_id=element_id,
                flags=flags | (CTOCFlags.TOP_LEVEL if top else 0),
                child_element_ids=children,
                sub_frames=[TIT2(encoding=1, text=heading)],
            ),
        )

    def fitted(prefix: str, entries: list[tuple[str, int, int]]) -> list[str]:
        """Entries (id, first, last chapter number), in tables of 255 when there are more."""
        while len(entries) > MAX_TOC_CHILDREN:
            runs = [entries[i : i + MAX_TOC_CHILDREN] for i in range(0, len(entries), MAX_TOC_CHILDREN)]
            entries = []
            for run in runs:
                first, last = run[0][1], run[-1][2]
                element_id = f"{prefix}{len(frames)}"
                table(element_id, f"Chapters {first}-{last}", [e[0] for e in run])
                entries.append((element_id, first, last))
        return [e[0] for e in entries]

    if len(chapters) <= MAX_TOC_CHILDREN:
        table("toc", title, ids, top=True)
        return frames
    parts: list[list[int]] = []
    for index, chapter in enumerate(chapters):
        if not parts or chapter.level <= 1:
            parts.append([index])
        else:
            parts[-1].append(index)
    top: list[tuple[str, int, int]] = []
    for part in parts:
        first, last = part[0] + 1, part[-1] + 1
        if len(part) == 1:
            top.append((ids[part[0]], first, last))
            continue
        children = fitted("sub", [(ids[i], i + 1, i + 1) for i in part])
        element_id = f"part{len(frames)}"
        table(element_id, chapters[part[0]].title, children)
        top.append((element_id, first, last))
    table("toc", title, fitted("run", top), top=True)
    return frames


ART_LIMIT = 16 * 2**20
"""The largest cover file read (16 MiB): Apple asks for at most 512 KB."""
ART_SIDE = 8192
"""The largest cover side, in pixels: Apple asks for 1400 to 3000, and a header claiming
60000 x 60000 would take gigabytes to decode in any app that shows it."""


def read_cover(path: Path) -> tuple[bytes, str]:
    """The image's bytes and MIME type; only whole JPEG and PNG images of a sane size are
    cover art. Checked before any narration, whatever the formats asked for."""
    from io import BytesIO

    from PIL import Image

    data = read_regular(path, ART_LIMIT, OutputError)
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        mime = "image/png"
    elif data.startswith(b"\xff\xd8\xff"):
        mime = "image/jpeg"
    else:
        raise OutputError(f"cover image {path} must be a JPEG or PNG file")
    try:
        with Image.open(BytesIO(data)) as image:
            width, height = image.size
            if max(width, height) > ART_SIDE:
                raise OutputError(
                    f"cover image {path} is {width} x {height} pixels; podcast art is at most "
                    f"{ART_SIDE} on a side (Apple asks for 1400 to 3000)"
                )
            image.verify()  # the whole file: a cut-off or damaged image is refused here
    except OutputError:
        raise
    except Image.DecompressionBombError:
        raise OutputError(
            f"cover image {path} claims more pixels than any cover has; podcast art is at "
            f"most {ART_SIDE} on a side"
        ) from None
    except Exception as exc:  # Pillow raises many kinds for damaged images
        raise OutputError(f"cover image {path} is damaged or unreadable: {exc}") from None
    return data, mime


@dataclass(frozen=True)
class TagReport:
    """What ``inspect`` shows: the episode's tags and its chapters in time order."""

    title: str | None
    author: str | None
    album: str | None
    date: str | None
    language: str | None
    description: str | None
    duration: float
    bitrate: int
    sample_rate: int
    has_cover: bool
    chapters: tuple[Chapter, ...]


def read_tags(path: Path) -> TagReport:
    """Read an episode's tags and chapters, for ``audioessay inspect``: an MP3's ID3 frames
    through mutagen; any other format (Opus, M4A, M4B) through FFmpeg's demuxers."""
    from mutagen.mp3 import MP3, HeaderNotFoundError

    if not path.is_file():
        raise InspectError(f"{path}: no such file")
    if path.suffix.lower() != ".mp3":
        return _read_with_av(path)
    try:
        audio: Any = MP3(str(path))
    except (HeaderNotFoundError, ID3NoHeaderError, OSError) as exc:
        raise InspectError(f"{path} is not a readable MP3 file") from exc
    except Exception as exc:
        raise InspectError(f"{path} is not a readable MP3 file ({exc})") from exc
    tags: Any = audio.tags or {}

    def text(frame_id: str) -> str | None:
        frame = tags.get(frame_id) if hasattr(tags, "get") else None
        return str(frame.text[0]) if frame is not None and frame.text else None

    comments = tags.getall("COMM") if hasattr(tags, "getall") else []
    chapters = []
    for frame in tags.getall("CHAP") if hasattr(tags, "getall") else []:
        title = frame.sub_frames.get("TIT2")
        chapters.append(
            Chapter(
                title=str(title.text[0]) if title else frame.element_id,
                level=1,
                start=frame.start_time / 1000,
                end=frame.end_time / 1000,
            )
        )
    chapters.sort(key=lambda c: c.start)
    return TagReport(
        title=text("TIT2"),
        author=text("TPE1"),
        album=text("TALB"),
        date=text("TDRC") or text("TYER"),
        language=text("TLAN"),
        description=str(comments[0].text[0]) if comments else None,
        duration=audio.info.length,
        bitrate=audio.info.bitrate // 1000,
        sample_rate=audio.info.sample_rate,
        has_cover=bool(tags.getall("APIC")) if hasattr(tags, "getall") else False,
        chapters=tuple(chapters),
    )


def _read_with_av(path: Path) -> TagReport:
    """Tags and chapters of a file in another format, as FFmpeg reads them (the Opus's Vorbis
    comments and chapters, the MP4's atoms and chapter track); the cover through mutagen."""
    from fractions import Fraction

    import av
    import mutagen

    try:
        container = av.open(str(path))
    except av.FFmpegError as exc:
        raise InspectError(f"{path} is not a readable audio file") from exc
    with container:
        if not container.streams.audio:
            raise InspectError(f"{path} has no audio")
        stream = container.streams.audio[0]
        found = {k.lower(): v for k, v in {**stream.metadata, **container.metadata}.items()}
        chapters = tuple(
            Chapter(str(c["metadata"].get("title", "")), 1, float(c["start"] * unit),
                    float(c["end"] * unit))
            for c in container.chapters()
            for unit in [c["time_base"] or Fraction(1, 1000)]
        )  # fmt: skip
        duration = (container.duration or 0) / av.time_base
        bitrate, rate = (container.bit_rate or 0) // 1000, stream.sample_rate
    tagged: Any = mutagen.File(str(path))
    tags: Any = tagged.tags if tagged is not None else None
    cover = bool(tags and ("covr" in tags or "metadata_block_picture" in tags))
    return TagReport(
        title=found.get("title"),
        author=found.get("artist"),
        album=found.get("album"),
        date=found.get("date"),
        language=found.get("language"),
        description=found.get("description") or found.get("comment"),
        duration=duration,
        bitrate=bitrate,
        sample_rate=rate,
        has_cover=cover,
        chapters=tuple(sorted(chapters, key=lambda c: c.start)),
    )
