"""The figures dashboard (统计看板) for the network administrator and for each branch.

An administrator sees the whole network; a branch librarian their subtree only. Every
chart has its table under it and a download (CSV or XLSX from /api/v1/figures, or CSV of
the table itself for the monthly and idle-copy tables).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

from flask import Blueprint, Response, flash, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from app.accounts import Role
from app.auth import allow, current_principal
from app.charts import against_target, bars, line
from app.db import get_session
from catalog.db import utcnow
from circulation.desk import local_date
from circulation.figures.compute import (
    ATTRIBUTIONS,
    BASELINE_TITLES,
    BASELINE_VOLUMES,
    TARGET_PER_CAPITA,
    compute_many,
)
from circulation.figures.series import idle_by_point, loans_by_month
from circulation.tree import NetworkTree

bp = Blueprint("staff_figures", __name__, url_prefix="/staff/figures")


def _period() -> tuple[dt.date, dt.date]:
    """The period asked for; this year so far (with a message saying why) when it is wrong."""
    today = local_date(utcnow())
    try:
        start = dt.date.fromisoformat(request.args.get("from") or f"{today.year}-01-01")
        end = dt.date.fromisoformat(request.args.get("to") or today.isoformat())
        if end < start or (end - start).days > 3660:
            raise ValueError
    except ValueError:
        flash(_("Give the period as two dates like 2026-12-31, the first not after the last, "
                "at most ten years apart; showing this year so far."), "error")  # fmt: skip
        start, end = dt.date(today.year, 1, 1), today
    return start, end


def _months() -> int:
    raw = request.args.get("months", "12")
    return int(raw) if raw.isdigit() and 1 <= int(raw) <= 120 else 12


def _scope() -> int | None:
    principal = current_principal()
    assert principal is not None
    return principal.scope_point_id if principal.role == Role.BRANCH_LIBRARIAN else None


@bp.route("/")
@allow(Role.NETWORK_ADMIN, Role.BRANCH_LIBRARIAN)
def dashboard() -> ResponseReturnValue:
    session = get_session()
    start, end = _period()
    attribution = request.args.get("attribution", "point")
    attribution = attribution if attribution in ATTRIBUTIONS else "point"
    months = _months()
    within = _scope()
    tree = NetworkTree.load(session)
    tables = compute_many(session, start, end, ("point", "branch", "region"), attribution, within)
    points, groups, regions = tables["point"], tables["branch"], tables["region"]
    in_scope = [i for row in points for i in row.point_ids]
    monthly = loans_by_month(session, start, end, in_scope, attribution)
    idle = idle_by_point(session, local_date(utcnow()), months)
    idle_rows = sorted(
        ({"code": tree[i].code, "name": tree[i].name, "idle": idle.get(i, (0, 0))[0],
          "held": idle.get(i, (0, 0))[1]} for i in in_scope),
        key=lambda r: -r["idle"],
    )  # fmt: skip
    bookshops = [r for r in points if r.unit == "village_bookshop" and not r.meets_baseline]
    download = request.args.get("download")
    if download in ("months", "idle"):
        return _csv(download, monthly, idle_rows, start, end)
    below, met = _("below the target"), _("at or above the target")
    per_capita = [r.holdings_per_capita for r in points]
    charts = {
        "points": against_target(
            _("Holdings per capita by point (target %(t)s)", t=TARGET_PER_CAPITA),
            [r.name for r in points], per_capita, TARGET_PER_CAPITA, below, met,
        ),
        "regions": against_target(
            _("Holdings per capita by region (target %(t)s)", t=TARGET_PER_CAPITA),
            [r.code for r in regions], [r.holdings_per_capita for r in regions],
            TARGET_PER_CAPITA, below, met,
        ),
        "months": line(_("Loans per month"), list(monthly), {_("Loans"): list(monthly.values())}),
        "groups": bars(
            _("Turnover and through-borrowing share by branch group"),
            [r.name for r in groups],
            {_("Turnover"): [r.turnover for r in groups],
             _("Through-borrowing share"): [r.through_share for r in groups]},
        ),
        "patrons": bars(
            _("Registered patrons by branch group"), [r.name for r in groups],
            {_("Registered patrons"): [r.registered_patrons for r in groups]},
        ),
        "idle": bars(
            _("Idle copies by point (no loan in %(n)s months)", n=months),
            [r["name"] for r in idle_rows[:20]],
            {_("Idle copies"): [r["idle"] for r in idle_rows[:20]]},
        ),
    }  # fmt: skip
    return render_template(
        "staff/figures.html",
        start=start,
        end=end,
        attribution=attribution,
        attributions=ATTRIBUTIONS,
        months=months,
        charts=charts,
        points=points,
        groups=groups,
        regions=regions,
        monthly=monthly,
        idle_rows=idle_rows,
        bookshops=bookshops,
        target=TARGET_PER_CAPITA,
        baseline=(BASELINE_VOLUMES, BASELINE_TITLES),
        scoped=within is not None,
    )


def _csv(
    name: str,
    monthly: dict[str, int],
    idle_rows: list[dict[str, Any]],
    start: dt.date,
    end: dt.date,
) -> Response:
    text = io.StringIO()
    writer = csv.writer(text)
    if name == "months":
        writer.writerow(["月份 Month", f"外借册次 Loans ({start}–{end})"])
        writer.writerows(monthly.items())
    else:
        writer.writerow(["代码 Code", "名称 Name", "呆滞图书 Idle copies", "藏书量 Copies held"])
        writer.writerows([r["code"], r["name"], r["idle"], r["held"]] for r in idle_rows)
    disposition = {"Content-Disposition": f'attachment; filename="{name}.csv"'}
    return Response(("\ufeff" + text.getvalue()).encode("utf-8"), mimetype="text/csv",
                    headers=disposition)  # fmt: skip
