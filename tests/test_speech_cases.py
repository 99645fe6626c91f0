"""Written → spoken: the careful narrator's reading of real essays and scholarship (issue 11).

Each case is a sentence as written and the words the voice must be given. Cases were chosen
from the kinds of text the real corpus holds (numbers, dates, scholarly abbreviations,
capitals, units, other scripts, markers), written in our own words.
"""

from __future__ import annotations

import pytest

from audioessay.parse.sentences import split_sentences
from audioessay.speech import SpeechOptions, speakable

CASES: list[tuple[str, str]] = [
    # Ranges, with a hyphen or an en dash, of every size.
    ("Read 20-22 tonight.", "Read twenty to twenty-two tonight."),
    ("It ran 840–930 miles.", "It ran eight hundred forty to nine hundred thirty miles."),
    ("See pp. 14–20.", "See pages fourteen to twenty."),
    ("From 480–406 B.C. it held.", "From four hundred eighty to four hundred six B C it held."),
    ("Berkeley (1685-1753) wrote it.", "Berkeley (sixteen eighty-five to seventeen fifty-three) wrote it."),
    ("Groups of 5-7 people.", "Groups of five to seven people."),
    ("Allow 3–5 minutes.", "Allow three to five minutes."),
    # Dates take ordinals; eras.
    ("On October 27, 1787, it appeared.", "On October twenty-seventh, seventeen eighty-seven, it appeared."),
    ("It was the 20th May.", "It was the twentieth May."),
    ("Signed 12 March 2024 at noon.", "Signed the twelfth of March twenty twenty-four at noon."),
    ("Due 2024-03-12 at the latest.", "Due March twelfth, twenty twenty-four at the latest."),
    ("Posted Dec. 25 again.", "Posted December twenty-fifth again."),
    ("On May 1 we left.", "On May first we left."),
    ("In AD 1066 it fell.", "In A D ten sixty-six it fell."),
    ("By 44 BCE he was gone.", "By forty-four B C E he was gone."),
    ("Around 1200 CE it grew.", "Around twelve hundred C E it grew."),
    ("It was 1863-1872.", "It was eighteen sixty-three to eighteen seventy-two."),
    # Scholarly abbreviations.
    ("See cf. the notes.", "See compare the notes."),
    ("Three kinds, viz. red, blue and green.", "Three kinds, namely red, blue and green."),
    ("In vol. 2 and vols. 3 and 4.", "In volume two and volumes three and four."),
    ("Her op. 12 is short.", "Her opus twelve is short."),
    ("Nos. 4 and 5 follow.", "Numbers four and five follow."),
    ("Read ch. 3 first.", "Read chapter three first."),
    ("He was b. 1804 and d. 1864 in Rome.", "He was born eighteen oh-four and died eighteen sixty-four in Rome."),
    ("A bowl, c. 1200, survives.", "A bowl, circa twelve hundred, survives."),
    ("A ring, ca. 1650, survives.", "A ring, circa sixteen fifty, survives."),
    ("The poet fl. 1590 in Kent.", "The poet flourished fifteen ninety in Kent."),
    ("Smith, ed. Jones, 1901.", "Smith, edited by Jones, nineteen oh-one."),
    ("Homer, trans. Pope.", "Homer, translated by Pope."),
    ("It is approx. 40 feet.", "It is approximately forty feet."),
    ("Mlle. Roux met Mme. Blanc.", "Mademoiselle Roux met Madame Blanc."),
    ("Rev. Hale and Capt. Ross came.", "Reverend Hale and Captain Ross came."),
    ("Gen. Lee met Col. Webb.", "General Lee met Colonel Webb."),
    ("Gov. Ames and Sen. Clay spoke.", "Governor Ames and Senator Clay spoke."),
    ("Prof. Day holds a Ph.D. in law.", "Professor Day holds a P H D in law."),
    ("She has an M.A. and he a B.A.", "She has an M A and he a B A."),
    # Capitals: prose in capitals is words; acronyms stay letters.
    ("IT IS A TRUTH well known.", "It Is A Truth well known."),
    ("WITH the single exception of one.", "With the single exception of one."),
    ("JUSTICE for one half of the race.", "Justice for one half of the race."),
    ("The GSA and the FBI agreed.", "The GSA and the FBI agreed."),
    ("NASA flew.", "Nasa flew."),
    ("It works in HTML.", "It works in HTML."),
    # Units and symbols.
    ("A 5km walk.", "A five kilometer walk."),
    ("It is 12 km long.", "It is twelve kilometers long."),
    ("It weighs 3 kg today.", "It weighs three kilograms today."),
    ("Cut 25 cm of it.", "Cut twenty-five centimeters of it."),
    ("A 35 mm film.", "A thirty-five millimeter film."),
    ("Drive 30 mph here.", "Drive thirty miles per hour here."),
    ("At 100 km/h it shakes.", "At one hundred kilometers per hour it shakes."),
    ("A 2 lb bag and 4 oz of tea.", "A two pound bag and four ounces of tea."),
    ("A 10 ft pole.", "A ten foot pole."),
    ("It is 60 mi away.", "It is sixty miles away."),
    ("Water boils at 212°F.", "Water boils at two hundred twelve degrees Fahrenheit."),
    ("Add 3/4 of a cup.", "Add three quarters of a cup."),
    ("Only 2/3 remain.", "Only two thirds remain."),
    ("Mix it 3:1 with water.", "Mix it three to one with water."),
    ("Install v3.2.1 now.", "Install version three point two point one now."),
    ("It is 10x faster.", "It is ten times faster."),
    ("He stood 6'2\" tall.", "He stood six feet two inches tall."),
    ("Open 24/7 all year.", "Open twenty-four seven all year."),
    ("Call 555-867-5309 now.", "Call five five five, eight six seven, five three zero nine now."),
    ("Weekly 1:1s help.", "Weekly one-on-ones help."),
    ("Hold a 1:1 meeting.", "Hold a one-on-one meeting."),
    # Markers and other scripts.
    ("He wrote it {12} twice.", "He wrote it twice."),
    ("The text [Pg 12] goes on.", "The text goes on."),
    ("The text [p. 12] goes on.", "The text goes on."),
    ("As Homer said, μῆνιν ἄειδε θεὰ Πηληϊάδεω, and so on.",
     "As Homer said, a passage in Greek is left out, and so on."),
    ("He wrote «Война и мир» slowly.", "He wrote «a passage in Cyrillic is left out» slowly."),
    # Initials and index letters are not numerals outside a numeral context.
    ("J. C. Smith wrote it.", "J. C. Smith wrote it."),
    ("See Henry VIII later.", "See Henry the Eighth later."),
]  # fmt: skip


@pytest.mark.parametrize(("written", "spoken"), CASES, ids=[c[0][:40] for c in CASES])
def test_written_to_spoken(written: str, spoken: str) -> None:
    assert speakable(written, SpeechOptions()) == spoken


def test_the_table_is_large() -> None:
    assert len(CASES) >= 60


@pytest.mark.parametrize(
    ("text", "count"),
    [
        ("He was b. 1804 and d. 1864 in Rome. Then it ended.", 2),
        ("A bowl, c. 1200, survives. Another, ca. 1300, broke.", 2),
        ("Cats, dogs, etc. The list goes on.", 2),
        ("We saw cf. the note, viz. the third. It was long.", 2),
        ("Mlle. Roux and Capt. Ross and Gen. Lee met.", 1),
        ("It ended with etc.", 1),
    ],
)
def test_the_splitter_agrees_with_the_abbreviations(text: str, count: int) -> None:
    assert len(split_sentences(text)) == count


@pytest.mark.parametrize("line", ['" | | \' " | \' \' |', "* * *", "---  ===  ---", "| | | |"])
def test_lines_of_nothing_but_symbols_are_not_spoken(line: str) -> None:
    from audioessay.narrate import is_speakable

    assert not is_speakable(speakable(line, SpeechOptions()))
