"""Pinyin readings for search (拼音), with polyphones (多音字) handled on purpose.

The rule (docs/search.md, "Polyphones"):

1. A word is read with pypinyin's phrase dictionary, so each character gets the
   reading it has in that word (重庆 chong qing, 银行 yin hang, 长安 chang an).
   That reading is the *primary* reading and is indexed at full pinyin weight.
2. The first character of a personal name is read as a surname when it is one
   of the surnames whose surname reading differs from the everyday one
   (曾 zeng, 单 shan, 仇 qiu, 覃 qin, 查 zha, 乐 yue, 区 ou, 解 xie, ...).
3. Every other reading of a polyphonic character is indexed as an *alternate*
   reading, at a lower weight, so that a reader who types the reading they
   know still finds the book (朝花夕拾 typed zhaohua or chaohua), but below
   books that match the primary reading.
4. Where the record carries its own pinyin (CNMARC 200$A/$9, 701$A) and it
   has one syllable per character, its syllables are the primary readings and
   the dictionary's, where different, become alternates.

Syllables are plain letters without tones; ü is written v (lv, nv), as on a
pinyin keyboard, with u as an alternate (lu, nu).
"""

from __future__ import annotations

from functools import lru_cache

import rjieba
from pypinyin import Style, pinyin
from pypinyin.pinyin_dict import pinyin_dict

# Surname readings that differ from the character's everyday reading (姓氏读音).
SURNAME_READINGS = {
    "曾": "zeng", "单": "shan", "仇": "qiu", "覃": "qin", "查": "zha", "乐": "yue",
    "区": "ou", "解": "xie", "朴": "piao", "盖": "ge", "繁": "po", "种": "chong",
    "秘": "bi", "员": "yun", "召": "shao", "缪": "miao", "翟": "zhai", "尉": "wei",
    "洗": "xian", "华": "hua", "任": "ren", "宁": "ning", "纪": "ji", "过": "guo",
    "沈": "shen", "薄": "bo", "柏": "bai", "藏": "zang", "长": "chang", "重": "chong",
    "句": "gou", "能": "nai", "黑": "he", "那": "na", "牟": "mou", "折": "she",
}  # fmt: skip
COMPOUND_SURNAMES = {
    "尉迟": ("yu", "chi"), "万俟": ("mo", "qi"), "单于": ("chan", "yu"),
    "长孙": ("zhang", "sun"), "欧阳": ("ou", "yang"), "司马": ("si", "ma"),
    "诸葛": ("zhu", "ge"), "上官": ("shang", "guan"), "令狐": ("ling", "hu"),
}  # fmt: skip


@lru_cache(maxsize=1)
def syllables() -> frozenset[str]:
    """Every toneless syllable pypinyin knows (about 410), plus the u-for-ü spellings."""
    found: set[str] = set()
    for code in pinyin_dict:
        for reading in pinyin(chr(code), style=Style.NORMAL, heteronym=True)[0]:
            found.add(reading)
            if "v" in reading:
                found.add(reading.replace("v", "u"))
    return frozenset(s for s in found if s.isascii() and s.isalpha())


@lru_cache(maxsize=1)
def _longest_syllable() -> int:
    return max(len(s) for s in syllables())


@lru_cache(maxsize=200_000)
def word_readings(word: str) -> tuple[tuple[str, ...], ...]:
    """Readings of each character of a Han word: the primary first, then alternates."""
    primary = [r[0] for r in pinyin(word, style=Style.NORMAL, heteronym=False)]
    if len(primary) != len(word):
        return tuple((p,) for p in primary)
    return tuple(_with_alternates(ch, p) for ch, p in zip(word, primary, strict=True))


@lru_cache(maxsize=65536)
def _char_readings(ch: str) -> tuple[str, ...]:
    return tuple(pinyin(ch, style=Style.NORMAL, heteronym=True)[0])


def _with_alternates(ch: str, primary: str) -> tuple[str, ...]:
    readings = [primary]
    for reading in _char_readings(ch):
        if reading not in readings:
            readings.append(reading)
    for reading in list(readings):
        if "v" in reading and reading.replace("v", "u") not in readings:
            readings.append(reading.replace("v", "u"))
    return tuple(r for r in readings if r.isascii() and r.isalpha())


def segment_words(han: str) -> list[str]:
    """Words of a run of Han characters (rjieba, the Rust port of jieba)."""
    return [w for w in rjieba.cut(han) if w.strip()]


def search_words(han: str) -> list[str]:
    """Words and the shorter words inside long ones (中华人民共和国 -> 中华, 人民, 共和国, ...)."""
    return [w for w in rjieba.cut_for_search(han) if w.strip()]


def readings(han: str, *, personal_name: bool = False) -> list[tuple[str, ...]]:
    """One tuple of readings per character of a Han run, primary reading first."""
    out: list[tuple[str, ...]] = []
    for word in segment_words(han):
        out.extend(word_readings(word))
    if personal_name and out:
        _read_as_surname(han, out)
    return out


def _read_as_surname(han: str, out: list[tuple[str, ...]]) -> None:
    compound = COMPOUND_SURNAMES.get(han[:2])
    if compound is not None and len(out) >= 2:
        for i, reading in enumerate(compound):
            out[i] = (reading, *[r for r in out[i] if r != reading])
        return
    surname = SURNAME_READINGS.get(han[0])
    if surname is not None:
        out[0] = (surname, *[r for r in out[0] if r != surname])


def with_record_pinyin(
    han: str, own: str | None, computed: list[tuple[str, ...]]
) -> list[tuple[str, ...]]:
    """Prefer the record's own pinyin (CNMARC $A/$9) when it gives one syllable per character."""
    if not own:
        return computed
    letters = "".join(ch if ch.isalpha() else " " for ch in own.lower()).split()
    given: list[str] = []
    for word in letters:
        split = split_syllables(word)
        if split is None:
            return computed
        given.extend(split)
    if len(given) != len(han) or len(computed) != len(han):
        return computed
    return [(g, *[r for r in rs if r != g]) for g, rs in zip(given, computed, strict=True)]


@lru_cache(maxsize=65536)
def split_syllables(letters: str) -> tuple[str, ...] | None:
    """Letters typed run together, cut into pinyin syllables (longest first), or None.

    "hongloumeng" -> (hong, lou, meng); "changan" -> (chang, an); "china" ->
    (chi, na); "python" -> None.
    """
    known = syllables()
    longest = _longest_syllable()

    def cut(start: int) -> tuple[str, ...] | None:
        if start == len(letters):
            return ()
        for end in range(min(len(letters), start + longest), start, -1):
            piece = letters[start:end]
            if piece in known:
                rest = cut(end)
                if rest is not None:
                    return (piece, *rest)
        return None

    if not letters.isascii() or not letters.isalpha() or len(letters) > 60:
        return None
    return cut(0)
