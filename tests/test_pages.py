"""The episode and index pages in real headless Chromium, served by the real server.

Rendered with the real default voice; driven through playwright-core (tests/js/pages.js) in
Debian's Chromium; axe-core checks accessibility in light and dark colour schemes.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from . import judges
from .conftest import EXAMPLE, run_cli
from .test_publish import BASE
from .test_serve import start_server

pytestmark = pytest.mark.real


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    """The bundled example and, where ../shared exists, the reference essay, served."""
    out = tmp_path_factory.mktemp("pages") / "site"
    sources = [str(EXAMPLE)]
    reference = Path(__file__).resolve().parents[2] / "shared" / "essays" / "leaving-las-vegas.txt"
    if reference.is_file():
        sources.append(str(reference))
    result = run_cli("render", *sources, "-o", str(out), "--base-url", BASE, "-q")
    assert result.returncode == 0, result.stderr
    url, proc = start_server(out)
    try:
        yield out, url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.mark.parametrize("slug", ["the-listening-room", "leaving-las-vegas"])
def test_page_in_a_real_browser(rendered: tuple[Path, str], slug: str) -> None:
    out, url = rendered
    if not (out / f"{slug}.mp3").is_file():
        pytest.skip("../shared is absent: the reference essay cannot be rendered")
    probe = judges.ffprobe(out / f"{slug}.mp3")
    chapters = [(c["tags"]["title"], float(c["start_time"])) for c in probe["chapters"]]
    errors, vtt_cues = judges.vtt_errors(out / f"{slug}.vtt")
    assert errors == []

    seen = judges.browse_pages(f"{url}{slug}.html", url)

    # axe-core: no violations on the episode page (light and dark) or the index.
    assert seen["axeEpisode"] == [] and seen["axeEpisodeDark"] == [] and seen["axeIndex"] == []
    # On a phone the cover is above the title, and the title has the page's width.
    phone = seen["phoneIndex"]
    assert phone["cover"]["bottom"] <= phone["title"]["top"] + 1, phone
    assert phone["title"]["width"] > 0.8 * (phone["viewport"] - 2 * phone["title"]["left"]), phone
    assert seen["pageErrors"] == []
    # The browser decoded the MP3 to the length ffprobe reads.
    assert abs(seen["duration"] - float(probe["format"]["duration"])) < 0.1

    # Chapters are buttons, one per MP3 chapter; activating one seeks to its start.
    assert seen["chapterButtons"] == len(chapters)
    for seek in [*seen["chapterSeeks"], seen["chapterKeySeek"], seen["nextChapter"]]:
        assert abs(seek["actual"] - seek["expected"]) < 0.05, seek
    starts = [round(s, 3) for _, s in chapters]
    assert round(seen["chapterKeySeek"]["expected"], 3) in starts

    # Sentences: each seeks, the current one is highlighted, one tab stop, arrows move.
    assert seen["cues"] == vtt_cues
    assert abs(seen["cueSeek"]["actual"] - seen["cueSeek"]["expected"]) < 0.05
    assert seen["currentAfterClick"] == {"id": seen["clickedId"], "ariaCurrent": "true"}
    assert seen["cueTabStops"] == 1
    words = seen["words"]
    assert words["timedCues"] >= vtt_cues - len(chapters)  # all but the headings as written
    assert words["spans"] == words["expected"] > 0
    assert words["transition"] != "0s" and seen["wordTransitionReduced"] == "0s"
    at = seen["wordAtTime"]
    assert at["seen"]["cue"] == at["expectedCue"] and at["seen"]["index"] == 2
    assert at["seen"]["aria"] == []  # visual only: screen readers hear the sentence, not words
    assert abs(seen["wordSeek"]["actual"] - seen["wordSeek"]["expected"]) < 0.05
    assert seen["wordsOff"] is None and seen["wordsRemembered"] is False
    assert seen["axeWords"] == []
    assert seen["wordDuringPlay"] is not None  # the highlight follows the words in play
    # Chromium shows the captions as the plain sentences; the timestamps are not text.
    plain_cues = [c["plain"] for c in judges.vtt_cues(out / f"{slug}.vtt")]
    shown = seen["vttInChromium"]
    assert [c["text"] for c in shown] == plain_cues
    assert sum(c["stamps"] for c in shown) > len(shown)  # it read the word timestamps too
    assert seen["focusedAfterArrow"] == "s9"
    assert abs(seen["arrowSeek"]["actual"] - seen["arrowSeek"]["expected"]) < 0.05
    # While it plays, the highlighted sentence is the one being spoken.
    playback = seen["playback"]
    assert playback["time"] > seen["arrowSeek"]["expected"]  # it really played
    assert playback["start"] <= playback["time"] + 0.3
    assert seen["nextStart"] is None or playback["time"] < seen["nextStart"] + 0.3

    # Speed from 0.75x to 2.5x, by the control and by the [ and ] keys.
    assert seen["speedOptions"] == [0.75, 1, 1.25, 1.5, 1.75, 2, 2.25, 2.5]
    assert (seen["rateAfterSelect"], seen["rateMax"], seen["rateMin"]) == (1.5, 2.5, 0.75)
    # Shortcuts are listed, and can be turned off (WCAG 2.1.4).
    assert seen["shortcutsListed"] == ["K", "J", "L", "P", "N", "[", "]"]
    off = seen["shortcutsOff"]
    assert off["after"] - off["before"] < 1.0

    # A visible focus (on the skip link, shown when focused); no smooth scroll if asked.
    assert seen["skipFocus"]["cls"] == "skip" and seen["skipFocus"]["outline"] == "solid"
    assert seen["skipFocus"]["top"] >= 0
    assert seen["reducedScroll"] == "auto"

    # Without JavaScript: the player and the whole transcript, headings mirroring chapters.
    plain = seen["noJs"]
    assert plain["audioControls"] and plain["audioSrc"] == f"{slug}.mp3"
    assert plain["controlsHidden"] is True
    assert plain["chapterLinks"] == [f"#chapter-{i + 1}" for i in range(len(chapters))]
    assert len(plain["cueTexts"]) == vtt_cues
    assert plain["lang"] == "en" and plain["externals"] == []
    # "H1 Title", "H2 Listen", "H2 Chapters", then "H2 0:23 Chapter title" for each chapter
    # after the opening (whose title is the page's h1).
    assert plain["headings"][:3] == [f"H1 {chapters[0][0]}", "H2 Listen", "H2 Chapters"]
    headed = [h.split(" ", 2)[2] for h in plain["headings"][3:]]
    assert headed == [title for title, _ in chapters[1:]]

    # The index lists the episodes and the feed.
    assert f"{slug}.html" in seen["indexLinks"]
    assert seen["subscribe"] == "feed.xml"
