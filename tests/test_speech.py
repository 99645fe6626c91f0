"""Speakable text: a table of written → spoken, one or more rows for every rule.

Expected outputs are written by hand as a careful narrator would say them.
"""

from __future__ import annotations

import pytest

from audioessay.speech import SpeechOptions, speakable

EN = SpeechOptions(language="en")

TABLE = [
    # Years, decades, ranges
    ("Leaving Las Vegas (1995) is a film.", "Leaving Las Vegas (nineteen ninety-five) is a film."),
    ("In 2008 it ended.", "In two thousand eight it ended."),
    ("By 1905 and in 2000.", "By nineteen oh-five and in two thousand."),
    ("The 1990s were loud.", "The nineteen nineties were loud."),
    ("The 1900s and the '60s.", "The nineteen hundreds and the sixties."),
    ("The war of 1914–1918.", "The war of nineteen fourteen to nineteen eighteen."),
    ("Pages 12–15.", "Pages twelve to fifteen."),
    ("From 1939-1945.", "From nineteen thirty-nine to nineteen forty-five."),
    # Cardinals, decimals, negatives, ordinals
    ("It had 1,234,567 readers.", "It had one million two hundred thirty-four thousand five hundred sixty-seven readers."),
    ("Exactly 42 of them.", "Exactly forty-two of them."),
    ("Pi is 3.14 and e is 2.718.", "Pi is three point one four and e is two point seven one eight."),
    ("It fell to -5 overnight.", "It fell to minus five overnight."),
    ("Agent 007 arrived.", "Agent zero zero seven arrived."),
    ("She came 21st, then 2nd, then 103rd.", "She came twenty-first, then second, then one hundred third."),
    # Currency and percentages
    ("It cost $1,200.", "It cost one thousand two hundred dollars."),
    ("A pint is £5 and a coffee €3.50.", "A pint is five pounds and a coffee three euros and fifty cents."),
    ("Only $1 and $0.99.", "Only one dollar and zero dollars and ninety-nine cents."),
    ("A $5 million budget, $1.2bn in all.", "A five million dollars budget, one point two billion dollars in all."),
    ("Prices rose 45% and then 3.5%.", "Prices rose forty-five percent and then three point five percent."),
    # Clock times
    ("We met at 9:30 a.m.", "We met at nine thirty a m"),
    ("The train left at 10:05 and at 12:00.", "The train left at ten oh five and at twelve o'clock."),
    ("Call at 3 pm.", "Call at three p m."),
    # Abbreviations
    ("Dr. Smith met Mr. and Mrs. Jones.", "Doctor Smith met Mister and Missus Jones."),
    ("Ms. Lee and Prof. Hall, Jr. agreed.", "Miz Lee and Professor Hall, Junior agreed."),
    ("He prayed at St. Paul's.", "He prayed at Saint Paul's."),
    ("She lived on Baker St. for years.", "She lived on Baker Street for years."),
    ("Bring fruit, e.g. apples, i.e. something sweet, etc.", "Bring fruit, for example apples, that is something sweet, et cetera."),
    ("It was Ali vs. Frazier.", "It was Ali versus Frazier."),
    ("See No. 5 on p. 12 and pp. 14–20.", "See number five on page twelve and pages fourteen to twenty."),
    # Roman numerals after names, and the pronoun I
    ("Henry VIII had six wives.", "Henry the Eighth had six wives."),
    ("Louis XIV and Elizabeth II met nobody.", "Louis the Fourteenth and Elizabeth the Second met nobody."),
    ("Charles I of England lost his head.", "Charles the First of England lost his head."),
    ("After World War II, I went home.", "After World War two, I went home."),
    ("Then I said it; so did I.", "Then I said it; so did I."),
    ("Malcolm X spoke in Washington DC.", "Malcolm X spoke in Washington DC."),
    # URLs, e-mail, symbols
    ("Read https://www.example.com/essays/one today.", "Read example dot com slash essays slash one today."),
    ("Write to jane.doe@example.org.", "Write to jane dot doe at example dot org."),
    ("See example.com for more.", "See example dot com for more."),
    ("Salt & pepper, R&D.", "Salt and pepper, R and D."),
    ("It was 20°C, or 68 °F, and 90° round.", "It was twenty degrees Celsius, or sixty-eight degrees Fahrenheit, and ninety degrees round."),
    ("Read § 4 and/or ½ of it, ~30 pages.", "Read section four and or one half of it, about thirty pages."),
    # Dashes, ellipses, invisible characters
    ("He paused — then spoke.", "He paused, then spoke."),
    ("Wait… what? Well...", "Wait, what? Well."),
    ("A soft\u00adhyphen and a word\u2060joiner\u200b.", "A softhyphen and a wordjoiner."),
    ("Right\u200fto\u200eleft marks.", "Righttoleft marks."),
    ("Literal [[brackets]] are not phonemes.", "Literal [brackets] are not phonemes."),
    # Footnote markers are not read inline; a note's own marker is announced
    ("A claim[1] and another.²", "A claim and another."),
    ("Cited twice [2, 3] here.", "Cited twice here."),
    ("[4] The note itself.", "Note four. The note itself."),
    ("³ A superscript note.", "Note three. A superscript note."),
]  # fmt: skip

HEADINGS = [
    ("Chapter IV", "Chapter four."),
    ("Part II: The Return", "Part two: The Return."),
    ("IV. Endings", "four. Endings."),
    ("I Remember", "I Remember."),
    ("Mixing Colours", "Mixing Colours."),
]


@pytest.mark.parametrize(("written", "spoken"), TABLE)
def test_english_rules(written: str, spoken: str) -> None:
    assert speakable(written, EN) == spoken


@pytest.mark.parametrize(("written", "spoken"), HEADINGS)
def test_headings(written: str, spoken: str) -> None:
    assert speakable(written + ("" if written.endswith(".") else "."), EN, heading=True) == spoken


def test_citations_are_read_unless_skipped() -> None:
    text = "As argued (Smith, 2004, p. 5) and [Jones 2010], and (Lee and Park 1999)."
    assert speakable(text, EN) == (
        "As argued (Smith, two thousand four, page five) and [Jones twenty ten], "
        "and (Lee and Park nineteen ninety-nine)."
    )
    assert speakable(text, SpeechOptions(skip_citations=True)) == "As argued and, and."


def test_other_languages_get_the_neutral_steps_only() -> None:
    french = SpeechOptions(language="fr-FR")
    assert speakable("Il a payé 1995 € — voilà…", french) == "Il a payé 1995 €, voilà."
    assert speakable("Un mot[1] ici.", french) == "Un mot ici."


def test_every_written_word_survives_normalisation() -> None:
    """Nothing is dropped: the words of an ordinary sentence all reach the voice."""
    text = "The river, which nobody named, ran quietly past the mill and the church."
    assert speakable(text, EN) == text
