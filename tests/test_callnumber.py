"""Shelf order of call numbers (索书号排架): the rules of catalog/callnumber.py and docs/labels.md."""

from __future__ import annotations

import random

import pytest

from catalog.callnumber import (
    call_number_sort_key,
    is_well_formed,
    normalise_call_number,
    split_call_number,
)


def shelf(*call_numbers: str) -> list[str]:
    return sorted(call_numbers, key=call_number_sort_key)


@pytest.mark.parametrize(
    ("first", "second"),
    [
        # class letters, T subclasses after T and in letter order
        ("A81/2", "B0/1"),
        ("I247.5/1", "J0/1"),
        ("T-65/1", "TB1/1"),
        ("TB1/1", "TD1/1"),
        ("TN9/1", "TP3/1"),
        ("TV1/1", "U1/1"),
        ("X1/1", "Z1/1"),
        # digits as a decimal fraction, digit by digit
        ("I24/9", "I247/1"),
        ("I247/9", "I247.5/1"),
        ("I247.5/99", "I247.57/1"),
        ("I247.57/99", "I248/1"),
        ("F124/26", "F2/1"),
        ("O13/5", "O4/1"),
        ("K825.38/1", "K825.4/1"),
        ("TP311.13/1", "TP312/1"),
        ("I207.227.42/1", "I207.23/1"),
        # letters-only class before the same letter with digits
        ("Z/5", "Z1/1"),
        # auxiliaries: none first, then + : - ( = " <, all before a longer number
        ("I247/9", "I247-53/1"),
        ("I247+I248/1", "I247:G4/1"),
        ("I247:G4/1", "I247-53/1"),
        ("I247-53/1", "I247(2)/1"),
        ("I247(2)/1", "I247=6/1"),
        ("I247=6/1", 'I247"1"/1'),
        ('I247"1"/1', "I247<115>/1"),
        ("I247<115>/1", "I247.5/1"),
        ("I247-53/1", "I247.5/1"),
        ("I247.5-53/9", "I247.51/1"),
        # auxiliary digits digit by digit too
        ("TP3-43/1", "TP3-5/1"),
        ("TP3-5/1", "TP3-53/1"),
        ("K29(2)/1", "K29(71)/1"),
        ("K29(71)/1", "K29(711)/1"),
        ("F279:F83/1", "F279:F830/1"),
        ("F279:F830/1", "F279:F830-53/1"),
        ("F279:3/1", "F279:F1/1"),
        # book number: none, then numeric, then numerically
        ("I247.5", "I247.5/1"),
        ("I247.5/2", "I247.5/10"),
        ("I247.5/10", "I247.5/123"),
        ("I247.5/99", "I247.5/100"),
        # 种次号 before 著者号; 著者号 by letters then digit by digit
        ("I247.5/999", "I247.5/A1"),
        ("I247.5/L52", "I247.5/L521"),
        ("I247.5/L521", "I247.5/L53"),
        ("I247.5/L9", "I247.5/W1"),
        ("I247.57/N2338", "I247.57/N234"),
        # volume and copy suffixes, numerically, after the bare book number
        ("TP312/45", "TP312/45-1"),
        ("TP312/45-2", "TP312/45-10"),
        ("TP312/45-10", "TP312/46"),
        ("TP312/45:2", "TP312/45:10"),
        ("TP312/45(2)", "TP312/45(10)"),
        ("TP312/45-2", "TP312/45-2-1"),
        ("TP312/45-9-9", "TP312/45-10"),
        ("I247.5/123:上", "I247.5/123:中"),
        ("I247.5/123:中", "I247.5/123:下"),
        ("I247.5/123:9", "I247.5/123:上"),
        ("I247.5/123 v.2", "I247.5/123 v.10"),
        ("I247.5/123:第2册", "I247.5/123:第10册"),
        # the book number decides only within the same class number
        ("I247.5/999", "I247.51/1"),
        ("I247.5/W99", "I247.51/1"),
        # malformed after every well-formed one, then by text
        ("Z9/99999", ""),
        ("Z9/99999", "L123/1"),
        ("Z9/99999", "W12/3"),
        ("Z9/99999", "R/I247.5/123"),
        ("Z9/99999", "I247.5/abc?"),
        ("Z9/99999", "I247./1"),
        ("Z9/99999", "I247(2/1"),
        ("Z9/99999", "247.5/1"),
        ("Z9/99999", "TA1/1"),
        ("Z9/99999", "小说/1"),
        ("A1/x?", "B1/x?"),
    ],
)
def test_shelf_order_pairs(first: str, second: str) -> None:
    assert call_number_sort_key(first) < call_number_sort_key(second)
    assert shelf(second, first) == [first, second]


def test_a_whole_shelf_sorts_in_order() -> None:
    expected = [
        "F124/26",
        "I24/3",
        "I247/5",
        "I247-53/2",
        "I247.5/2",
        "I247.5/10",
        "I247.5/123",
        "I247.5/123-2",
        "I247.5/W37",
        "I247.57/8",
        "I248/1",
        "O13/2",
        "T-65/1",
        "TB1/4",
        "TP312/45",
        "TP312/45-2",
        "TP312/45-10",
        "TP312.8/1",
        "Z228/1",
        "",
        "??",
        "R/I247.5/123",
        "新书/12",
    ]
    shuffled = expected[:]
    random.Random(7).shuffle(shuffled)
    assert shelf(*shuffled) == expected


