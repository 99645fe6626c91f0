"""English: numbers, dates, money, abbreviations, Roman numerals, addresses and symbols as words.

Each rule is a regular expression and a function that says its match, applied in an order that
lets the specific win over the general (money before decimals, decades before years, years
before plain numbers). Number words come from num2words, in American style (no "and": 2008 is
"two thousand eight", $1,200 is "one thousand two hundred dollars").
"""

from __future__ import annotations

import re
from collections.abc import Callable

from num2words import num2words

from ._protect import Protected

Rule = tuple[re.Pattern[str], Callable[[re.Match[str]], str]]

_DIGITS = "zero one two three four five six seven eight nine".split()
_CURRENCIES = {
    "$": ("dollar", "dollars", "cent", "cents"),
    "£": ("pound", "pounds", "penny", "pence"),
    "€": ("euro", "euros", "cent", "cents"),
    "¥": ("yen", "yen", "", ""),
}
_SCALES = {
    "thousand": "thousand", "k": "thousand", "million": "million", "m": "million",
    "mn": "million", "billion": "billion", "bn": "billion", "b": "billion",
    "trillion": "trillion", "tn": "trillion",
}  # fmt: skip
_ROMAN = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100, "D": 500, "M": 1000}
_ROMAN_RE = r"(?=[MDCLXVI]+\b)M{0,3}(?:CM|CD|D?C{0,3})(?:XC|XL|L?X{0,3})(?:IX|IV|V?I{0,3})"
_NUMBERED = (
    "chapter part book volume vol act scene section canto appendix article psalm war bowl "
    "apollo vatican phase stage type class level grade mark mk world"
).split()
"""Words after which a Roman numeral is a cardinal ("Part II", "World War II")."""
_NOT_NAMES = frozenset(
    "a an the and but or nor so yet if when then than as at by for from in into of on to "
    "with i we you he she it they this that these those there here what which who why how "
    "my our your his her its their is was are were be been do did does not no".split()
)
_TLDS = (
    "com|org|net|edu|gov|io|co|uk|us|de|fr|ca|au|info|dev|app|ai|me|eu|nl|it|es|ch|se|no|jp|"
    "ie|nz|in|br|ru|pl|be|at|dk|fi|pt|cz|gr|hu|org\\.uk|co\\.uk|ac\\.uk"
)


def words(number: int) -> str:
    """``1200`` → "one thousand two hundred": American style, no commas, no "and"."""
    if number < 0:
        return "minus " + words(-number)
    if number >= 10**15:
        return digits(str(number))
    return _plain(num2words(number))


def _plain(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace(",", "").replace(" and ", " ")).strip()


def digits(text: str) -> str:
    """Each digit as a word: "0451" → "zero four five one"."""
    return " ".join(_DIGITS[int(d)] for d in text if d.isdigit())


def ordinal(number: int) -> str:
    """``21`` → "twenty-first"."""
    return _plain(num2words(number, to="ordinal"))


def year(number: int) -> str:
    """``1995`` → "nineteen ninety-five"; ``2008`` → "two thousand eight"; 1905 "nineteen oh-five"."""
    return _plain(num2words(number, to="year"))


def decimal(text: str) -> str:
    """``3.50`` → "three point five zero" (every written digit is said)."""
    whole, _, fraction = text.replace(",", "").partition(".")
    return f"{words(int(whole or '0'))} point {digits(fraction)}"


def number(text: str) -> str:
    """A written number, with separators or a decimal part, as words."""
    plain = text.replace(",", "")
    if "." in plain:
        return decimal(plain)
    if len(plain) > 1 and plain.startswith("0"):
        return digits(plain)
    return words(int(plain))


def roman(text: str) -> int:
    """The value of a valid Roman numeral."""
    total = 0
    for char, following in zip(text, [*text[1:], ""], strict=True):
        value = _ROMAN[char]
        total += -value if following and _ROMAN[following] > value else value
    return total


def _plural(phrase: str) -> str:
    """ "nineteen ninety" → "nineteen nineties"; "nineteen hundred" → "nineteen hundreds"."""
    head, _, last = phrase.rpartition(" ")
    last = last[:-1] + "ies" if last.endswith("y") else last + "s"
    return f"{head} {last}".strip()


