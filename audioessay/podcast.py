"""Podcast settings: ``DIR/podcast.toml``, created with sensible defaults on first use.

The file is the podcast's memory: the base URL, owner and category given once on the command
line are written into it when it is created, so the next ``audioessay feed DIR`` needs no flags.
Flags given later override it for that run only; the file is the writer's to edit.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .errors import SettingsError
from .files import noticed, read_toml, write_atomic
from .language import is_language_tag
from .model import Episode

SETTINGS_FILE = "podcast.toml"

APPLE_CATEGORIES: dict[str, tuple[str, ...]] = {
    "Arts": ("Books", "Design", "Fashion & Beauty", "Food", "Performing Arts", "Visual Arts"),
    "Business": ("Careers", "Entrepreneurship", "Investing", "Management", "Marketing", "Non-Profit"),
    "Comedy": ("Comedy Interviews", "Improv", "Stand-Up"),
    "Education": ("Courses", "How To", "Language Learning", "Self-Improvement"),
    "Fiction": ("Comedy Fiction", "Drama", "Science Fiction"),
    "Government": (),
    "History": (),
    "Health & Fitness": ("Alternative Health", "Fitness", "Medicine", "Mental Health", "Nutrition", "Sexuality"),
    "Kids & Family": ("Education for Kids", "Parenting", "Pets & Animals", "Stories for Kids"),
    "Leisure": ("Animation & Manga", "Automotive", "Aviation", "Crafts", "Games", "Hobbies", "Home & Garden", "Video Games"),
    "Music": ("Music Commentary", "Music History", "Music Interviews"),
    "News": ("Business News", "Daily News", "Entertainment News", "News Commentary", "Politics", "Sports News", "Tech News"),
    "Religion & Spirituality": ("Buddhism", "Christianity", "Hinduism", "Islam", "Judaism", "Religion", "Spirituality"),
    "Science": ("Astronomy", "Chemistry", "Earth Sciences", "Life Sciences", "Mathematics", "Natural Sciences", "Nature", "Physics", "Social Sciences"),
    "Society & Culture": ("Documentary", "Personal Journals", "Philosophy", "Places & Travel", "Relationships"),
    "Sports": ("Baseball", "Basketball", "Cricket", "Fantasy Sports", "Football", "Golf", "Hockey", "Rugby", "Running", "Soccer", "Swimming", "Tennis", "Volleyball", "Wilderness", "Wrestling"),
    "Technology": (),
    "True Crime": (),
    "TV & Film": ("After Shows", "Film History", "Film Interviews", "Film Reviews", "TV Reviews"),
}  # fmt: skip
"""Apple Podcasts' category list; a feed with any other category is rejected by Apple."""

_EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")


@dataclass(frozen=True)
class Podcast:
    """The channel-level facts of the feed."""

    title: str
    description: str
    author: str
    owner_name: str
    owner_email: str
    language: str = "en"
    category: str = "Arts"
    subcategory: str = "Books"
    explicit: bool = False
    image: str = ""
    """Cover art: a file in the folder, or an absolute URL; empty generates ``cover.png``."""
    link: str = ""
    """The podcast's website; empty uses the folder's ``index.html`` at the base URL."""
    base_url: str = ""
    """Where the folder is published, e.g. ``https://example.com/essays``."""
    locked: bool = True
    """``podcast:locked``: other platforms may not import the feed without the owner."""

    def validate(self) -> Podcast:
        """Return self, or raise :class:`SettingsError` naming the bad setting."""
        if not self.title.strip():
            raise SettingsError(f"{SETTINGS_FILE}: title must not be empty")
        if self.category not in APPLE_CATEGORIES:
            raise SettingsError(
                f"{SETTINGS_FILE}: category {self.category!r} is not one of Apple's: "
                + ", ".join(APPLE_CATEGORIES)
            )
        allowed = APPLE_CATEGORIES[self.category]
        if self.subcategory and self.subcategory not in allowed:
            choice = ", ".join(allowed) if allowed else "none (leave it empty)"
            raise SettingsError(
                f"{SETTINGS_FILE}: subcategory {self.subcategory!r} is not in {self.category}; "
                f"choose {choice}"
            )
        if self.owner_email and not _EMAIL.match(self.owner_email):
            raise SettingsError(
                f"{SETTINGS_FILE}: owner email {self.owner_email!r} is not an address"
            )
        if not is_language_tag(self.language):
            raise SettingsError(
                f"{SETTINGS_FILE}: language {self.language!r} is not a language tag such as en or en-GB"
            )
        if self.base_url:
            check_url(self.base_url, "base URL")
        if self.link:
            check_url(self.link, "link")
        return self


