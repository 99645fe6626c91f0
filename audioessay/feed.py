"""The podcast RSS feed: RSS 2.0 with the itunes, podcast, psc and atom namespaces.

The feed is a pure function of the podcast settings, the episode records and the sizes (and,
for alternates, the SHA-384) of the audio files on disk, so rebuilding it is always safe and never loses an episode. It is written by hand
rather than through ElementTree so that the four namespace declarations are always present
exactly as the standards spell them, and every text and attribute goes through one escaper
that also drops characters XML 1.0 cannot carry.
"""

from __future__ import annotations

import base64
import datetime as dt
import email.utils
import hashlib
import html
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from urllib.parse import quote, urlsplit

from .escaping import xml_attr, xml_text
from .formats import audio_format
from .model import AudioFile, Episode
from .podcast import Podcast
from .transcript import timestamp

PODCAST_GUID_NAMESPACE = uuid.UUID("ead4c236-bf58-58c6-a2c6-a6b28d128cb6")
"""Podcasting 2.0's namespace for ``podcast:guid`` (UUIDv5 of the feed URL)."""
FEED_FILE = "feed.xml"
NAMESPACES = (
    ("itunes", "http://www.itunes.com/dtds/podcast-1.0.dtd"),
    ("podcast", "https://podcastindex.org/namespace/1.0"),
    ("psc", "http://podlove.org/simple-chapters"),
    ("atom", "http://www.w3.org/2005/Atom"),
)


def podcast_guid(feed_url: str) -> str:
    """``podcast:guid``: UUIDv5 of the feed URL without its scheme and trailing slashes."""
    parts = urlsplit(feed_url)
    bare = feed_url[len(parts.scheme) + 3 :] if parts.scheme else feed_url
    return str(uuid.uuid5(PODCAST_GUID_NAMESPACE, bare.rstrip("/")))


def file_url(base_url: str, name: str) -> str:
    """The public URL of a file in the podcast folder."""
    return f"{base_url.rstrip('/')}/{quote(name)}"


def rfc2822(moment: dt.datetime) -> str:
    """RFC 2822 date in GMT, as RSS requires."""
    return email.utils.format_datetime(moment.astimezone(dt.UTC), usegmt=True)


def build_feed(
    podcast: Podcast,
    episodes: Sequence[Episode],
    sizes: Sequence[int],
    base_url: str,
    image: str,
    home_url: str = "",
) -> bytes:
    """The feed document; ``sizes`` are the tagged MP3s' byte lengths, ``image`` the art's URL.

    ``home_url`` is the podcast's published base URL when the feed is built for another
    address (a local preview): ``podcast:guid`` identifies the podcast, so it keeps that one.
    """
    feed_url = file_url(base_url, FEED_FILE)
    link = podcast.link or file_url(base_url, "index.html")
    lines = ['<?xml version="1.0" encoding="UTF-8"?>']
    declarations = " ".join(f"xmlns:{prefix}={xml_attr(uri)}" for prefix, uri in NAMESPACES)
    lines.append(f'<rss version="2.0" {declarations}>')
    lines.append("<channel>")
    guid = podcast_guid(file_url(home_url or base_url, FEED_FILE))
    lines += _channel(podcast, episodes, feed_url, link, image, guid)
    for episode, size in zip(episodes, sizes, strict=True):
        lines += _item(podcast, episode, size, base_url)
    lines += ["</channel>", "</rss>", ""]
    return "\n".join(lines).encode("utf-8")


def _channel(
    podcast: Podcast,
    episodes: Sequence[Episode],
    feed_url: str,
    link: str,
    image: str,
    guid: str,
) -> Iterator[str]:
    yield _el("title", podcast.title)
    yield _el("link", link)
    yield _el("description", html.escape(podcast.description, quote=False))
    yield _el("language", podcast.language)
    yield _el("generator", "audioessay")
    dates = [e.published for e in episodes if e.published]
    if dates:
        yield _el("pubDate", rfc2822(max(dates)))
        yield _el("lastBuildDate", rfc2822(max(dates)))
    yield _empty("atom:link", href=feed_url, rel="self", type="application/rss+xml")
    yield f"<image>{_el('url', image)}{_el('title', podcast.title)}{_el('link', link)}</image>"
    yield _empty("itunes:image", href=image)
    yield _el("itunes:author", podcast.author)
    if podcast.owner_email:  # an owner without an email is invalid (W3C: MissingElement)
        owner = _el("itunes:name", podcast.owner_name) + _el("itunes:email", podcast.owner_email)
        yield f"<itunes:owner>{owner}</itunes:owner>"
    if podcast.subcategory:
        sub = _empty("itunes:category", text=podcast.subcategory)
        yield f"<itunes:category text={xml_attr(podcast.category)}>{sub}</itunes:category>"
    else:
        yield _empty("itunes:category", text=podcast.category)
    yield _el("itunes:explicit", "true" if podcast.explicit else "false")
    yield _el("itunes:type", "episodic")
    yield _el("podcast:guid", guid)
    locked = {"owner": podcast.owner_email} if podcast.owner_email else {}
    yield _el("podcast:locked", "yes" if podcast.locked else "no", **locked)
    yield _el("podcast:medium", "podcast")