def _money(match: re.Match[str]) -> str:
    symbol, amount, scale = match.group("cur"), match.group("amount"), match.group("scale")
    one, many, cent, cents = _CURRENCIES[symbol]
    plain = amount.replace(",", "")
    if scale:
        return f"{number(plain)} {_SCALES[scale.lower()]} {many}"
    whole, _, fraction = plain.partition(".")
    value = int(whole or "0")
    said = f"{words(value)} {one if value == 1 else many}"
    if fraction and cent:
        hundredths = int((fraction + "0")[:2])
        if hundredths:
            said += f" and {words(hundredths)} {cent if hundredths == 1 else cents}"
    elif fraction:
        said = f"{decimal(plain)} {many}"
    return said


def _clock(match: re.Match[str]) -> str:
    hour, minute, half = int(match.group("h")), match.group("m"), match.group("ampm")
    said = words(hour)
    if minute == "00":
        said += "" if half else " o'clock"
    elif minute.startswith("0"):
        said += f" oh {words(int(minute))}"
    else:
        said += f" {words(int(minute))}"
    if half:
        said += f" {half[0].lower()} m"
    return said


def _decade(match: re.Match[str]) -> str:
    if match.group("short"):
        return _plural(words(int(match.group("short"))))
    return _plural(year(int(match.group("decade"))))


def _roman_after_word(match: re.Match[str]) -> str:
    word, numeral = match.group("word"), match.group("numeral")
    value = roman(numeral)
    if word.lower().rstrip(".") in _NUMBERED:
        return f"{word} {words(value)}"
    if word.lower() in _NOT_NAMES or (numeral == "I" and match.group("end") is None):
        return match.group(0)  # the pronoun "I", or not a name before the numeral
    return f"{word} the {ordinal(value).capitalize()}"


def _heading_numeral(match: re.Match[str]) -> str:
    numeral = match["numeral"] or match["bare"]
    if not numeral.isupper():
        return match.group(0)  # "mix", "vivid": words, not numerals
    return f"{match['word'] or ''}{roman(numeral)}{match['end'] or match['stop'] or ''}"


def _say_address(text: str) -> str:
    """A URL or e-mail address as a person reads it: "example dot com slash essays"."""
    text = re.sub(r"^(?:https?|ftp)://", "", text, flags=re.IGNORECASE)
    text = re.sub(r"^www\.", "", text, flags=re.IGNORECASE).rstrip("/")
    names = {".": " dot ", "/": " slash ", "@": " at ", "-": " dash ", "_": " underscore ",
             "?": " question mark ", "=": " equals ", "&": " and ", "+": " plus ", "#": " hash ",
             ":": " colon ", "~": " tilde ", "%": " percent "}  # fmt: skip
    spoken = "".join(names.get(c, c) for c in text)
    spoken = re.sub(
        r"\d+",
        lambda m: f" {digits(m.group()) if len(m.group()) > 4 else words(int(m.group()))} ",
        spoken,
    )
    return re.sub(r"\s+", " ", spoken).strip().lower()


_ABBREVIATIONS: list[tuple[str, str]] = [
    (r"\be\.\s?g\.", "for example"),
    (r"\bi\.\s?e\.", "that is"),
    (r"\betc\.", "et cetera"),
    (r"\bvs\.?(?=\s)", "versus"),
    (r"\bcf\.", "compare"),
    (r"\bviz\.", "namely"),
    (r"\bop\.\s?cit\.", "in the work cited"),
    (r"\bibid\.", "in the same place"),
    (r"\bop\.\s?(?=\d)", "opus "),
    (r"\bvols\.\s?(?=\d)", "volumes "),
    (r"\bchs?\.\s?(?=\d)", "chapter "),
    (r"\bc(?:a)?\.\s?(?=\d)", "circa "),
    (r"\bb\.\s?(?=\d)", "born "),
    (r"\bd\.\s?(?=\d)", "died "),
    (r"\bfl\.\s?(?=\d)", "flourished "),
    (r"\beds?\.\s(?=[A-Z])", "edited by "),
    (r"\btrans\.\s(?=[A-Z])", "translated by "),
    (r"\bMlle\.", "Mademoiselle"),
    (r"\bMme\.", "Madame"),
    (r"\bMessrs\.", "Messieurs"),
    (r"\bRev\.(?=\s+[A-Z])", "Reverend"),
    (r"\bGen\.(?=\s+[A-Z])", "General"),
    (r"\bCapt\.(?=\s+[A-Z])", "Captain"),
    (r"\bCol\.(?=\s+[A-Z])", "Colonel"),
    (r"\bGov\.(?=\s+[A-Z])", "Governor"),
    (r"\bSen\.(?=\s+[A-Z])", "Senator"),
    (r"\bLt\.(?=\s+[A-Z])", "Lieutenant"),
    (r"\bSgt\.(?=\s+[A-Z])", "Sergeant"),
    (r"\bHon\.(?=\s+[A-Z])", "Honorable"),
    (r"\bPh\.\s?D\.", "P H D"),
    (r"\bM\.\s?A\.", "M A"),
    (r"\bB\.\s?A\.", "B A"),
    (r"\bM\.\s?D\.", "M D"),
    (r"\bB\.\s?Sc\.", "B S C"),
    (r"\bM\.\s?Sc\.", "M S C"),
    (r"\bapprox\.", "approximately"),
    (r"\bMr\.", "Mister"),
    (r"\bMrs\.", "Missus"),
    (r"\bMs\.", "Miz"),
    (r"\bProf\.", "Professor"),
    (r"\bMt\.(?=\s+[A-Z])", "Mount"),
    (r"\bJr\.", "Junior"),
    (r"\bSr\.", "Senior"),
    (r"\bpp\.\s?(?=\d)", "pages "),
    (r"\bp\.\s?(?=\d)", "page "),
    (r"\bvol\.\s?(?=\d)", "volume "),
    (r"\b[Ff]ig\.\s?(?=\d)", "figure "),
    (r"\b[Nn]os\.\s?(?=\d)", "numbers "),
    (r"\bNo\.\s?(?=\d)", "number "),
    (r"\bno\.\s?(?=\d)", "number "),
    (r"#(?=\d)", "number "),
]


