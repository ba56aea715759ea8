"""`tongjie patrons import FILE.csv`: all or nothing, idempotent, personal data never stored raw."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select, text

from app.db import get_session
from circulation.patrons import Patron, patron_by_card
from tests.conftest import DATA

RAW_ID = "11010519491231002X"


def run(app, path: Path):
    return app.test_cli_runner().invoke(args=["patrons", "import", str(path)])


def rows(app) -> list[tuple]:
    with app.app_context():
        return [
            (
                p.card,
                p.name,
                p.category,
                p.home_point_id,
                p.pin_hash,
                p.id_number_hash,
                p.phone,
                p.expires_on,
                p.updated_at,
            )
            for p in get_session().scalars(select(Patron).order_by(Patron.card))
        ]


def test_import_creates_patrons_with_hashed_pin_and_masked_id(app, network):
    result = run(app, DATA / "patrons.csv")
    assert result.exit_code == 0, result.output + result.stderr
    assert "3 created, 0 updated, 0 unchanged" in result.output
    with app.app_context():
        session = get_session()
        patron = patron_by_card(session, "2000000001")
        assert patron.name == "王秀英"
        assert patron.home_point.code == "QX01"
        assert patron.check_pin("123456") and not patron.check_pin("654321")
        assert patron.id_number_masked == "110***********002X"
        assert RAW_ID not in patron.id_number_hash
        assert patron_by_card(session, "2000000002").id_number_masked is None
        assert patron_by_card(session, "2000000003").pin_hash is None
        dump = " ".join(
            str(v) for row in session.execute(text("SELECT * FROM patrons")) for v in row
        )
        assert RAW_ID not in dump and "123456" not in dump


def test_reimport_changes_nothing(app, network):
    run(app, DATA / "patrons.csv")
    before = rows(app)
    result = run(app, DATA / "patrons.csv")
    assert "0 created, 0 updated, 3 unchanged" in result.output
    assert rows(app) == before


def test_changed_pin_is_rehashed(app, network, tmp_path):
    run(app, DATA / "patrons.csv")
    changed = (DATA / "patrons.csv").read_text(encoding="utf-8").replace(",2468,", ",9753,")
    (tmp_path / "p.csv").write_text(changed, encoding="utf-8")
    result = run(app, tmp_path / "p.csv")
    assert "0 created, 1 updated, 2 unchanged" in result.output
    with app.app_context():
        assert patron_by_card(get_session(), "2000000002").check_pin("9753")


def test_bad_rows_refused_with_line_numbers_and_nothing_imported(app, network, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "card,name,category,home,pin,id_number,phone,expires\n"
        "3000000001,赵六,adult,QX,1234,,,\n"
        "3000000002,,visitor,NOWHERE,12,110105194912310021,abc,31/12/2027\n"
        "3000000001,赵六,adult,QX,1234,,,\n",
        encoding="utf-8",
    )
    result = run(app, bad)
    assert result.exit_code == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert errors == [
        "error: bad.csv:3: name: required",
        "error: bad.csv:3: category: 'visitor' is not one of adult, child, senior, student, staff, institution, other",
        "error: bad.csv:3: home: no service point with code 'NOWHERE'; import the network first",
        "error: bad.csv:3: pin: must be 4-8 digits (or empty for no self-service PIN)",
        "error: bad.csv:3: id_number: not a valid 18-character resident ID number"
        " (check digit or date wrong)",
        "error: bad.csv:3: phone: must be 5-20 digits, '+' or '-'",
        "error: bad.csv:3: expires: '31/12/2027' is not a date like 2027-12-31",
        "error: bad.csv:4: card: duplicate card 3000000001 (first on line 2)",
    ]
    assert rows(app) == []
    assert "110105194912310021" not in result.stderr + result.output