def _item(podcast: Podcast, episode: Episode, size: int, base_url: str) -> Iterator[str]:
    meta = episode.metadata
    files = episode.files

    def url(path: Path) -> str:
        return file_url(base_url, path.name)

    yield "<item>"
    yield _el("title", meta.title)
    yield _el("itunes:title", meta.title)
    if files.html is not None:
        yield _el("link", url(files.html))
    # Apps render descriptions as HTML: plain text is escaped as HTML, then as XML.
    yield _el("description", html.escape(episode.description or meta.title, quote=False))
    yield _el("guid", episode.guid, isPermaLink="false")
    if episode.published:
        yield _el("pubDate", rfc2822(episode.published))
    yield _empty("enclosure", url=url(files.mp3), length=str(size), type=audio_format("mp3").mime)
    if files.alternates:  # every encoding, the enclosure's marked as the default
        for audio in files.audio:
            yield from _alternate(
                audio, episode.duration, url(audio.path), meta.language, audio is files.audio[0]
            )
    yield _el("itunes:duration", str(round(episode.duration)))
    yield _el("itunes:episodeType", "full")
    yield _el("itunes:explicit", "true" if podcast.explicit else "false")
    if meta.author:
        yield _el("itunes:author", meta.author)
    if episode.image is not None:
        yield _empty("itunes:image", href=file_url(base_url, episode.image.name))
    yield _empty("podcast:chapters", url=url(files.chapters), type="application/json+chapters")
    for path, mime, captions in (
        (files.vtt, "text/vtt", True),
        (files.srt, "application/x-subrip", True),
        (files.transcript, "application/json", False),
        (files.html, "text/html", False),
    ):
        if path is not None:
            rel = {"rel": "captions"} if captions else {}
            yield _empty(
                "podcast:transcript", url=url(path), type=mime, language=meta.language, **rel
            )
    yield '<psc:chapters version="1.2">'
    for chapter in episode.chapters:
        yield "  " + _empty("psc:chapter", start=timestamp(chapter.start), title=chapter.title)
    yield "</psc:chapters>"
    yield "</item>"


def _alternate(
    audio: AudioFile, duration: float, url: str, language: str, default: bool
) -> Iterator[str]:
    """One ``podcast:alternateEnclosure``: its type, size, average bit rate and title, where
    to get it, and the SHA-384 of its bytes so an app can check what it downloaded."""
    form = audio_format(audio.format)
    size = audio.path.stat().st_size
    with audio.path.open("rb") as data:
        digest = hashlib.file_digest(data, "sha384")
    integrity = "sha384-" + base64.b64encode(digest.digest()).decode("ascii")
    attributes = {
        "type": form.mime, "length": str(size),
        "bitrate": f"{size * 8 / duration:.1f}" if duration > 0 else "0", "title": form.label,
        "codecs": form.codecs, "lang": language,
    }  # fmt: skip
    if default:
        attributes["default"] = "true"
    yield f"<podcast:alternateEnclosure{_attrs(attributes)}>"
    yield "  " + _empty("podcast:source", uri=url, contentType=form.mime)
    yield "  " + _empty("podcast:integrity", type="sri", value=integrity)
    yield "</podcast:alternateEnclosure>"


def _attrs(attributes: dict[str, str]) -> str:
    return "".join(f" {name}={xml_attr(value)}" for name, value in attributes.items())


def _el(tag: str, text: str, **attributes: str) -> str:
    return f"<{tag}{_attrs(attributes)}>{xml_text(text)}</{tag}>"


def _empty(tag: str, **attributes: str) -> str:
    return f"<{tag}{_attrs(attributes)}/>"