def _expansion(words: str) -> Callable[[re.Match[str]], str]:
    """Say ``words`` for an abbreviation, keeping its full stop when it ends the sentence."""

    def say(match: re.Match[str]) -> str:
        ends = match.group(0).endswith(".") and not match.string[match.end() :].strip()
        opens = not match.string[: match.start()].strip()
        said = words[0].upper() + words[1:] if opens and match.group(0)[0].isupper() else words
        return said + ("." if ends else "")

    return say


def _saint_or_street(match: re.Match[str]) -> str:
    """ "St." is Saint before a name ("St. Paul"), Street after one ("Baker St.")."""
    before, after = match.group("before") or "", match.group("after") or ""
    if after and after.lstrip()[:1].isupper() and not (before and before[:1].isupper()):
        return f"{before}Saint{after}"
    if before and (before[0].isupper() or before[0].isdigit()):
        return f"{before}Street{after}"
    return f"{before}Saint{after}"


def _doctor_or_drive(match: re.Match[str]) -> str:
    before, after = match.group("before") or "", match.group("after") or ""
    if after and after.lstrip()[:1].isupper():
        return f"{before}Doctor{after}"
    if before and before[0].isupper():
        return f"{before}Drive{after}"
    return f"{before}Doctor{after}"


_MONTHS = (
    "January February March April May June July August September October November December"
).split()
_MONTH_ABBREVIATIONS = {m[:3]: m for m in _MONTHS} | {"Sept": "September"}
_MONTH = rf"(?P<month>{'|'.join(_MONTHS)}|(?:{'|'.join(_MONTH_ABBREVIATIONS)})\.)"
_FRACTIONS = {2: ("half", "halves"), 4: ("quarter", "quarters")}
_UNITS = {
    "km/h": ("kilometer per hour", "kilometers per hour"), "kph": ("kilometer per hour", "kilometers per hour"),
    "mph": ("mile per hour", "miles per hour"), "km": ("kilometer", "kilometers"),
    "kg": ("kilogram", "kilograms"), "cm": ("centimeter", "centimeters"),
    "mm": ("millimeter", "millimeters"), "mi": ("mile", "miles"), "lbs": ("pound", "pounds"),
    "lb": ("pound", "pounds"), "oz": ("ounce", "ounces"), "ft": ("foot", "feet"),
    "in.": ("inch", "inches"), "m": ("meter", "meters"), "g": ("gram", "grams"),
    "ml": ("milliliter", "milliliters"), "kb": ("kilobyte", "kilobytes"),
    "mb": ("megabyte", "megabytes"), "gb": ("gigabyte", "gigabytes"),
}  # fmt: skip
_SCRIPT_WORDS = re.compile(r"\b[A-Z][A-Z’'-]*\b")
_ROMAN_LETTERS = frozenset("IVX")


def _month(text: str) -> str:
    """A month as written (``Dec.``, ``December``) as its full name."""
    return _MONTH_ABBREVIATIONS.get(text.rstrip("."), text.rstrip("."))


