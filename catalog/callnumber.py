"""Call numbers (索书号) and their shelf order (排架顺序).

A call number is a class number of the Chinese Library Classification (中图法)
and a book number, written ``class/book``: ``F124/26``, ``I247.5/123``,
``TP312/45-2``, ``I247.57/W37``. The rules below are written out, with
examples, in docs/labels.md; in short:

1. Well-formed call numbers come first, in this order:
   a. the class letters: one of the 22 classes, or T with its second letter
      (TB..TV); ``T`` < ``TB`` < ``TD``;
   b. the class digits as a decimal fraction, digit by digit, ignoring the
      dots: I24 < I247 < I247.5 < I247.57 < I248;
   c. a number with no auxiliary part before the same number with one; the
      auxiliary parts one by one, by symbol in ``AUXILIARY_ORDER`` and then
      by their own digits (again digit by digit) or, after ``:`` and ``+``,
      by the class number that follows;
   d. the book number: none before one; 种次号 (digits) numerically
      (2 < 10 < 123), before 著者号 (letters then digits, such as W37),
      which sort by letters then by digits digit by digit;
   e. volume and copy suffixes (``-2``, ``:2``, ``(2)``, ``v.2``, 上/中/下)
      part by part: numbers numerically, then 上 < 中 < 下, then letters;
      the punctuation between parts does not count.
2. Anything else (a blank, a shelf prefix, a letter that is no class) sorts
   after every well-formed call number, by its text.

Nothing here raises on odd input; the functions are pure.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

CLASS_LETTERS = frozenset("ABCDEFGHIJKNOPQRSTUVXZ")  # L, M, W, Y are unused
T_SUBCLASSES = frozenset(
    ["TB", "TD", "TE", "TF", "TG", "TH", "TJ", "TK", "TL", "TM", "TN", "TP", "TQ", "TS", "TU", "TV"]
)

# Filing order of the auxiliary symbols after a class number: 联合 +, 组配 :,
# 总论复分 -, 国家地区 (), 时代 =, 民族种族 "", 通用时间地点环境人员 <>.
# A class number without any comes first; all of them come before a longer
# number (I247-53 < I247(2) < I247.5), as in the filing rules of the 中图法.
AUXILIARY_ORDER: tuple[str, ...] = ("+", ":", "-", "(", "=", '"', "<")
_CLOSING = {"(": ")", '"': '"', "<": ">"}

VOLUME_WORDS = ("上", "中", "下")  # 上册 < 中册 < 下册
# Words around a volume or copy number that do not change its order (第2册, 卷3).
_IGNORED_WORDS = frozenset("第册卷辑部集版编期本套")
_SUFFIX_SEPARATORS = frozenset("-:=.,;()[]<>\"'#_*+ ")
_DASHES = str.maketrans({c: "-" for c in "‐‑‒–—―−"})

_DIGITS = re.compile(r"\d+(?:\.\d+)*")
_LETTERS = re.compile(r"[A-Z]+")
_BOOK = re.compile(r"([A-Z]{0,3})(\d+)(.*)", re.DOTALL)
_SPACE = re.compile(r"\s+")

ClassKey = tuple[str, str, tuple[tuple[int, Any], ...]]
BookKey = tuple[int, str, int, str, tuple[tuple[int, int, str], ...]]

_NO_CLASS: ClassKey = ("", "", ())
_NO_BOOK: BookKey = (0, "", 0, "", ())


def normalise_call_number(call_number: object) -> str:
    """Half-width, trimmed, one space at most: ``Ｉ２４７．５／１２３`` -> ``I247.5/123``."""
    if not isinstance(call_number, str):
        call_number = "" if call_number is None else str(call_number)
    text = unicodedata.normalize("NFKC", call_number).translate(_DASHES)
    return _SPACE.sub(" ", text).strip()


def split_call_number(call_number: str) -> tuple[str, str]:
    """The class number and the book number: ``"I247.5/123"`` -> ``("I247.5", "123")``.

    The first ``/`` separates them; without one, the first space or line
    break does (as on a two-line spine label). The class number comes back
    upper-cased without spaces, the book number trimmed; either may be empty.
    """
    text = normalise_call_number(call_number)
    if "/" in text:
        class_part, _, book_part = text.partition("/")
    else:
        class_part, _, book_part = text.partition(" ")
    return class_part.replace(" ", "").upper(), book_part.strip()


def call_number_sort_key(call_number: str) -> tuple[Any, ...]:
    """A key for ``sorted`` that puts call numbers in shelf order (see the module's rules)."""
    text = normalise_call_number(call_number)
    class_number, book_number = split_call_number(text)
    class_key = _parse_class(class_number, 0, allow_combination=True)
    book_key = _parse_book(book_number)
    if class_key is None or class_key[1] != len(class_number) or book_key is None:
        return (1, _NO_CLASS, _NO_BOOK, text.upper(), text)
    return (0, class_key[0], book_key, text.upper(), text)


def is_well_formed(call_number: str) -> bool:
    """Whether the call number follows the rules (others sort after all well-formed ones)."""
    return call_number_sort_key(call_number)[0] == 0


def _parse_class(text: str, pos: int, *, allow_combination: bool) -> tuple[ClassKey, int] | None:
    """Parse a class number starting at ``pos``: its key and the position after it."""
    letters = _LETTERS.match(text, pos)
    if letters is None:
        return None
    code = letters.group()
    if len(code) == 2 and code in T_SUBCLASSES:
        pass
    elif len(code) != 1 or code not in CLASS_LETTERS:
        return None
    pos = letters.end()
    digits = ""
    number = _DIGITS.match(text, pos)
    if number is not None:
        digits = number.group().replace(".", "")
        pos = number.end()
    auxiliaries: list[tuple[int, Any]] = []
    while pos < len(text):
        parsed = _parse_auxiliary(text, pos, allow_combination=allow_combination)
        if parsed is None:
            break
        auxiliaries.append(parsed[0])
        pos = parsed[1]
    return (code, digits, tuple(auxiliaries)), pos


def _parse_auxiliary(
    text: str, pos: int, *, allow_combination: bool
) -> tuple[tuple[int, Any], int] | None:
    symbol = text[pos]
    if symbol not in AUXILIARY_ORDER:
        return None
    rank = AUXILIARY_ORDER.index(symbol)
    pos += 1
    if symbol in "+:":
        if not allow_combination:
            return None
        combined = _parse_class(text, pos, allow_combination=False)
        if combined is not None:
            return (rank, combined[0]), combined[1]
        number = _DIGITS.match(text, pos)
        if number is None:
            return None
        return (rank, ("", number.group().replace(".", ""), ())), number.end()
    number = _DIGITS.match(text, pos)
    if number is None:
        return None
    end = number.end()
    closing = _CLOSING.get(symbol)
    if closing is not None:
        if text[end : end + 1] != closing:
            return None
        end += 1
    return (rank, number.group().replace(".", "")), end


def _parse_book(text: str) -> BookKey | None:
    if not text:
        return _NO_BOOK
    match = _BOOK.fullmatch(text.upper())
    if match is None:
        return None
    letters, digits, rest = match.groups()
    suffix = _parse_suffix(rest)
    if suffix is None:
        return None
    if letters:  # 著者号: letters, then digits read as a decimal fraction
        return (2, letters, 0, digits, suffix)
    return (1, "", int(digits), "", suffix)  # 种次号


def _parse_suffix(text: str) -> tuple[tuple[int, int, str], ...] | None:
    parts: list[tuple[int, int, str]] = []
    pos = 0
    while pos < len(text):
        char = text[pos]
        if char in _SUFFIX_SEPARATORS or char in _IGNORED_WORDS:
            pos += 1
        elif char.isdigit():
            end = pos
            while end < len(text) and text[end].isdigit():
                end += 1
            parts.append((0, int(text[pos:end]), ""))
            pos = end
        elif char in VOLUME_WORDS:
            parts.append((1, VOLUME_WORDS.index(char), ""))
            pos += 1
        elif "A" <= char <= "Z":
            letters = _LETTERS.match(text, pos)
            assert letters is not None
            parts.append((2, 0, letters.group()))
            pos = letters.end()
        else:
            return None
    return tuple(parts)
