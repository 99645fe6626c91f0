"""Parsing: headings, titles, markup turned into speech, sentence splitting."""

from __future__ import annotations

from pathlib import Path

import pytest

from audioessay.errors import InputError, ParseError
from audioessay.parse import load_essay, split_sentences, title_from_filename

from .conftest import write


def reference_headings(path: Path) -> list[str]:
    """The reference essay's headings, read from the file itself (never copied here): its
    non-empty lines without final punctuation, which are exactly its seven bare headings."""
    lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
    return [line for line in lines if line and line[-1] not in '.!?…"”’)']


def texts(essay_path: Path) -> list[str]:
    essay = load_essay(essay_path)
    return [s.text for sec in essay.sections for p in sec.paragraphs for s in p.sentences]


def test_reference_essay_has_eight_chapters(reference: Path) -> None:
    essay = load_essay(reference)
    headings = reference_headings(reference)
    assert len(headings) == 7
    assert [s.title for s in essay.sections] == ["Leaving Las Vegas", *headings]
    assert essay.metadata.title == "Leaving Las Vegas"
    assert not essay.sections[0].spoken_title  # the opening is announced by the episode title
    assert all(s.spoken_title for s in essay.sections[1:])
    # Nothing is lost: every word of the file is in some sentence or heading.
    source_words = reference.read_text(encoding="utf-8").split()
    spoken = [w for sec in essay.sections[1:] for w in sec.title.split()]
    spoken += [
        w
        for sec in essay.sections
        for p in sec.paragraphs
        for s in p.sentences
        for w in s.text.split()
    ]
    assert sorted(spoken) == sorted(source_words)


def test_emerson_corpus_parses_without_losing_words(shared: Path) -> None:
    for path in sorted((shared / "corpus" / "emerson").glob("*.md")):
        essay = load_essay(path)
        assert len(essay.sections) == 1
        assert essay.words > 4000
        assert essay.metadata.title == essay.sections[0].title  # "Self-Reliance" as written


def test_plain_text_blank_line_paragraphs_and_gutenberg_labels(tmp_path: Path) -> None:
    text = (
        "A short preface that wraps\nacross two lines of text.\n\n"
        "CHAPTER IV.\n\n"
        "It was a dark night. The wind was\nup, and nobody slept.\n\n"
        "LECTURE II\n\n"
        "Words, words, words.\n\n"
        "XII\n\n"
        "The last part ends here.\n"
    )
    essay = load_essay(write(tmp_path, "gutenberg-sample.txt", text))
    assert [s.title for s in essay.sections] == [
        "Gutenberg Sample",
        "CHAPTER IV.",
        "LECTURE II",
        "XII",
    ]
    assert essay.sections[1].paragraphs[0].sentences[1].text == "The wind was up, and nobody slept."


def test_gutenberg_label_followed_by_its_title_is_one_heading(tmp_path: Path) -> None:
    text = "CHAPTER I.\n\nThe Return Home\n\nShe came back in the spring of that year.\n"
    essay = load_essay(write(tmp_path, "book.txt", text))
    assert [s.title for s in essay.sections] == ["CHAPTER I. The Return Home"]


def test_short_paragraphs_and_quotations_are_not_headings(tmp_path: Path) -> None:
    text = (
        "He looked up from the table and waited for an answer that did not come.\n"
        "Nothing else mattered\n"
        "“To Be or Not to Be”\n"
        "Yes.\n"
        "— Ralph Waldo Emerson\n"
        "She left the room without another word, and the door closed behind her.\n"
        "The Last Word\n"
    )
    essay = load_essay(write(tmp_path, "quotes.txt", text))
    assert len(essay.sections) == 1  # no headings: the closing line is not one either