@pytest.mark.parametrize(
    ("written", "same_as"),
    [
        ("Ｉ２４７．５／１２３", "I247.5/123"),  # full-width, as typed with a Chinese IME
        ("i247.5/123", "I247.5/123"),
        (" I247.5 / 123 ", "I247.5/123"),
        ("I247.5\n123", "I247.5/123"),  # two lines of a spine label
        ("I247.5 123", "I247.5/123"),
        ("TP312/45－2", "TP312/45-2"),
        ("TP312/45—2", "TP312/45-2"),
        ("K29（2）/1", "K29(2)/1"),
        ("F279：F830/1", "F279:F830/1"),
    ],
)
def test_variants_of_writing_file_together(written: str, same_as: str) -> None:
    assert call_number_sort_key(written)[:3] == call_number_sort_key(same_as)[:3]
    assert is_well_formed(written)


def test_equal_keys_only_for_equal_text() -> None:
    assert call_number_sort_key("I247.5/26") != call_number_sort_key("I247.5/026")
    assert call_number_sort_key("I247.5/26") < call_number_sort_key("I247.5/27")
    assert call_number_sort_key("I247.5/026") < call_number_sort_key("I247.5/27")


@pytest.mark.parametrize(
    ("call_number", "parts"),
    [
        ("F124/26", ("F124", "26")),
        ("I247.5/123", ("I247.5", "123")),
        ("TP312/45-2", ("TP312", "45-2")),
        ("I247.57/8", ("I247.57", "8")),
        ("I247.57/N2338", ("I247.57", "N2338")),
        ("i247.5/w37", ("I247.5", "w37")),
        ("Ｆ１２４／２６", ("F124", "26")),
        ("I247.5\n123", ("I247.5", "123")),
        ("I247.5 123:上", ("I247.5", "123:上")),
        ("I247.5", ("I247.5", "")),
        ("R/I247.5/123", ("R", "I247.5/123")),
        ("", ("", "")),
        ("   ", ("", "")),
    ],
)
def test_split_call_number(call_number: str, parts: tuple[str, str]) -> None:
    assert split_call_number(call_number) == parts


@pytest.mark.parametrize(
    "call_number",
    [
        "F124/26",
        "I247.5/123",
        "TP312/45-2",
        "I247.57/8",
        "I247.5",
        "Z",
        "TP3-43/1",
        "K825.38=5/2",
        "F279:F830-53/7",
        "I247+I248/1",
        'D633"1"/2',
        "G250<115>/3",
        "I247.5/W37",
        "I247.5/123 v.2",
        "I247.5/123:第2册",
    ],
)
def test_well_formed(call_number: str) -> None:
    assert is_well_formed(call_number)


@pytest.mark.parametrize(
    "call_number",
    [
        "",
        "/",
        "123/4",
        "L1/1",
        "M1/1",
        "W1/1",
        "Y1/1",
        "TA1/1",
        "TW1/1",
        "IB1/1",
        "I247./1",
        "I247..5/1",
        "I247(2/1",
        "I247-/1",
        "I247:/1",
        "I247/abc",
        "I247/1?",
        "I247/12/3",
        "I247/ABCD1",
        "小说/1",
        "I247.5/123:附录",
    ],
)
def test_malformed(call_number: str) -> None:
    assert not is_well_formed(call_number)


@pytest.mark.parametrize(
    "odd",
    [
        None,
        123,
        4.5,
        b"I247/1",
        "\x00",
        "🙂/🙂",
        "I" * 10_000,
        "(" * 500,
        ":" * 500,
        "I247" + ":G4" * 200,
        "/".join(["1"] * 100),
        "\u200bI247/1",
        "I247/" + "9" * 400,
    ],
)
def test_never_raises_and_keys_always_compare(odd: object) -> None:
    key = call_number_sort_key(odd)  # type: ignore[arg-type]
    split_call_number(odd)  # type: ignore[arg-type]
    others = [call_number_sort_key(c) for c in ("I247/1", "", "L1/1", "TP312/45-2:上 v.3")]
    sorted([key, *others])


def test_keys_of_many_random_strings_compare() -> None:
    rng = random.Random(2026)
    alphabet = 'ABIKTPZL0123456789./-:()="<>+ 上中下册vc第'
    samples = [
        "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 14))) for _ in range(3000)
    ]
    ordered = sorted(samples, key=call_number_sort_key)
    flags = [is_well_formed(s) for s in ordered]
    assert flags == sorted(flags, reverse=True)  # every well-formed one before any malformed one


def test_normalise_call_number() -> None:
    assert normalise_call_number("  Ｉ２４７．５／１２３  ") == "I247.5/123"
    assert normalise_call_number(None) == ""
    assert normalise_call_number("I247.5  /\t123") == "I247.5 / 123"