def _day_of_month(match: re.Match[str]) -> str:
    """ "October 27" → "October twenty-seventh"; "Dec. 25" → "December twenty-fifth"."""
    return f"{_month(match['month'])} {ordinal(int(match['day']))}"


def _day_before_month(match: re.Match[str]) -> str:
    """ "12 March 2024" → "the twelfth of March 2024"."""
    return f"the {ordinal(int(match['day']))} of {_month(match['month'])}"


def _iso_date(match: re.Match[str]) -> str:
    """ "2024-03-12" → "March twelfth, 2024" (the year is read by the year rule)."""
    month, day = int(match["m"]), int(match["d"])
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return match.group(0)
    return f"{_MONTHS[month - 1]} {ordinal(day)}, {match['y']}"


def _phone(match: re.Match[str]) -> str:
    """A telephone number digit by digit, its groups apart: "five five five, eight six seven"."""
    return ", ".join(digits(group) for group in re.findall(r"\d+", match.group(0)))


def _slashed(match: re.Match[str]) -> str:
    """ "3/4" → "three quarters"; a number over another that is no simple fraction ("24/7",
    "10/10/10") is read as the numbers, one after the other."""
    parts = [int(p) for p in match.group(0).split("/")]
    if len(parts) == 2 and 0 < parts[0] < parts[1] <= 16 and parts[1] not in (7, 11, 13, 14, 15):
        top, bottom = parts
        one, many = _FRACTIONS.get(bottom) or (ordinal(bottom), ordinal(bottom) + "s")
        return f"{words(top)} {one if top == 1 else many}"
    return " ".join(words(p) for p in parts)


def _unit(match: re.Match[str]) -> str:
    """A number and its unit: "12 km" → "twelve kilometers"; "a 5km walk" → "five kilometer"."""
    one, many = _UNITS[match["unit"].lower()]
    value = match["n"]
    adjectival = bool(match["article"])
    said = number(value)
    return f"{match['article'] or ''}{said} {one if adjectival or value == '1' else many}"


def _capitals(text: str) -> str:
    """Prose set in capitals read as words, acronyms kept as letters.

    A run of two or more words in capitals ("IT IS A TRUTH") is prose: each is read as a
    word. A word alone in capitals is an acronym when it is short (three letters or fewer:
    GSA, FBI) or has no vowel (HTML); a longer one with vowels (JUSTICE, NASA) is a word.
    Roman numerals made of I, V and X are left for the numeral rules.
    """

    def numeral(word: str) -> bool:
        return set(word) <= _ROMAN_LETTERS

    def as_word(word: str) -> str:
        return word if numeral(word) or len(word) == 1 else word[0] + word[1:].lower()

    out: list[str] = []
    last = 0
    matches = list(_SCRIPT_WORDS.finditer(text))
    index = 0
    while index < len(matches):
        run = [matches[index]]
        while index + len(run) < len(matches) and re.fullmatch(
            r"[\s,;:]+", text[run[-1].end() : matches[index + len(run)].start()]
        ):
            run.append(matches[index + len(run)])
        words_in_run = [m.group(0) for m in run]
        letters = [w for w in words_in_run if len(w) > 1 and not numeral(w)]
        for m in run:
            word = m.group(0)
            out.append(text[last : m.start()])
            if len(run) >= 2 and letters:
                out.append(as_word(word))
            elif len(word) > 3 and re.search("[AEIOUY]", word) and not numeral(word):
                out.append(word[0] + word[1:].lower())
            else:
                out.append(word)
            last = m.end()
        index += len(run)
    out.append(text[last:])
    return "".join(out)


