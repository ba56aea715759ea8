"""Barcode schemes (条码规则): sequences, Luhn check digits, used values skipped, locking, the CLI."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from stdnum import luhn

import catalog.barcodes  # noqa: F401  (registers the model until app/models.py imports it)
from app.migrate import upgrade
from catalog.barcodes import (
    BarcodeScheme,
    InvalidScheme,
    SchemeExhausted,
    default_scheme,
    get_scheme,
    next_barcodes,
    set_scheme,
    validate_barcode,
)
from catalog.db import make_engine
from catalog.network import point_by_code
from catalog.records import Copy, Record
from circulation.patrons import Patron
from tests.conftest import require_service, scratch_postgres_database


def with_check(body: str) -> str:
    return body + luhn.calc_check_digit(body)


def add_copy(session: Session, barcode: str, point: str = "QX") -> Copy:
    home = point_by_code(session, point)
    assert home is not None
    record = Record(title="测试书", authors=[], authors_pinyin=[], subjects=[], isbns=[], extra={})
    copy = Copy(barcode=barcode, record=record, home_point=home, current_point=home)
    session.add(copy)
    session.flush()
    return copy


def add_patron(session: Session, card: str, point: str = "QX") -> Patron:
    home = point_by_code(session, point)
    assert home is not None
    patron = Patron(card=card, name="读者", category="adult", home_point_id=home.id)
    session.add(patron)
    session.flush()
    return patron


# -- defaults and sequences ----------------------------------------------------


def test_defaults_are_ten_digits_with_luhn_copies_3_cards_2(db):
    copies = next_barcodes(db, "copy", 3)
    cards = next_barcodes(db, "card", 2)
    assert copies == [with_check(f"3{n:08d}") for n in (1, 2, 3)]
    assert cards == [with_check("200000001"), with_check("200000002")]
    for value in copies + cards:
        assert len(value) == 10 and value.isdigit()
        luhn.validate(value)  # raises if the check digit were wrong
    assert copies[0] == "3000000012"


def test_numbers_continue_where_the_last_call_stopped_and_are_stored(db):
    first = next_barcodes(db, "copy", 2)
    db.commit()
    second = next_barcodes(db, "copy", 2)
    db.commit()
    assert [v[1:9] for v in first + second] == ["00000001", "00000002", "00000003", "00000004"]
    stored = db.scalar(select(BarcodeScheme).where(BarcodeScheme.name == "copy"))
    assert (stored.prefix, stored.width, stored.check_digit, stored.next_value) == (
        "3",
        10,
        "luhn",
        5,
    )
    assert db.scalar(select(BarcodeScheme).where(BarcodeScheme.name == "card")) is None


def test_a_rollback_gives_the_numbers_back(db):
    taken = next_barcodes(db, "card", 3)
    db.rollback()
    assert next_barcodes(db, "card", 3) == taken


def test_get_scheme_without_a_row_is_the_default_and_stores_nothing(db):
    scheme = get_scheme(db, "card")
    assert (scheme.prefix, scheme.width, scheme.check_digit, scheme.next_value) == (
        "2",
        10,
        "luhn",
        1,
    )
    assert scheme.id is None
    assert db.scalar(select(BarcodeScheme)) is None


# -- skipping used values ----------------------------------------------------------


def test_values_used_by_copies_or_cards_are_skipped(db, network):
    add_copy(db, with_check("300000002"))
    add_copy(db, with_check("300000003"))
    add_patron(db, with_check("300000005"))  # a card that looks like a copy barcode
    assert next_barcodes(db, "copy", 3) == [
        with_check("300000001"),
        with_check("300000004"),
        with_check("300000006"),
    ]
    assert next_barcodes(db, "copy", 1) == [with_check("300000007")]


def test_card_numbers_skip_cards_already_issued(db, network):
    add_patron(db, with_check("200000001"))
    add_patron(db, with_check("200000002"))
    assert next_barcodes(db, "card", 1) == [with_check("200000003")]


def test_a_long_run_of_used_values_is_crossed(db, network):
    set_scheme(db, "copy", prefix="31", check_digit="none", next_value=1)
    for n in range(1, 1201):  # more than one chunk of candidates
        add_copy(db, f"31{n:08d}")
    assert next_barcodes(db, "copy", 2) == ["3100001201", "3100001202"]
    assert get_scheme(db, "copy").next_value == 1203


def test_many_at_once_across_chunks_with_gaps(db, network):
    set_scheme(db, "copy", prefix="9", width=8, check_digit="none")
    for n in (2, 499, 500, 501, 777):
        add_copy(db, f"9{n:07d}")
    taken = next_barcodes(db, "copy", 1000)
    assert len(taken) == len(set(taken)) == 1000
    numbers = [int(v[1:]) for v in taken]
    assert numbers == sorted(numbers)
    assert not {2, 499, 500, 501, 777} & set(numbers)
    assert numbers[-1] == 1005
    assert get_scheme(db, "copy").next_value == 1006


# -- the scheme itself ---------------------------------------------------------------


def test_set_scheme_changes_only_what_is_given(db):
    scheme = set_scheme(db, "copy", prefix="31", next_value=100)
    assert (scheme.prefix, scheme.width, scheme.check_digit, scheme.next_value) == (
        "31",
        10,
        "luhn",
        100,
    )
    assert next_barcodes(db, "copy", 1) == [with_check("310000100")]
    scheme = set_scheme(db, "copy", check_digit="none")
    assert next_barcodes(db, "copy", 1) == ["3100000101"]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"prefix": "T", "check_digit": "luhn"}, "Luhn check digit needs a prefix of digits only"),
        ({"prefix": "3-1"}, "prefix must be up to 16 digits or letters"),
        ({"prefix": "1" * 17}, "prefix must be up to 16"),
        ({"width": 3}, "width must be 4 to 32"),
        ({"width": 33}, "width must be 4 to 32"),
        ({"prefix": "123456789", "width": 10}, "no room for a sequence number"),
        ({"next_value": 10**8}, "does not fit in the width"),
        ({"next_value": -1}, "cannot be negative"),
        ({"check_digit": "mod11"}, "luhn or none"),
    ],
)
def test_set_scheme_refuses_bad_values(db, changes, message):
    with pytest.raises(InvalidScheme) as error:
        set_scheme(db, "copy", **changes)
    assert message in error.value.message_en
    assert error.value.message_zh


def test_letters_are_allowed_without_a_check_digit(db):
    set_scheme(db, "copy", prefix="qx", width=8, check_digit="none", next_value=7)
    assert next_barcodes(db, "copy", 2) == ["QX000007", "QX000008"]


def test_unknown_scheme_names_are_refused(db):
    with pytest.raises(InvalidScheme) as error:
        next_barcodes(db, "book", 1)
    assert "copy or card" in error.value.message_en


@pytest.mark.parametrize("count", [0, -1, 10_001])
def test_count_must_be_reasonable(db, count):
    with pytest.raises(InvalidScheme):
        next_barcodes(db, "copy", count)


def test_an_exhausted_scheme_says_so(db):
    set_scheme(db, "card", prefix="99", width=4, check_digit="luhn", next_value=8)  # one digit left
    assert next_barcodes(db, "card", 2) == [with_check("998"), with_check("999")]
    with pytest.raises(SchemeExhausted) as error:
        next_barcodes(db, "card", 1)
    assert error.value.http_status == 409
    assert "新的前缀或位数" in error.value.message_zh


# -- validation ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "valid"),
    [
        ("3000000012", True),
        (with_check("312345678"), True),
        ("3000000015", False),  # wrong check digit
        ("2000000014", False),  # another scheme's prefix
        ("300000001", False),  # too short
        ("30000000120", False),  # too long
        ("30000A0014", False),
        ("３000000014", False),  # full-width digit
        ("", False),
    ],
)
def test_validate_barcode_against_the_default_copy_scheme(text, valid):
    assert validate_barcode(default_scheme("copy"), text) is valid


def test_validate_barcode_without_check_digit():
    scheme = BarcodeScheme(name="copy", prefix="QX", width=8, check_digit="none", next_value=1)
    assert validate_barcode(scheme, "QX000123")
    assert not validate_barcode(scheme, "QY000123")
    assert not validate_barcode(scheme, "QX00012")
    assert not validate_barcode(scheme, None)  # type: ignore[arg-type]


def test_every_number_handed_out_validates(db):
    for name in ("copy", "card"):
        scheme = get_scheme(db, name)
        for value in next_barcodes(db, name, 200):
            assert validate_barcode(scheme, value), value
            assert luhn.is_valid(value)


# -- the CLI --------------------------------------------------------------------------------


def test_cli_sets_and_shows_a_scheme(app):
    runner = app.test_cli_runner()
    shown = runner.invoke(args=["barcodes", "scheme", "copy"])
    assert shown.exit_code == 0, shown.output
    assert "copy: prefix 3, width 10, check digit luhn, next 1 (3000000012)" in shown.output
    assert "default" in shown.output

    changed = runner.invoke(
        args=[
            "barcodes",
            "scheme",
            "copy",
            "--prefix",
            "31",
            "--width",
            "10",
            "--check",
            "luhn",
            "--next",
            "1",
        ]
    )
    assert changed.exit_code == 0, changed.output
    assert (
        f"copy: prefix 31, width 10, check digit luhn, next 1 ({with_check('310000001')})"
        in changed.output
    )

    reserved = runner.invoke(args=["barcodes", "reserve", "copy", "3"])
    assert reserved.exit_code == 0, reserved.output
    assert reserved.output.split() == [with_check(f"31000000{n}") for n in (1, 2, 3)]
    again = runner.invoke(args=["barcodes", "scheme", "copy"])
    assert "next 4" in again.output and "default" not in again.output


def test_cli_refuses_a_bad_scheme_and_changes_nothing(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["barcodes", "scheme", "card", "--prefix", "R", "--check", "luhn"])
    assert result.exit_code == 1
    assert "Luhn check digit needs a prefix of digits only" in result.stderr
    assert "前缀只能是数字" in result.stderr
    shown = runner.invoke(args=["barcodes", "scheme", "card"])
    assert "prefix 2," in shown.output and "default" in shown.output


def test_cli_rejects_unknown_names_and_choices(app):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["barcodes", "scheme", "book"]).exit_code == 2
    assert runner.invoke(args=["barcodes", "scheme", "copy", "--check", "mod11"]).exit_code == 2


# -- two cataloguers at once: each backend, its own database ---------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def own_database(request, tmp_path) -> Iterator[sessionmaker[Session]]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'concurrent.db'}"
        drop = None
    else:
        url, drop = scratch_postgres_database(require_service("postgres"))
    upgrade(url)
    engine = make_engine(url)
    yield sessionmaker(bind=engine, expire_on_commit=False)
    engine.dispose()
    if drop is not None:
        drop()


@pytest.mark.parametrize("scheme_exists", [False, True])
def test_a_second_caller_waits_for_the_first_to_commit(own_database, scheme_exists):
    if scheme_exists:
        with own_database() as session:
            set_scheme(session, "copy", next_value=1)
            session.commit()
    first = own_database()
    taken_first = next_barcodes(first, "copy", 3)  # the scheme's row is now locked
    result: dict[str, list[str]] = {}

    def second_caller() -> None:
        with own_database() as session:
            result["taken"] = next_barcodes(session, "copy", 2)
            session.commit()

    thread = threading.Thread(target=second_caller)
    thread.start()
    thread.join(0.7)
    assert thread.is_alive(), "the second caller should wait for the first transaction"
    first.commit()
    first.close()
    thread.join(20)
    assert not thread.is_alive()
    assert taken_first == [with_check(f"30000000{n}") for n in (1, 2, 3)]
    assert result["taken"] == [with_check(f"30000000{n}") for n in (4, 5)]


def test_a_waiting_caller_gets_the_numbers_a_rollback_gave_back(own_database):
    first = own_database()
    taken_first = next_barcodes(first, "card", 2)
    result: dict[str, list[str]] = {}

    def second_caller() -> None:
        with own_database() as session:
            result["taken"] = next_barcodes(session, "card", 2)
            session.commit()

    thread = threading.Thread(target=second_caller)
    thread.start()
    thread.join(0.5)
    assert thread.is_alive()
    first.rollback()
    first.close()
    thread.join(20)
    assert result["taken"] == taken_first


def test_many_callers_at_once_never_share_a_number(own_database):
    errors: list[BaseException] = []
    taken: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(6)

    def cataloguer() -> None:
        try:
            start.wait()
            for _ in range(4):
                with own_database() as session:
                    values = next_barcodes(session, "copy", 3)
                    session.commit()
                with lock:
                    taken.extend(values)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=cataloguer) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert len(taken) == len(set(taken)) == 72
    assert sorted(taken) == [with_check(f"3{n:08d}") for n in range(1, 73)]
