"""A scripted year on the small network, and its figures computed by hand (docs/figures.md).

清溪县 (tests/data/network.csv): QX central (50,000 residents), branches QX01 (6,000) and
QX02 (4,000), the village bookshop QX01V01 (1,200) under QX01, the worksite reading room
QX02W01 (300) under QX02. The year asked about is 2026.

Stock: QX 10 copies and QX01V01 3 copies from 2025; QX01 4 and QX02 2 copies added in 2026;
one QX02 copy withdrawn in May 2026; three QX copies lent to QX01V01 by a rotation batch
in April 2026. After the year (which must not change it): a QX copy withdrawn and a QX01
copy transferred to QX02 in 2027.

Readers: 王一 (QX01), 李二 (QX01V01), 张三 (QX02, card expired mid-2026), 赵四 (QX, joined
in 2027).

Loans in 2026: 王一 borrows a QX copy at QX01 and returns it at QX02 (通借通还 both ways);
李二 borrows a rotated copy at QX01V01, renews it, returns it there; 张三 borrows and returns
a QX02 copy at QX02. In 2025 one loan, and at 00:30 on 1 January 2027 (Beijing time; still
2026 in UTC) one loan: neither is in 2026.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from catalog.records import Copy
from circulation.figures.compute import compute
from tests.figures.conftest import YEAR, at, copy


def table(db, by: str, attribution: str = "point", period=YEAR) -> dict[str, dict]:
    return {row.code: row.as_dict() for row in compute(db, *period, by=by, attribution=attribution)}


def pick(rows: dict[str, dict], *names: str) -> dict[str, tuple]:
    return {code: tuple(row[n] for n in names) for code, row in rows.items()}


def test_fig_4_fig_5_held_at_the_end_of_the_year_whatever_happened_after(year):
    rows = table(year, "point")
    assert pick(rows, "copies_held", "copies_added") == {
        "QX": (7, 0),  # 10, less 3 lent to the village for the season; the 2027 withdrawal is later
        "QX01": (4, 4),  # the 2027 transfer is later
        "QX01V01": (6, 0),  # 3 of its own and 3 on rotation
        "QX02": (1, 2),  # 2 added, 1 withdrawn in May
        "QX02W01": (0, 0),
    }
    assert rows["QX01V01"]["holdings_per_capita"] == round(6 / 1200, 3)
    assert rows["QX01"]["new_per_capita"] == round(4 / 6000, 4)
    assert rows["QX02W01"]["holdings_per_capita"] == 0.0 and rows["QX"]["population"] == 50000


def test_fig_3_fig_6_attribution_point_where_it_happened(year):
    rows = table(year, "point", "point")
    assert pick(rows, "checkouts", "renewals", "loans", "returns") == {
        "QX": (0, 0, 0, 0),
        "QX01": (1, 0, 1, 0),
        "QX01V01": (1, 1, 2, 1),
        "QX02": (1, 0, 1, 2),
        "QX02W01": (0, 0, 0, 0),
    }


def test_fig_3_attribution_copy_home(year):
    rows = table(year, "point", "copy_home")
    assert pick(rows, "checkouts", "renewals", "loans", "returns") == {
        "QX": (1, 0, 1, 1),
        "QX01": (0, 0, 0, 0),
        "QX01V01": (1, 1, 2, 1),  # the rotated copy was the village's while it was there
        "QX02": (1, 0, 1, 1),
        "QX02W01": (0, 0, 0, 0),
    }


def test_fig_3_attribution_patron_home(year):
    rows = table(year, "point", "patron_home")
    assert pick(rows, "checkouts", "renewals", "loans", "returns") == {
        "QX": (0, 0, 0, 0),
        "QX01": (1, 0, 1, 1),
        "QX01V01": (1, 1, 2, 1),
        "QX02": (1, 0, 1, 1),
        "QX02W01": (0, 0, 0, 0),
    }


def test_fig_3_own_copies_loans_are_always_given(year):
    for attribution in ("point", "copy_home", "patron_home"):
        rows = table(year, "point", attribution)
        assert pick(rows, "own_copies_loans")["QX"] == (1,)  # lent at QX01, still QX's loan
        assert pick(rows, "own_copies_loans")["QX01V01"] == (2,)


def test_fig_7_fig_8_fig_9_turnover_patrons_and_through_share(year):
    rows = table(year, "point")
    assert pick(rows, "through_events", "all_events", "through_share") == {
        "QX": (0, 0, None),
        "QX01": (1, 1, 1.0),  # lent a QX copy
        "QX01V01": (0, 2, 0.0),
        "QX02": (1, 3, 0.333),  # took a QX copy back
        "QX02W01": (0, 0, None),
    }
    assert rows["QX01V01"]["turnover"] == round(2 / 6, 3)
    assert pick(rows, "registered_patrons") == {
        "QX": (0,), "QX01": (1,), "QX01V01": (1,), "QX02": (0,), "QX02W01": (0,),
    }  # fmt: skip


def test_fig_2_fig_10_branch_groups_regions_and_the_network(year):
    branches = table(year, "branch")
    assert set(branches) == {"QX", "QX01", "QX02"}
    assert pick(branches, "population", "copies_held", "loans", "own_copies_loans") == {
        "QX": (50000, 7, 0, 1),
        "QX01": (7200, 10, 3, 2),
        "QX02": (4300, 1, 1, 1),
    }
    assert branches["QX01"]["through_share"] == round(1 / 3, 3)
    regions = table(year, "region")
    assert pick(regions, "population", "copies_held") == {
        "431199": (50000, 7), "431199100": (7200, 10), "431199101": (4300, 1),
    }  # fmt: skip
    [network] = table(year, "network").values()
    assert (network["population"], network["copies_held"], network["loans"]) == (61500, 18, 4)
    assert network["village_bookshops"] == 1 and network["bookshops_meeting_baseline"] == 0


def test_fig_1_local_days_in_beijing_time(year):
    january = (dt.date(2027, 1, 1), dt.date(2027, 1, 31))
    rows = table(year, "point", period=january)
    assert rows["QX01"]["checkouts"] == 1
    assert table(year, "point")["QX01"]["checkouts"] == 1  # and not twice in 2026


def snapshot(db) -> list[tuple]:
    from circulation.figures.aggregates import CirculationDay

    return sorted(
        (r.day, r.event, r.dimension, r.point_id, r.count)
        for r in db.scalars(select(CirculationDay))
    )


def every_table(db) -> dict:
    return {(by, a): table(db, by, a) for by in ("point", "branch", "region", "network")
            for a in ("point", "copy_home", "patron_home")}  # fmt: skip


def test_fig_13_rebuild_from_the_ledger_equals_what_was_kept_on_the_way(year):
    from circulation.figures.aggregates import rebuild

    kept = snapshot(year)
    by_point = [row for row in kept if row[2] == "point"]
    assert sum(row[-1] for row in by_point) == 10  # 5 checkouts, 1 renewal, 4 returns, 3 years
    through = [row for row in kept if row[2] == "through"]
    assert sum(row[-1] for row in through) == 2  # QX-0 lent at QX01 and back at QX02
    rebuild(year)
    year.commit()
    assert snapshot(year) == kept


def test_fig_13_counts_are_written_at_commit_and_dropped_by_a_rollback(year):
    from circulation.figures.aggregates import count_event

    kept = snapshot(year)
    count_event(year, "checkout", at(2026, 7, 1), point("QX01", year), None, None)
    year.rollback()
    year.commit()
    assert snapshot(year) == kept  # the rolled-back event left no count behind
    count_event(year, "checkout", at(2026, 7, 1), point("QX01", year), None, None)
    count_event(year, "checkout", at(2026, 7, 1), point("QX01", year), None, None)
    year.commit()
    added = sorted(set(snapshot(year)) - set(kept))
    assert [(row[1], row[2], row[4]) for row in added] == [
        ("checkout", "copy_home", 2), ("checkout", "patron_home", 2), ("checkout", "point", 2),
        ("checkout", "through", 2)]  # fmt: skip


def point(code: str, db) -> int:
    from catalog.network import point_by_code

    return point_by_code(db, code).id


def test_fig_13_the_migration_counts_a_ledger_written_before_it(app, year):
    """A database with circulation before the figures' migration gets the same daily counts
    and last loan days from it as if they had been kept all along."""
    from app.migrate import downgrade, upgrade

    kept = snapshot(year)
    lent = sorted(year.execute(select(Copy.barcode, Copy.last_lent_on)).all())
    assert any(day for _barcode, day in lent)
    year.close()
    app.extensions["tongjie.engine"].dispose()
    url = app.config["DATABASE_URL"]
    try:
        downgrade(url, "0005")  # back to before the figures: the ledger and loans stay
    finally:
        upgrade(url)
    assert snapshot(year) == kept
    assert sorted(year.execute(select(Copy.barcode, Copy.last_lent_on)).all()) == lent


def test_privacy_1_figures_stay_the_same_when_old_loans_forget_their_reader(year):
    from circulation.ledger import LedgerEntry
    from circulation.models import Loan
    from circulation.privacy import anonymise

    before = every_table(year)
    forgotten = anonymise(year, at(2027, 1, 1))
    year.commit()
    assert forgotten.loans == 4  # the 2025 loan and the three of 2026; 2027's is still out
    assert year.scalar(select(Loan).where(Loan.patron_id.is_not(None))).copy.barcode == "QX01-0"
    old = year.scalars(select(LedgerEntry).where(LedgerEntry.occurred_at < at(2027, 1, 1)))
    kept = [e.copy_id for e in old if e.patron_id is not None]
    assert kept == [copy(year, "QX01-0").id]  # the loan still out keeps its reader (PRIVACY-2)
    assert every_table(year) == before


def test_privacy_2_open_loans_keep_their_reader(year):
    from circulation.ledger import LedgerEntry
    from circulation.privacy import anonymise

    anonymise(year, at(2030, 1, 1))
    year.commit()
    out = year.scalar(select(LedgerEntry).where(LedgerEntry.event == "checkout",
                                                LedgerEntry.occurred_at >= at(2026, 12, 31)))  # fmt: skip
    assert out.patron_id is not None


def test_fig_10_titles_on_a_past_day_undo_the_moves_and_withdrawals_after_it(db, network):
    """A village bookshop's titles (藏书品种) at the end of 2026, when in 2027 one title's copy
    went to the branch, another title's two copies were withdrawn and a third title came."""
    from catalog.network import point_by_code
    from circulation.figures.holdings import titles_by_point
    from circulation.lost import set_status
    from circulation.rotation.moves import transfer
    from tests.circulation.conftest import Circ

    net = Circ(db)
    a, b, c = net.record("甲书"), net.record("乙书"), net.record("丙书")
    for barcode, record, home in (("V-A", a, "QX01V01"), ("V-B1", b, "QX01V01"),
                                  ("V-B2", b, "QX01V01"), ("B-C", c, "QX01")):  # fmt: skip
        net.copy(barcode, record, home).date_added = dt.date(2025, 1, 1)
    db.commit()
    village = point_by_code(db, "QX01V01").id
    transfer(db, net.desk("QX01V01", at(2027, 1, 10)), copy(db, "V-A"), "QX01")
    for barcode in ("V-B1", "V-B2"):
        set_status(db, net.desk("QX01V01", at(2027, 1, 10)), copy(db, barcode), "withdrawn", "破损")
    transfer(db, net.desk("QX01", at(2027, 1, 11)), copy(db, "B-C"), "QX01V01")
    db.commit()
    assert titles_by_point(db, dt.date(2026, 12, 31), [village]) == {village: 2}  # 甲, 乙
    assert titles_by_point(db, dt.date(2027, 1, 10), [village]) == {}  # none left that day
    assert titles_by_point(db, dt.date(2027, 1, 11), [village]) == {village: 1}  # 丙
    end_2026 = table(db, "point", period=YEAR)["QX01V01"]
    assert (end_2026["titles"], end_2026["copies_held"]) == (2, 3)