def _compile() -> list[Rule]:
    amount = r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?"
    cur = rf"(?P<cur>[$£€¥])\s?(?P<amount>{amount})"
    scale = r"(?:\s?(?P<scale>thousand|million|billion|trillion|bn|mn|tn|[kmb])\b)?"
    rules: list[Rule] = [
        # A run of digits too long to be a quantity (an ID, a hostile 5,000-digit title) is
        # read digit by digit before any rule turns it into a number.
        (re.compile(r"\d{16,}"), lambda m: f" {digits(m.group())} "),
        # Telephone numbers, digit by digit.
        (re.compile(r"(?<![\d-])(?:\+1[ -])?\(?\d{3}\)?[ -]\d{3}-\d{4}(?![\d-])"), _phone),
        # Dates: ISO, "October 27", "Dec. 25", "12 March"; then eras.
        (re.compile(r"\b(?P<y>1[1-9]\d\d|20\d\d)-(?P<m>\d\d)-(?P<d>\d\d)\b"), _iso_date),
        (re.compile(rf"\b{_MONTH}\s(?P<day>[1-9]|[12]\d|3[01])(?:st|nd|rd|th)?\b(?![:\d]|,\d{{3}})"), _day_of_month),
        (re.compile(rf"\b(?P<day>[1-9]|[12]\d|3[01])\s{_MONTH}"), _day_before_month),
        (re.compile(r"\bB\.\s?C\.(?:\s?E\.)?(?=[\s,;:)]|$)"), lambda m: "B C E" if "E" in m.group(0) else "B C"),
        (re.compile(r"\bA\.\s?D\.(?=[\s,;:)]|$)"), lambda m: "A D"),
        (re.compile(r"(?<=\d)\s(?P<era>BCE|CE|BC|AD)\b"), lambda m: " " + " ".join(m["era"])),
        (re.compile(r"\bAD\s(?P<y>\d{1,4})\b"), lambda m: "A D " + year(int(m["y"]))),
        # Versions, one-on-ones, ratios, multiples, heights, fractions.
        (re.compile(r"\bv(?P<v>\d+(?:\.\d+)+)\b"), lambda m: "version " + " point ".join(words(int(p)) for p in m["v"].split("."))),
        (re.compile(r"\b1:1(?P<s>s)?\b(?!\s+(?:ratio|scale))"), lambda m: "one-on-one" + (m["s"] or "")),
        (re.compile(r"\b(?P<n>\d+)x\b"), lambda m: f"{number(m['n'])} times"),
        (re.compile(r"\b(?P<f>\d)'(?P<i>\d{1,2})(?:\"|”|'')"), lambda m: f"{words(int(m['f']))} feet {words(int(m['i']))} inches"),
        (re.compile(r"(?<![\d/.])\d+(?:/\d+)+(?![\d/])"), _slashed),
        (re.compile(rf"(?P<article>\b[Aa]n?\s)?(?P<n>\d+(?:\.\d+)?)\s?(?P<unit>{'|'.join(re.escape(u) for u in sorted(_UNITS, key=len, reverse=True) if u not in ('m', 'g'))})(?![\w/])", re.IGNORECASE), _unit),
        (re.compile(cur + scale, re.IGNORECASE), _money),
        (re.compile(r"~\s?(?=\d)"), lambda m: "about "),
        (re.compile(rf"(?P<n>{amount})\s?%"), lambda m: f"{number(m['n'])} percent"),
        (re.compile(r"(?P<n>-?\d+(?:\.\d+)?)\s?°\s?(?P<u>[CF])\b"),
         lambda m: f"{number(m['n'].lstrip('-')) if not m['n'].startswith('-') else 'minus ' + number(m['n'][1:])} degrees {'Celsius' if m['u'] == 'C' else 'Fahrenheit'}"),
        (re.compile(r"(?P<n>\d+)\s?°"), lambda m: f"{number(m['n'])} degrees"),
        (re.compile(r"\b(?P<h>[01]?\d|2[0-3]):(?P<m>[0-5]\d)\b(?:\s?(?P<ampm>[ap]\.?\s?m)\b\.?)?", re.IGNORECASE), _clock),
        (re.compile(r"\b(?P<h>1[0-2]|[1-9])\s?(?P<ampm>[ap]\.\s?m\.|[ap]m\b)", re.IGNORECASE),
         lambda m: f"{words(int(m['h']))} {m['ampm'][0].lower()} m"),
        (re.compile(r"(?<![\d,.:])\b(?P<a>\d+):(?P<b>\d+)\b(?!:)"), lambda m: f"{m['a']} to {m['b']}"),
        (re.compile(r"(?<![\d,.])(?P<a>\d+)\s?[–—]\s?(?P<b>\d+)(?![\d,]|\.\d)"), lambda m: f"{m['a']} to {m['b']}"),
        (re.compile(r"(?<![\w,.-])(?P<a>\d+)-(?P<b>\d+)(?![\w,-]|\.\d)"), lambda m: f"{m['a']} to {m['b']}"),
        (re.compile(r"\b(?P<a>1[1-9]\d\d|20\d\d)-(?P<b>1[1-9]\d\d|20\d\d|\d\d)\b"), lambda m: f"{m['a']} to {m['b']}"),
        (re.compile(r"(?:\b(?P<decade>1[1-9]\d0|20\d0)s\b|[’'](?P<short>[2-9]0)s\b)"), _decade),
        (re.compile(r"\b(?P<n>\d+)(?:st|nd|rd|th)\b"), lambda m: ordinal(int(m["n"]))),
    ]  # fmt: skip
    rules += [(re.compile(p), _expansion(r)) for p, r in _ABBREVIATIONS]
    rules += [
        (re.compile(r"(?P<before>\b\w+\s)?\bSt\.(?P<after>\s\w+)?"), _saint_or_street),
        (re.compile(r"(?P<before>\b\w+\s)?\bDr\.(?P<after>\s\w+)?"), _doctor_or_drive),
        (re.compile(r"(?<![\d.,])\b(?P<y>1[1-9]\d\d|20\d\d)\b(?![.,]\d)"), lambda m: year(int(m["y"]))),
        (re.compile(r"(?<![\w.,])[-−](?=\d)"), lambda m: "minus "),
        (re.compile(r"(?<![\d.,])\d{1,3}(?:,\d{3})+(?:\.\d+)?(?![\d,])"), lambda m: number(m.group())),
        (re.compile(r"(?<![\d.])\d+\.\d+(?![\d.]*\d)"), lambda m: decimal(m.group())),
        (re.compile(r"(?<!\w)\d+(?!\w)"), lambda m: number(m.group())),
        (re.compile(r"\s&\s"), lambda m: " and "),
        (re.compile(r"(?<=\w)&(?=\w)"), lambda m: " and "),
        (re.compile(r"\s\+\s"), lambda m: " plus "),
        (re.compile(r"\s=\s"), lambda m: " equals "),
        (re.compile(r"\s×\s|(?<=\d)\s?×\s?(?=\d)"), lambda m: " times "),
        (re.compile(r"½"), lambda m: " one half"),
        (re.compile(r"¼"), lambda m: " one quarter"),
        (re.compile(r"¾"), lambda m: " three quarters"),
        (re.compile(r"§\s?"), lambda m: "section "),
        (re.compile(r"\band/or\b"), lambda m: "and or"),
        (re.compile(r"\bw/(?=\s)"), lambda m: "with"),
        (re.compile(r"\s@\s"), lambda m: " at "),
    ]  # fmt: skip
    return rules


