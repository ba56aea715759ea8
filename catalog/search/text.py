"""Folding and splitting text before search analysis (检索前的文本规整).

Every string that goes into the index or comes in as a query passes through
``fold`` first, so that the two meet in one form:

- full-width letters, digits and punctuation become half-width (Unicode NFKC:
  ＡＢＣ１２３ -> ABC123);
- traditional characters become simplified (OpenCC's t2s: 紅樓夢 -> 红楼梦);
- Latin letters lose case and diacritics (Gävle -> gavle, hóng -> hong).

``runs`` then cuts the folded text into runs of Han characters and runs of
Latin letters and digits; everything else separates them.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import opencc

_T2S = opencc.OpenCC("t2s")

# Han ideographs: the unified block, extension A, compatibility ideographs and
# the supplementary planes (extensions B onwards).
HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
_RUN = re.compile(rf"[{HAN}]+|[a-z0-9]+")
_HAN_CHAR = re.compile(rf"[{HAN}]")
_MARKS = re.compile(r"[\u0300-\u036f]")


def is_han(ch: str) -> bool:
    """Whether ``ch`` is one Han character (汉字)."""
    return _HAN_CHAR.fullmatch(ch) is not None


def has_han(text: str) -> bool:
    return _HAN_CHAR.search(text) is not None


@lru_cache(maxsize=65536)
def fold(text: str) -> str:
    """The one form index and query meet in: NFKC, simplified, lower case, no diacritics."""
    text = unicodedata.normalize("NFKC", text)
    if has_han(text):
        text = _T2S.convert(text)
    text = text.casefold()
    if not text.isascii():
        text = unicodedata.normalize("NFC", _MARKS.sub("", unicodedata.normalize("NFD", text)))
    return text


def fold_chars(text: str) -> str | None:
    """``text`` folded character by character, or None when that changes its length.

    Highlighting needs a folded string whose positions are the original's.
    """
    folded = "".join(fold(ch)[:1] or " " for ch in text)
    return folded if len(folded) == len(text) else None


def runs(folded: str) -> list[str]:
    """Runs of Han characters and runs of Latin letters and digits, in order."""
    return _RUN.findall(folded)
