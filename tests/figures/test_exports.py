"""FIG-11, FIG-12, FIG-14, PLAN-1..5 and PRIVACY-3, on the scripted year of conftest.py."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import openpyxl
from sqlalchemy import select

from catalog.network import point_by_code
from circulation.figures.series import idle_by_point, loans_by_month
from circulation.rotation.planner import plan
from tests.conftest import bearer
from tests.figures.conftest import YEAR, copy, idle_stock


def test_fig_14_export_csv_and_xlsx_from_the_command_line(app, year, tmp_path):
    runner = app.test_cli_runner()
    out = runner.invoke(args=["figures", "export", "--from", "2026-01-01", "--to", "2026-12-31",
                              "--by", "branch"])  # fmt: skip
    assert out.exit_code == 0, out.output
    rows = list(csv.reader(io.StringIO(out.output.lstrip("\ufeff"))))
    header, body = rows[0], rows[1:]
    assert header[0] == "代码 Code"
    assert header[5] == "人均藏书（册/人） Holdings per capita (2026-12-31)"
    assert "按办理地点 where it happened" in header[10] and "2026-01-01–2026-12-31" in header[10]
    assert [r[0] for r in body] == ["QX", "QX01", "QX02"]
    assert body[1][4] == "10" and body[1][10] == "3"  # QX01's group: copies held, loans
    target = tmp_path / "2026.xlsx"
    made = runner.invoke(args=["figures", "export", "--from", "2026-01-01", "--to", "2026-12-31",
                               "--by", "point", "--format", "xlsx", "--attribution", "copy_home",
                               "--output", str(target)])  # fmt: skip
    assert made.exit_code == 0, made.output
    sheet = openpyxl.load_workbook(target).active
    values = list(sheet.values)
    assert values[0][0] == "代码 Code" and "按图书所属馆" in values[0][10]
    by_code = {row[0]: row for row in values[1:]}
    assert by_code["QX01V01"][4] == 6 and by_code["QX01V01"][10] == 2  # numbers as numbers
    assert by_code["QX01V01"][2] == "农家书屋"
    bad = runner.invoke(args=["figures", "export", "--from", "2026-13-01", "--to", "2026-12-31"])
    assert bad.exit_code != 0 and "not a date like 2026-12-31" in bad.output


def test_fig_14_the_api_gives_json_csv_xlsx_and_a_branch_only_its_subtree(client, year, make_token):
    admin = bearer(make_token("network_admin"))
    query = "/api/v1/figures?from=2026-01-01&to=2026-12-31&by=point"
    body = client.get(query, headers=admin).json
    assert [r["code"] for r in body["rows"]] == ["QX", "QX01", "QX01V01", "QX02", "QX02W01"]
    assert body["rows"][2]["loans"] == 2 and body["attribution"] == "point"
    xlsx = client.get(query + "&format=xlsx", headers=admin)
    assert xlsx.headers["Content-Disposition"].endswith('.xlsx"')
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.data)).active
    assert sheet.cell(row=4, column=1).value == "QX01V01"
    branch = bearer(make_token("branch_librarian", scope="QX01"))
    mine = client.get(query, headers=branch).json
    assert [r["code"] for r in mine["rows"]] == ["QX01", "QX01V01"]
    wrong = client.get("/api/v1/figures?from=2026-12-31&to=2026-01-01", headers=admin)
    assert wrong.status_code == 422
    assert client.get(query).status_code == 401


def test_fig_11_idle_copies_not_lent_in_n_months(year):
    idle = idle_by_point(year, dt.date(2027, 3, 1), months=12)
    qx = point_by_code(year, "QX").id
    # QX holds 7 copies today (10, less 3 on rotation and 1 withdrawn in 2027, plus
    # none new); QX-0 was lent in March 2026, so 5 of its 6 held copies are idle.
    assert idle[qx] == (5, 6)
    assert idle_by_point(year, dt.date(2026, 7, 1), months=1)[qx][0] == 6


def test_fig_12_loans_per_month(year):
    months = loans_by_month(year, *YEAR)
    assert list(months)[:3] == ["2026-01", "2026-02", "2026-03"] and len(months) == 12
    assert (months["2026-03"], months["2026-04"], months["2026-05"], months["2026-06"]) == (
        1,
        1,
        1,
        1,
    )
    village = point_by_code(year, "QX01V01").id
    assert sum(loans_by_month(year, *YEAR, [village]).values()) == 2


def test_plan_1_plan_2_plan_3_plan_4_plan_5_idle_surplus_copies_for_points_below_the_target(
    year, circ
):
    db = year
    idle_stock(db, circ, 40, ("S", "I", "TP"))  # the village needs 16 for 0.8, holds 6
    result = plan(db, dt.date(2027, 3, 1))
    [village] = [p for p in result.proposals if p.to_id == point_by_code(db, "QX01V01").id]
    assert village.deficit == 10 and len(village.lines) == 10  # PLAN-1
    qx = point_by_code(db, "QX").id
    assert {ln.from_id for ln in village.lines} == {qx}  # PLAN-2
    assert all(ln.barcode.startswith("IDLE") for ln in village.lines)  # idle ones only
    assert len({ln.title for ln in village.lines}) == 10  # PLAN-4: a title once
    classes = {ln.top_class for ln in village.lines}
    assert classes <= {"S", "I", "TP"} and len(classes) == 3  # PLAN-3: a mix
    assert (village.held_before, village.held_after) == (6, 16)  # PLAN-5
    assert village.per_capita(village.held_after) == 0.8
    assert village.titles_after == village.titles_before + 10


def test_plan_2_the_central_library_gives_its_idle_copies_even_below_the_target(year, circ):
    idle_stock(year, circ, 4, qx_population=100_000)  # the county town: far below 0.8
    result = plan(year, dt.date(2027, 3, 1))
    qx = point_by_code(year, "QX").id
    assert qx not in {p.to_id for p in result.proposals}  # never a destination
    [village] = result.proposals
    assert sorted(ln.barcode for ln in village.lines) == [f"IDLE{n:02d}" for n in range(4)]
    assert result.given == {qx: 4}


def test_plan_5_the_planner_page_turns_ticked_lines_into_batches(app, client, year, circ):
    from circulation.rotation.models import RotationBatch
    from tests.conftest import csrf_token, login

    idle_stock(year, circ, 5, classes=("I", "S"))
    app.test_cli_runner().invoke(args=["users", "add", "boss", "--role", "network_admin",
                                       "--password", "password-123"])  # fmt: skip
    login(client, "boss", "password-123")
    page = client.get("/staff/rotation/plan").get_data(as_text=True)
    assert 'value="QX|QX01V01|IDLE00"' in page
    assert "<td>I 文学</td>" in page and "<td>S 农业科学</td>" in page  # the class, named
    before = set(year.scalars(select(RotationBatch.id)))  # the scripted year has one
    token = csrf_token(client, "/staff/rotation/plan")
    client.post("/staff/rotation/plan", data={"csrf_token": token,
                                              "line": ["QX|QX01V01|IDLE00", "QX|QX01V01|IDLE01"]})  # fmt: skip
    year.expire_all()
    [batch] = year.scalars(select(RotationBatch).where(RotationBatch.id.not_in(before)))
    assert batch.to_point.code == "QX01V01" and len(batch.copies) == 2


def test_fig_2_fig_3_a_branch_dashboard_shows_its_subtree_and_each_attribution(app, client, year):
    from tests.conftest import login

    app.test_cli_runner().invoke(args=["users", "add", "wang", "--role", "branch_librarian",
                                       "--scope", "QX01", "--password", "password-123"])  # fmt: skip
    login(client, "wang", "password-123")
    base = "/staff/figures/?from=2026-01-01&to=2026-12-31"
    page = client.get(base).get_data(as_text=True)
    assert 'data-code="QX01V01"' in page and 'data-code="QX02"' not in page
    assert "您负责的服务网络" in page and page.count("<svg") >= 5
    months = client.get(base + "&download=months")
    assert months.headers["Content-Disposition"].endswith('months.csv"')
    rows = months.data.decode("utf-8-sig").splitlines()
    assert rows[0].startswith("月份 Month") and len(rows) == 13
    by_home = client.get(base + "&attribution=copy_home&download=months")
    assert by_home.data != months.data  # QX01's copies lent elsewhere count for it by home
    idle = client.get(base + "&download=idle").data.decode("utf-8-sig")
    assert idle.splitlines()[0].startswith("代码 Code") and "QX02" not in idle
    wrong = client.get("/staff/figures/?from=2026-12-31&to=2026-01-01&months=x")
    assert wrong.status_code == 200 and "第一个日期不能晚于第二个" in wrong.get_data(as_text=True)


def test_privacy_3_fines_keep_their_reader(year, circ):
    from circulation.fines import charge
    from circulation.ledger import LedgerEntry
    from circulation.models import Fine, FineKind
    from circulation.patrons import Patron
    from circulation.privacy import anonymise
    from tests.figures.conftest import at

    patron = year.scalar(select(Patron).where(Patron.card == "20002"))
    charge(year, circ.desk("QX", at(2026, 6, 1)), patron, FineKind.DAMAGED, Decimal("12"))
    year.commit()
    anonymise(year, at(2030, 1, 1))
    year.commit()
    assert year.scalar(select(Fine)).patron_id == patron.id
    charged = year.scalar(select(LedgerEntry).where(LedgerEntry.event == "fine_charged"))
    assert charged.patron_id == patron.id
    assert copy(year, "QX-5").home_point.code == "QX01V01"