def check_url(url: str, what: str) -> str:
    """``url`` if it is an absolute http(s) URL, else a :class:`SettingsError`."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise SettingsError(
            f"the {what} must be an absolute http(s) URL such as https://example.com/essays, not {url!r}"
        )
    return url


def load_podcast(
    directory: Path,
    overrides: Mapping[str, Any],
    episodes: Sequence[Episode],
    create: bool = True,
) -> tuple[Podcast, bool]:
    """The folder's podcast settings with ``overrides`` applied; True if the file was created.

    On first use (with ``create``) the file is written with defaults drawn from the episodes
    (their common author and language) plus the overrides, so what was given once is kept.
    """
    path = directory / SETTINGS_FILE
    overrides = {k: v for k, v in overrides.items() if v is not None}
    unknown = set(overrides) - {f.name for f in fields(Podcast)}
    if unknown:
        raise SettingsError(f"unknown podcast setting(s): {', '.join(sorted(unknown))}")
    if path.exists():
        stored = _read(path)
        podcast = replace(stored, **overrides).validate()
        if create and podcast.base_url and not stored.base_url:
            _remember_base_url(path, podcast.base_url)
        return podcast, False
    podcast = replace(_defaults(directory, episodes), **overrides).validate()
    if not create:
        return podcast, False
    if not podcast.base_url:
        raise missing_base_url(path)
    write_atomic(path, format_settings(podcast))
    return podcast, True


def missing_base_url(path: Path) -> SettingsError:
    """The error for a feed build that does not know where the folder is published."""
    return SettingsError(
        f"no base URL for the feed: pass --base-url https://… (it is then kept in {path})"
    )


def _remember_base_url(path: Path, base_url: str) -> None:
    """Fill in an empty ``base_url`` line, leaving the rest of the writer's file as it is."""
    text = path.read_text(encoding="utf-8")
    line = re.compile(r"""^base_url[ \t]*=[ \t]*(""|'')[ \t]*$""", re.MULTILINE)
    if line.search(text):
        write_atomic(path, line.sub(lambda _: f"base_url = {json.dumps(base_url)}", text, count=1))


def read_podcast(directory: Path) -> Podcast | None:
    """The folder's podcast settings if it has a valid ``podcast.toml``, else None."""
    path = directory / SETTINGS_FILE
    noticed(path)
    if not path.is_file():
        return None
    try:
        return _read(path).validate()
    except SettingsError:
        return None  # the feed build reports it; a render does not fail for it


def _defaults(directory: Path, episodes: Sequence[Episode]) -> Podcast:
    authors = Counter(e.metadata.author for e in episodes if e.metadata.author)
    languages = Counter(e.metadata.language for e in episodes)
    author = authors.most_common(1)[0][0] if authors else ""
    name = re.sub(r"[-_]+", " ", directory.resolve().name).strip().title() or "Essays"
    title = f"Essays by {author}" if len(authors) == 1 else name
    return Podcast(
        title=title,
        description=f"{title}, read aloud.",
        author=author or title,
        owner_name=author or title,
        owner_email="",
        language=languages.most_common(1)[0][0] if languages else "en",
    )


def _read(path: Path) -> Podcast:
    data = read_toml(path)
    owner = data.pop("owner", {})
    if not isinstance(owner, dict):
        raise SettingsError(f"{path}: [owner] must be a table with name and email")
    data["owner_name"] = owner.get("name", "")
    data["owner_email"] = owner.get("email", "")
    known = {f.name: f for f in fields(Podcast)}
    unknown = set(data) - set(known)
    if unknown:
        raise SettingsError(f"{path}: unknown setting(s) {', '.join(sorted(unknown))}")
    for name, value in data.items():
        wanted = bool if name in ("explicit", "locked") else str
        if not isinstance(value, wanted):
            raise SettingsError(
                f"{path}: {name} must be {'true or false' if wanted is bool else 'text'}"
            )
    if "title" not in data:
        raise SettingsError(f"{path}: title is missing")
    data.setdefault("description", data["title"])
    data.setdefault("author", data["owner_name"] or data["title"])
    return Podcast(**data)


def format_settings(podcast: Podcast) -> str:
    """``podcast.toml`` text, with a comment on each setting."""

    def q(value: str) -> str:
        return json.dumps(value, ensure_ascii=False)  # a JSON string is a TOML basic string

    def b(value: bool) -> str:
        return "true" if value else "false"

    return f"""\
# Podcast settings for audioessay. `audioessay feed` rebuilds feed.xml and the pages from this
# file and the episodes in this folder; flags given to it override these values for one run.
title = {q(podcast.title)}
description = {q(podcast.description)}
author = {q(podcast.author)}
# Where this folder is published; every URL in the feed starts with it.
base_url = {q(podcast.base_url)}
# The podcast's website; empty means index.html in this folder.
link = {q(podcast.link)}
# Language tag of the episodes, such as en, en-GB or fr.
language = {q(podcast.language)}
# One of Apple Podcasts' categories, and optionally one of its subcategories.
category = {q(podcast.category)}
subcategory = {q(podcast.subcategory)}
explicit = {b(podcast.explicit)}
# Square JPEG or PNG, 1400-3000 px: a file in this folder or a URL. Empty: audioessay draws
# cover.png from the title.
image = {q(podcast.image)}
# podcast:locked asks other platforms not to import this feed without the owner's consent.
locked = {b(podcast.locked)}

[owner]
# Apple Podcasts sends its ownership check to this address; it appears in the public feed.
name = {q(podcast.owner_name)}
email = {q(podcast.owner_email)}
"""
