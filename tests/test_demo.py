"""`tongjie demo load`: the generated network loads through the CLI and the front page shows it."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from app.db import get_session
from catalog.records import Copy
from circulation.patrons import Patron, patron_by_card


def test_demo_loads_and_the_front_page_shows_the_network(app, client):
    result = app.test_cli_runner().invoke(args=["demo", "load", "--scale", "0.05"])
    assert result.exit_code == 0, result.output + result.stderr
    assert re.search(r"58 service points, \d+ records, \d+ copies, \d+ patrons", result.output)
    page = client.get("/").get_data(as_text=True)
    assert "清溪县图书馆" in page
    assert page.count('data-code="') == 58
    assert "农家书屋" in page and "未达标" in page
    with app.app_context():
        session = get_session()
        assert session.scalar(select(func.count(Copy.id))) > 1000
        patron = session.scalars(select(Patron)).first()
        assert patron.check_pin("123456")
        assert patron.id_number_masked and "*" in patron.id_number_masked
        assert patron_by_card(session, patron.card) is not None


def test_demo_refuses_a_database_with_a_network(app, network):
    result = app.test_cli_runner().invoke(args=["demo", "load", "--scale", "0.05"])
    assert result.exit_code == 1
    assert "the demo loads only into an empty one" in result.stderr
    again = app.test_cli_runner().invoke(args=["demo", "load", "--scale", "0.05", "--if-empty"])
    assert again.exit_code == 0 and "demo not loaded" in again.output


def test_demo_staff_can_sign_in(app, client):
    app.test_cli_runner().invoke(args=["demo", "load", "--scale", "0.05"])
    from tests.conftest import login

    login(client, "admin", "tongjie-demo")
    assert client.get("/api/v1/me").json["role"] == "network_admin"
    login(client, "branch", "tongjie-demo")
    assert client.get("/api/v1/me").json == {
        "name": "branch",
        "role": "branch_librarian",
        "scope": "QX01",
    }


def test_demo_with_real_library_of_congress_records(app):
    """--loc N catalogues real records through the normal import; copies spread over them."""
    import contextlib
    from pathlib import Path

    from app.demo.loc import first_records, loc_corpus

    cache = Path(app.instance_path) / "loc"
    corpus = Path(__file__).resolve().parents[1] / "bench-data" / "BooksAll.2016.part01.utf8"
    if corpus.exists() and not (cache / corpus.name).exists():
        cache.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileExistsError):  # the other backend's run got there first
            (cache / corpus.name).symlink_to(corpus)
    first_records(loc_corpus(cache), 200, cache)  # fetches pymarc's sdist when not cached
    result = app.test_cli_runner().invoke(args=["demo", "load", "--scale", "0.05", "--loc", "200"])
    assert result.exit_code == 0, result.output + result.stderr
    assert re.search(r"58 service points, 200 records, \d+ copies", result.output)
    with app.app_context():
        session = get_session()
        copies_per_record = session.scalar(select(func.count(Copy.id))) / 200
        assert copies_per_record > 1


def test_demo_has_a_year_of_circulation_made_through_the_service_functions(app):
    """Loans at every kind of point, returns elsewhere, holds picked up at village bookshops,
    open transits, overdue and blocked readers: all in the ledger, as a counter would make them."""
    from circulation.ledger import LedgerEntry
    from circulation.models import Hold, Loan, Transit

    result = app.test_cli_runner().invoke(args=["demo", "load", "--scale", "0.05"])
    assert result.exit_code == 0, result.output + result.stderr
    assert re.search(r"\d+ loans, \d+ returns", result.output)
    with app.app_context():
        session = get_session()
        from catalog.network import ServicePoint

        kinds = set(session.scalars(
            select(ServicePoint.kind).join(LedgerEntry, LedgerEntry.point_id == ServicePoint.id)
            .where(LedgerEntry.event == "checkout")
        ))  # fmt: skip
        assert {"central", "branch", "village_bookshop"} <= kinds
        elsewhere = session.scalar(
            select(func.count(LedgerEntry.id)).where(
                LedgerEntry.event == "checkin",
                LedgerEntry.point_id != LedgerEntry.copy_home_point_id,
            )
        )
        assert elsewhere > 0
        filled_at_villages = session.scalar(
            select(func.count(Hold.id))
            .join(ServicePoint, ServicePoint.id == Hold.pickup_point_id)
            .where(Hold.status == "filled", ServicePoint.kind == "village_bookshop")
        )
        assert filled_at_villages > 0
        assert session.scalar(select(func.count(Transit.id)).where(Transit.closed_at.is_(None)))
        open_loans = select(func.count(Loan.id)).where(Loan.returned_at.is_(None))
        assert session.scalar(open_loans) > 0
        assert session.scalar(select(func.count(LedgerEntry.id)).where(
            LedgerEntry.event == "patron_blocked")) == 3  # fmt: skip
        from circulation.rotation.models import RotationBatch

        batches = {b.status: b for b in session.scalars(select(RotationBatch))}
        assert set(batches) == {"sent", "planned"}  # this spring's went, next season's waits
        sent = batches["sent"]
        assert sent.copies and sent.from_point_id != sent.to_point_id
        assert all(item.received_at is not None for item in sent.copies)  # the van delivered
        assert {item.copy.home_point_id for item in sent.copies} == {sent.to_point_id}