_RULES = _compile()
_ADDRESS = re.compile(
    r"(?:\b(?:https?|ftp)://[^\s<>\"]+|\bwww\.[^\s<>\"]+|"
    r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+|"
    rf"\b[\w-]+(?:\.[\w-]+)*\.(?:{_TLDS})\b(?:/[^\s<>\"]*)?)",
    re.IGNORECASE,
)
_HEADING_NUMERAL = re.compile(
    rf"^(?:(?P<word>(?:{'|'.join(_NUMBERED)})\.?\s+)(?P<numeral>{_ROMAN_RE})(?P<end>\b)"
    rf"|(?P<bare>(?=[XVIL]+\b)L?X{{0,3}}(?:IX|IV|V?I{{0,3}}))(?P<stop>[.:)]|$))",
    re.IGNORECASE,
)
"""A numeral opening a heading: after "Chapter", "Part"…, or alone before ``.``, ``:`` or ``)``."""
_NAME_NUMERAL = re.compile(
    r"\b(?P<word>[A-Z][a-z][\w’'-]*\.?)\s(?P<numeral>(?!X\b)(?=[XVI]+\b)X{0,3}(?:IX|IV|V?I{0,3}))\b"
    r"(?P<end>(?=[.,;:!?)’'\"]|\s+of\b|\s+and\b|$))?"
)
"""A regnal number after a name ("Henry VIII"); I, V and X only, and never a lone X
("Malcolm X"), so that "DJ MIX" or "Washington DC" are left alone."""


def normalize(text: str, protected: Protected, heading: bool = False) -> str:
    """``text`` as an English narrator says it. ``heading`` reads "IV" in a title as "4"."""

    def address(match: re.Match[str]) -> str:
        found = match.group(0)
        trail = re.search(r"[.,;:!?)\]]+$", found)
        core = found[: trail.start()] if trail else found
        return protected.hold(_say_address(core)) + (trail.group(0) if trail else "")

    text = _ADDRESS.sub(address, text)
    if heading:
        text = _HEADING_NUMERAL.sub(_heading_numeral, text)
    text = _capitals(text)
    text = _NAME_NUMERAL.sub(_roman_after_word, text)
    for pattern, say in _RULES:
        text = pattern.sub(say, text)
    return text