def test_markdown_headings_front_matter_and_markup(tmp_path: Path) -> None:
    text = (
        "---\ntitle: Front Title\nauthor: Ann Writer\ndate: 2024-03-01\nvoice: gmw/en\nrate: 190\n---\n"
        "Intro with *emphasis*, a [link](http://example.com) and ![a red door](door.png).\n\n"
        "Setext Heading\n==============\n\nBody one.\n\n"
        "Second Level\n------------\n\n> A quoted line.\n\n"
        "#### Fourth\n\n- first item\n- second item\n\n1. one\n2. two\n\n"
        "```python\nprint('hi')\n```\n\n"
        "| Name | Age |\n|---|---|\n| Ann | 31 |\n\n"
        "###### Sixth\n\nText with a note[^n] and <b>bold</b> and <speak>tags</speak> & <.\n\n"
        "[^n]: The note text.\n"
    )
    essay = load_essay(write(tmp_path, "doc.md", text))
    assert essay.metadata.title == "Front Title"
    assert essay.metadata.author == "Ann Writer"
    assert essay.metadata.date == "2024-03-01"
    assert essay.settings.voice == "gmw/en" and essay.settings.rate == 190
    # Chapters are the top heading level; deeper headings are sections inside them, kept as
    # spoken sub-headings with their levels; the notes are read last, inside the last chapter.
    assert [(s.title, s.level) for s in essay.sections] == [
        ("Front Title", 1),
        ("Setext Heading", 1),
    ]
    subheadings = [(p.sentences[0].text, p.heading) for s in essay.sections for p in s.paragraphs if p.heading]
    assert subheadings == [("Second Level", 2), ("Fourth", 4), ("Sixth", 6), ("Notes", 2)]
    spoken = [s.text for sec in essay.sections for p in sec.paragraphs for s in p.sentences]
    assert spoken == [
        "Intro with emphasis, a link and a red door.",
        "Body one.",
        "Second Level",
        "A quoted line.",
        "Fourth",
        "first item.",
        "second item.",
        "1, one.",
        "2, two.",
        "A python code example is skipped here.",
        "A table with columns Name, Age.",
        "Name: Ann; Age: 31.",
        "Sixth",
        "Text with a note and bold and <speak>tags</speak> & <.",
        "Notes",
        "Note 1.",
        "The note text.",
    ]


def test_title_rules(tmp_path: Path) -> None:
    sole_h1 = load_essay(
        write(tmp_path, "a.md", "# The Real Title\n\nOpening words.\n\n## Part\n\nMore.\n")
    )
    assert sole_h1.metadata.title == "The Real Title"
    assert [s.title for s in sole_h1.sections] == ["The Real Title", "Part"]
    assert not sole_h1.sections[0].spoken_title
    two_h1 = load_essay(write(tmp_path, "two-h1s.md", "# One\n\nText.\n\n# Two\n\nText.\n"))
    assert two_h1.metadata.title == "Two H1s"
    assert [s.title for s in two_h1.sections] == ["One", "Two"]
    assert title_from_filename(Path("leaving-las-vegas.txt")) == "Leaving Las Vegas"
    assert title_from_filename(Path("the_art_of_war.md")) == "The Art of War"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Dr. Smith arrived. He sat down.", ["Dr. Smith arrived.", "He sat down."]),
        ("We met St. John at 3.5 miles out.", ["We met St. John at 3.5 miles out."]),
        (
            "J. R. R. Tolkien wrote it. Then he slept.",
            ["J. R. R. Tolkien wrote it.", "Then he slept."],
        ),
        ("Fruit, e.g. apples, i.e. Red ones.", ["Fruit, e.g. apples, i.e. Red ones."]),
        ("He moved to the U.S. The move was hard.", ["He moved to the U.S.", "The move was hard."]),
        ("He lives in the U.S. Army base.", ["He lives in the U.S. Army base."]),
        ("“Really?” she asked. Yes!", ["“Really?” she asked.", "Yes!"]),
        ("He said “go.” Then he went.", ["He said “go.”", "Then he went."]),
        ("Wait... What? No.", ["Wait...", "What?", "No."]),
        (
            "Pay $3.50 at 10 a.m. on Mon. Jan. 5 please.",
            ["Pay $3.50 at 10 a.m. on Mon. Jan. 5 please."],
        ),
        ("Mr. and Mrs. Jones, etc. The end.", ["Mr. and Mrs. Jones, etc.", "The end."]),
    ],
)
def test_sentences_are_never_cut_in_the_middle(text: str, expected: list[str]) -> None:
    assert split_sentences(text) == expected


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is empty"),
        (b"   \n\t\n", "is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00", "binary"),
        (b"Good text then \xff\xfe bad", "byte 0xff at offset 15"),
    ],
)
def test_unreadable_input(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    with pytest.raises(InputError, match=message):
        load_essay(path)


def test_headings_without_body_text(tmp_path: Path) -> None:
    with pytest.raises(ParseError, match="no body text"):
        load_essay(write(tmp_path, "h.md", "# One\n\n## Two\n\n### Three\n"))
