"""Publish a folder of rendered episodes: ``feed.xml``, cover art, ``index.html`` and pages.

    lock the folder → read every episode record → podcast settings → cover art
          → feed.xml → index.html and episode pages (each written atomically)

Everything is regenerated from the records, never patched in place, under an exclusive lock on
the folder: two renders or feed builds at once each see every record written before they took
the lock, so the last one to finish always publishes every episode, and readers only ever see
a complete ``feed.xml`` (it is replaced atomically).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .cover import check_art, cover_png, ensure_cover
from .errors import AudioEssayError, SettingsError
from .feed import FEED_FILE, build_feed, file_url
from .files import locked, prepare_output_dir, sweep_folder, write_atomic
from .model import Episode
from .pages import INDEX_FILE, audio_sizes, episode_page, index_page, write_assets
from .podcast import SETTINGS_FILE, Podcast, check_url, load_podcast, missing_base_url
from .record import load_records, record_path

COVER_FILE = "cover.png"


@dataclass(frozen=True)
class Publication:
    """What a feed build wrote, for the CLI to report."""

    feed: Path
    feed_url: str
    episodes: int
    settings: Path
    created_settings: bool
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Snapshot:
    """The podcast as it stands on disk: its settings and complete episodes (newest first)."""

    directory: Path
    podcast: Podcast
    episodes: list[Episode]
    sizes: list[int]
    created_settings: bool
    warnings: list[str] = field(default_factory=list)
    """Records that were skipped, and why."""

    def image_url(self, base_url: str) -> str:
        """The channel art's URL: the configured image, else the generated cover."""
        image = self.podcast.image
        if urlsplit(image).scheme in ("http", "https"):
            return image
        return file_url(base_url, image or COVER_FILE)

    def feed(self, base_url: str) -> bytes:
        """``feed.xml`` with every URL under ``base_url``."""
        image = self.image_url(base_url)
        return build_feed(
            self.podcast, self.episodes, self.sizes, base_url, image, self.podcast.base_url
        )

    def cover(self) -> bytes:
        """The generated cover the folder's art is, until a feed build writes it."""
        return cover_png(self.podcast.title, self.podcast.author)

    def index(self, base_url: str) -> str:
        """``index.html``, naming the feed at ``base_url``."""
        image = self.podcast.image or COVER_FILE  # a URL, or a file beside the page
        return index_page(
            self.podcast, self.episodes, file_url(base_url, FEED_FILE), image, self.sizes
        )


def snapshot(directory: Path, overrides: Mapping[str, Any], create: bool) -> Snapshot:
    """Read the folder's records and settings; with ``create``, write podcast.toml if absent."""
    episodes, skipped = load_records(directory)
    podcast, created = load_podcast(directory, overrides, episodes, create=create)
    sizes = [e.files.mp3.stat().st_size for e in episodes]
    return Snapshot(directory, podcast, episodes, sizes, created, skipped)


def publish(directory: Path | str, overrides: Mapping[str, Any] | None = None) -> Publication:
    """Rebuild the folder's feed, cover, index and episode pages from its episode records.

    ``overrides`` are podcast settings (``base_url``, ``title``, ``owner_email``…) for this
    build; the first build writes them, with the rest, into the folder's ``podcast.toml``."""
    directory = prepare_output_dir(Path(directory))
    with locked(directory):
        sweep_folder(directory)
        snap = snapshot(directory, overrides or {}, create=True)
        podcast = snap.podcast
        if not podcast.base_url:
            raise missing_base_url(directory / SETTINGS_FILE)
        base_url = check_url(podcast.base_url, "base URL")
        warnings = [*snap.warnings, *_check_art(snap)]
        if not podcast.image:
            ensure_cover(directory / COVER_FILE, podcast.title, podcast.author)
        feed_path = directory / FEED_FILE
        write_atomic(feed_path, snap.feed(base_url))
        write_assets(directory)
        write_atomic(directory / INDEX_FILE, snap.index(base_url))
        for episode in snap.episodes:
            if episode.files.html is not None:
                write_atomic(episode.files.html, episode_page(episode, podcast, audio_sizes(episode)))
        if not podcast.owner_email:
            warnings.append(
                f"no owner email in {SETTINGS_FILE}: Apple Podcasts needs one to verify the feed"
            )
    return Publication(
        feed=feed_path,
        feed_url=file_url(base_url, FEED_FILE),
        episodes=len(snap.episodes),
        settings=directory / SETTINGS_FILE,
        created_settings=snap.created_settings,
        warnings=warnings,
    )


@contextlib.contextmanager
def republished(directory: Path, slug: str) -> Iterator[None]:
    """Around the moves that replace a published episode's files: its ``feed.xml`` entry and
    its line on ``index.html`` go first and come back after, so a copy of the folder taken at
    any moment (a static host synced mid-render, a render killed with ``kill -9``) never
    offers the new files under the old length and SHA-384. The caller holds the folder's
    lock. Only a folder that publishes a feed, and only an episode already in it, costs the
    two rebuilds; a new episode joins the feed at the next feed build, as before."""
    feed = directory / FEED_FILE
    if not feed.is_file() or not record_path(directory, slug).is_file():
        yield
        return
    _rewrite_feed(directory, leaving_out=slug)
    try:
        yield
    except BaseException:
        with contextlib.suppress(AudioEssayError, OSError):  # never hide why it failed
            _rewrite_feed(directory)  # (an episode whose files are mixed is skipped)
        raise
    _rewrite_feed(directory)


def _rewrite_feed(directory: Path, leaving_out: str | None = None) -> None:
    """``feed.xml`` and ``index.html`` again from the records, as the last feed build made
    them (its settings and base URL), without ``leaving_out``."""
    snap = snapshot(directory, {}, create=False)
    if not snap.podcast.base_url:
        return
    if leaving_out is not None:
        kept = [(e, size) for e, size in zip(snap.episodes, snap.sizes, strict=True)
                if e.slug != leaving_out]  # fmt: skip
        snap = replace(snap, episodes=[e for e, _ in kept], sizes=[size for _, size in kept])
    base_url = check_url(snap.podcast.base_url, "base URL")
    write_atomic(directory / FEED_FILE, snap.feed(base_url))
    write_atomic(directory / INDEX_FILE, snap.index(base_url))


def _check_art(snap: Snapshot) -> list[str]:
    """Apple's art rules, checked on the channel's image file and each episode's art."""
    problems: list[str] = []
    image = snap.podcast.image
    if image and urlsplit(image).scheme not in ("http", "https"):
        path = snap.directory / image
        if not path.is_file():
            raise SettingsError(
                f"{SETTINGS_FILE}: image {image!r} is not a file in {snap.directory}"
            )
        problems += check_art(path)
    for episode in snap.episodes:
        if episode.image is not None and episode.image.is_file():
            problems += check_art(episode.image)
    return problems
