"""The demo network generator: deterministic, well-formed, and shaped for the network's figures.

No database: these tests read the pure generator only. The full-size network (scale 1.0) is
built once per module; everything else uses a small scale.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections import Counter, defaultdict

import pytest
from stdnum import isbn as stdnum_isbn
from stdnum.cn import ric

from app.demo.generate import (
    BASELINE_TITLES,
    BASELINE_VOLUMES,
    CATEGORIES,
    ITEM_TYPES,
    KINDS,
    LAST_ADDED,
    PER_CAPITA_TARGET,
    REFERENCE_DATE,
    DemoNetwork,
    generate_demo,
)

CLC_CLASSES = set("ABCDEFGHIJKNOPQRSTUVXZ")
SMALL = 0.05


@pytest.fixture(scope="module")
def full_timed() -> tuple[DemoNetwork, float]:
    started = time.perf_counter()
    net = generate_demo()
    return net, time.perf_counter() - started


@pytest.fixture(scope="module")
def full(full_timed: tuple[DemoNetwork, float]) -> DemoNetwork:
    return full_timed[0]


@pytest.fixture(scope="module")
def small() -> DemoNetwork:
    return generate_demo(seed=7, scale=SMALL)


def _holdings(net: DemoNetwork) -> tuple[Counter[str], dict[str, set[int]]]:
    volumes: Counter[str] = Counter()
    titles: dict[str, set[int]] = defaultdict(set)
    for c in net.copies:
        volumes[c.home] += 1
        titles[c.home].add(c.record)
    return volumes, titles


def test_same_seed_same_network_other_seed_other_network() -> None:
    assert generate_demo(seed=11, scale=SMALL) == generate_demo(seed=11, scale=SMALL)
    a, b = generate_demo(seed=11, scale=SMALL), generate_demo(seed=12, scale=SMALL)
    assert a.records != b.records
    assert a.patrons != b.patrons
    assert [p.name for p in a.points] != [p.name for p in b.points]


def test_codes_are_stable_across_seeds() -> None:
    a, b = generate_demo(seed=1, scale=SMALL), generate_demo(seed=2, scale=SMALL)
    stable = {"QX", "QX01", "QX10", "QX01V01", "QX01V03", "QXM01"}
    assert stable <= {p.code for p in a.points}
    assert stable <= {p.code for p in b.points}


def test_full_scale_is_fast(full_timed: tuple[DemoNetwork, float]) -> None:
    assert full_timed[1] < 5


def test_full_scale_counts(full: DemoNetwork) -> None:
    kinds = Counter(p.kind for p in full.points)
    assert kinds["central"] == 1
    assert 8 <= kinds["branch"] <= 12
    assert 35 <= kinds["village_bookshop"] <= 45
    assert 2 <= kinds["worksite_reading_room"] <= 5
    assert kinds["bookmobile"] == 1
    assert 2700 <= len(full.records) <= 3300
    assert 40_000 <= len(full.copies) <= 80_000
    assert 1800 <= len(full.patrons) <= 2200


def test_scale_shrinks_records_copies_patrons_not_points(
    full: DemoNetwork, small: DemoNetwork
) -> None:
    assert len(small.points) == len(full.points)
    assert len(small.records) == round(len(full.records) * SMALL)
    assert len(small.patrons) == round(len(full.patrons) * SMALL)
    assert len(small.copies) < len(full.copies) * SMALL * 2
    with pytest.raises(ValueError):
        generate_demo(scale=0)


@pytest.mark.parametrize("seed", [2026, 3])
def test_tree_is_valid(seed: int) -> None:
    net = generate_demo(seed=seed, scale=SMALL)
    by_code = {p.code: p for p in net.points}
    assert len(by_code) == len(net.points)
    roots = [p for p in net.points if p.parent is None]
    assert [r.kind for r in roots] == ["central"]
    root = roots[0]
    assert re.fullmatch(r"\d{6}", root.region)
    for p in net.points:
        assert p.kind in KINDS
        assert re.fullmatch(r"[1-7]{1,7}", p.opening_days)
        assert p.population >= 0
        assert p.name and p.address
        seen = {p.code}
        node = p
        while node.parent is not None:  # every chain reaches the root without a cycle
            node = by_code[node.parent]
            assert node.code not in seen
            seen.add(node.code)
        assert node is root
        assert p.region.startswith(root.region)
    for p in net.points:
        parent = by_code[p.parent] if p.parent else None
        if p.kind == "branch":
            assert parent is root and re.fullmatch(r"\d{9}", p.region)
        elif p.kind == "village_bookshop":
            assert parent is not None and parent.kind == "branch"
            assert re.fullmatch(r"\d{12}", p.region) and p.region.startswith(parent.region)
            assert 500 <= p.population <= 3000
        elif p.kind == "worksite_reading_room":
            assert parent is not None and parent.kind == "branch"
        elif p.kind == "bookmobile":
            assert parent is root and p.population == 0
    assert root.population >= 10_000
    assert all(1000 <= p.population < 10_000 for p in net.points if p.kind == "branch")


def test_identifiers_are_unique_and_shaped(full: DemoNetwork) -> None:
    barcodes = [c.barcode for c in full.copies]
    cards = [p.card for p in full.patrons]
    isbns = [r.isbn13 for r in full.records]
    assert len(set(barcodes)) == len(barcodes)
    assert len(set(cards)) == len(cards)
    assert len(set(isbns)) == len(isbns)
    assert len({p.id_number for p in full.patrons}) == len(full.patrons)
    assert all(re.fullmatch(r"\d{10}", b) for b in barcodes)
    assert all(re.fullmatch(r"\d{10}", c) for c in cards)
    assert not {b[0] for b in barcodes} & {c[0] for c in cards}


def test_isbns_have_valid_check_digits(full: DemoNetwork) -> None:
    for r in full.records:
        assert r.isbn13.startswith("9787")
        assert stdnum_isbn.validate(r.isbn13) == r.isbn13


def test_id_numbers_validate_and_match_home_and_category(full: DemoNetwork) -> None:
    regions = {p.code: p.region for p in full.points}
    ages = {"child": (3, 11), "student": (12, 22), "adult": (18, 59), "senior": (60, 100)}
    ages["staff"] = (18, 65)
    for p in full.patrons:
        assert ric.validate(p.id_number) == p.id_number
        assert p.id_number[:6] == regions[p.home][:6]
        born = ric.get_birth_date(p.id_number)
        age = (
            REFERENCE_DATE.year
            - born.year
            - ((REFERENCE_DATE.month, REFERENCE_DATE.day) < (born.month, born.day))
        )
        low, high = ages[p.category]
        assert low <= age <= high, (p.category, age)


def test_patron_fields(full: DemoNetwork) -> None:
    kinds = {p.code: p.kind for p in full.points}
    assert {p.category for p in full.patrons} == set(CATEGORIES)
    for p in full.patrons:
        assert kinds[p.home] != "bookmobile"
        assert re.fullmatch(r"\d{6}", p.pin)
        assert re.fullmatch(r"1(3|5|8)\d{9}", p.phone)
        assert 2 <= len(p.name) <= 4
        assert dt.timedelta(days=365) <= p.expires - REFERENCE_DATE <= dt.timedelta(days=5 * 366)


def test_record_fields(full: DemoNetwork) -> None:
    classes = set()
    for r in full.records:
        assert r.language == "chi"
        assert 1995 <= int(r.pub_year) <= 2025
        assert r.title and r.publisher and r.pub_place and r.subjects
        assert r.authors
        for name in r.authors:  # a person's name, or a corporate body for magazines and annals
            assert 2 <= len(name) <= 4 or name.endswith(("编辑部", "委员会")), name
        assert re.fullmatch(r"CNY\d+\.\d\d", r.price)
        assert re.fullmatch(r"[A-Z]{1,2}[\d.\-]*", r.clc)
        classes.add(r.clc[0])
    assert classes <= CLC_CLASSES
    assert len(classes) >= 20
    top = Counter(r.clc[0] for r in full.records).most_common(3)
    assert {"S", "I"} <= {c for c, _ in top}


def test_copies_are_consistent_with_records(full: DemoNetwork) -> None:
    points = {p.code for p in full.points}
    call_numbers: dict[int, str] = {}
    first = LAST_ADDED - dt.timedelta(days=6 * 366)
    for c in full.copies:
        record = full.records[c.record]
        assert c.home in points
        assert c.item_type in ITEM_TYPES
        assert c.price == record.price
        assert c.call_number == call_numbers.setdefault(c.record, c.call_number)
        clc, book_number = c.call_number.split("/")
        assert clc == record.clc and book_number.isdigit()
        assert first <= c.date_added <= LAST_ADDED
        assert c.date_added.year >= int(record.pub_year)
    by_call_number = Counter(call_numbers.values())
    assert max(by_call_number.values()) == 1  # one book number per record within a class
    assert len(call_numbers) == len(full.records)  # every record has a copy
    assert {c.item_type for c in full.copies} == set(ITEM_TYPES)


def test_holdings_per_capita_both_sides_of_target(full: DemoNetwork) -> None:
    volumes, _ = _holdings(full)
    for kind in ("branch", "village_bookshop"):
        ratios = [volumes[p.code] / p.population for p in full.points if p.kind == kind]
        assert any(r < PER_CAPITA_TARGET for r in ratios), kind
        assert any(r >= PER_CAPITA_TARGET for r in ratios), kind


def test_village_bookshops_both_sides_of_baseline(full: DemoNetwork) -> None:
    volumes, titles = _holdings(full)
    met = [
        volumes[p.code] >= BASELINE_VOLUMES and len(titles[p.code]) >= BASELINE_TITLES
        for p in full.points
        if p.kind == "village_bookshop"
    ]
    assert any(met) and not all(met)


def test_figures_shape_holds_for_another_seed() -> None:
    net = generate_demo(seed=1)
    volumes, titles = _holdings(net)
    assert len(net.copies) <= 80_000
    villages = [p for p in net.points if p.kind == "village_bookshop"]
    ratios = [volumes[p.code] / p.population for p in villages]
    assert min(ratios) < PER_CAPITA_TARGET <= max(ratios)
    met = [
        volumes[p.code] >= BASELINE_VOLUMES and len(titles[p.code]) >= BASELINE_TITLES
        for p in villages
    ]
    assert any(met) and not all(met)
