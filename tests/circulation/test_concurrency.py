"""Many desks at the same moment, on PostgreSQL (API-3, HOLD-2, HOLD-4).

Fifty threads, each with its own connection, released together by a barrier:
the database, not Python, decides who wins.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app.migrate import scratch_postgres_database, upgrade
from catalog.db import make_engine
from catalog.errors import DomainError
from catalog.network import point_by_code
from catalog.network_import import import_network
from catalog.records import Copy, Record
from circulation.checkin import checkin
from circulation.desk import Desk
from circulation.hold_service import place_hold
from circulation.ledger import LedgerEntry
from circulation.loans import checkout
from circulation.models import Hold, HoldStatus, Loan
from circulation.patrons import Patron
from tests.conftest import DATA, require_service

THREADS = 50


@pytest.fixture
def pg() -> Iterator[sessionmaker[Session]]:
    url, drop = scratch_postgres_database(require_service("postgres"))
    upgrade(url)
    engine = make_engine(url, pool_size=THREADS, max_overflow=5)
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    with factory() as session:
        import_network(session, DATA / "network.csv")
        session.commit()
    yield factory
    engine.dispose()
    drop()


def desk(session: Session, code: str) -> Desk:
    point = point_by_code(session, code)
    assert point is not None
    return Desk(point, "staff:load")


def together(factory: sessionmaker[Session], work: Callable[[Session, int], object]) -> Counter:
    """Run ``work(session, n)`` in THREADS threads at once; count outcomes by error code."""
    barrier = threading.Barrier(THREADS)
    outcomes: Counter = Counter()
    lock = threading.Lock()

    def run(n: int) -> None:
        with factory() as session:
            barrier.wait()
            try:
                work(session, n)
                session.commit()
                outcome = "ok"
            except DomainError as exc:
                session.rollback()
                outcome = exc.code
            except Exception as exc:  # any other failure is a test failure, reported by name
                session.rollback()
                outcome = type(exc).__name__
            with lock:
                outcomes[outcome] += 1

    threads = [threading.Thread(target=run, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def test_api_3_fifty_desks_lend_one_copy_exactly_one_loan(pg):
    with pg() as session:
        record = Record(title="平凡的世界")
        point = point_by_code(session, "QX")
        session.add(Copy(barcode="31001", record=record, home_point=point, current_point=point))
        for n in range(THREADS):
            session.add(
                Patron(card=f"2{n:04d}", name=f"读者{n}", category="adult", home_point=point)
            )
        session.commit()

    outcomes = together(pg, lambda s, n: checkout(s, desk(s, "QX"), f"2{n:04d}", "31001"))
    assert outcomes["ok"] == 1, outcomes
    assert set(outcomes) <= {"ok", "on_loan_to_other", "concurrent_change"}, outcomes
    with pg() as session:
        assert session.scalar(select(func.count(Loan.id))) == 1


def test_hold_2_hold_4_fifty_returns_trap_one_hold_exactly_once(pg):
    with pg() as session:
        record = Record(title="活着")
        central = point_by_code(session, "QX")
        for n in range(THREADS):
            session.add(Copy(barcode=f"3{n:04d}", record=record, home_point=central,
                             current_point=central))  # fmt: skip
            session.add(Patron(card=f"2{n:04d}", name=f"读者{n}", category="adult",
                               home_point=central))  # fmt: skip
        waiting = Patron(card="29999", name="等书的人", category="adult", home_point=central)
        session.add(waiting)
        session.commit()
        for n in range(THREADS):
            checkout(session, desk(session, "QX"), f"2{n:04d}", f"3{n:04d}")
        hold = place_hold(session, desk(session, "QX"), waiting, record,
                          point_by_code(session, "QX02"))  # fmt: skip
        assert hold.status == HoldStatus.WAITING
        session.commit()

    outcomes = together(pg, lambda s, n: checkin(s, desk(s, "QX"), f"3{n:04d}"))
    assert outcomes == Counter({"ok": THREADS}), outcomes
    with pg() as session:
        hold = session.scalar(select(Hold))
        assert hold.status == HoldStatus.IN_TRANSIT and hold.copy_id is not None
        assert session.scalar(select(func.count(Loan.id)).where(Loan.returned_at.is_(None))) == 0
        in_transit = session.scalar(select(func.count(Copy.id)).where(Copy.status == "in_transit"))
        assert in_transit == 1


def test_api_3_1_fifty_desks_return_one_copy_one_loan_closed_one_transit(pg):
    """The copy's look-up reads its loan and transit with it: a desk that waited for the
    copy's lock sees the loan the first desk closed and the transit it opened, not the
    ones there were when its query began (circulation/in_hand.py)."""
    from circulation.models import Transit

    with pg() as session:
        central = point_by_code(session, "QX")
        session.add(Copy(barcode="31001", record=Record(title="白鹿原"), home_point=central,
                         current_point=central))  # fmt: skip
        session.add(Patron(card="20001", name="读者", category="adult", home_point=central))
        session.commit()
        checkout(session, desk(session, "QX"), "20001", "31001")
        session.commit()

    outcomes = together(pg, lambda s, n: checkin(s, desk(s, "QX01"), "31001"))
    assert outcomes == Counter({"ok": THREADS}), outcomes  # the later ones: "send it on"
    with pg() as session:
        loan = session.scalar(select(Loan))
        assert loan.returned_at is not None and loan.return_point.code == "QX01"
        transits = session.scalars(select(Transit)).all()
        assert [(t.to_point.code, t.closed_at) for t in transits] == [("QX", None)]
        checkins = session.scalar(
            select(func.count(LedgerEntry.id)).where(LedgerEntry.event == "checkin")
        )
        assert checkins == 1


def test_api_3_1_checkout_8_1_a_hold_targeting_the_copy_while_the_desk_waits_is_requeued(pg):
    """A reader's hold targets the copy (and locks it) while a desk's checkout of that copy
    waits for the lock: the checkout sees the new hold and sends it to the queue again
    (CHECKOUT-8.1), instead of leaving it promised a copy that is now on loan."""
    import time

    with pg() as session:
        central = point_by_code(session, "QX")
        record = Record(title="围城")
        session.add(Copy(barcode="31001", record=record, home_point=central,
                         current_point=central))  # fmt: skip
        borrower = Patron(card="20001", name="借书人", category="adult", home_point=central)
        waiting = Patron(card="29999", name="预约人", category="adult", home_point=central)
        session.add_all([borrower, waiting])
        session.commit()
        record_id, waiting_id = record.id, waiting.id

    locked, lent = threading.Event(), {}

    def hold_then_wait() -> None:
        with pg() as session:
            hold = place_hold(session, desk(session, "QX"), session.get(Patron, waiting_id),
                              session.get(Record, record_id), point_by_code(session, "QX"))  # fmt: skip
            assert hold.status == HoldStatus.TARGETED
            locked.set()
            time.sleep(0.5)  # the checkout below is waiting for the copy's lock now
            session.commit()

    def lend() -> None:
        locked.wait()
        with pg() as session:
            receipt = checkout(session, desk(session, "QX"), "20001", "31001")
            session.commit()
            lent["notes"] = [n.code for n in receipt.notes]

    threads = [threading.Thread(target=hold_then_wait), threading.Thread(target=lend)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert "hold_requeued" in lent["notes"], lent
    with pg() as session:
        hold = session.scalar(select(Hold))
        assert hold.status == HoldStatus.WAITING and hold.copy_id is None
