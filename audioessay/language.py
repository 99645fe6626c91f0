"""Language tags (BCP 47, RFC 5646): checked once, so every output can trust them.

The tag lands in the feed, the ID3 tag, the pages' ``lang``, and the books' ``dc:language`` and
``xml:lang``: a stray character there makes a talking book ill-formed, so anything that is not
a well-formed tag is refused where it is read.
"""

from __future__ import annotations

import re

from .errors import SettingsError

_TAG = re.compile(
    r"""(?:(?:[a-z]{2,3}(?:-[a-z]{3}){0,3}|[a-z]{4,8})   # language, extended subtags
          (?:-[a-z]{4})?                               # script
          (?:-(?:[a-z]{2}|[0-9]{3}))?                  # region
          (?:-(?:[a-z0-9]{5,8}|[0-9][a-z0-9]{3}))*     # variants
          (?:-[0-9a-wyz](?:-[a-z0-9]{2,8})+)*          # extensions
          (?:-x(?:-[a-z0-9]{1,8})+)?                   # private use
       |x(?:-[a-z0-9]{1,8})+                           # private use alone
       |i-[a-z]{2,8})                                  # grandfathered i- tags""",
    re.IGNORECASE | re.VERBOSE,
)


def is_language_tag(text: str) -> bool:
    """Whether ``text`` is a well-formed BCP 47 tag (``en``, ``en-GB``, ``zh-Hant-TW``)."""
    return _TAG.fullmatch(text) is not None


def check_language(text: str, where: str) -> str:
    """The tag, with ``en_US``'s underscore repaired to ``en-US``; else a :class:`SettingsError`."""
    tag = text.strip().replace("_", "-")
    if not is_language_tag(tag):
        raise SettingsError(
            f"{where} language {text!r} is not a language tag such as en, en-GB or pt-BR"
        )
    return tag
