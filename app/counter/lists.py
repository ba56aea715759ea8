"""Lists for the desk: pull list, hold shelf, transits in and out by delivery run, and slips."""

from __future__ import annotations

from flask import render_template, request
from flask.typing import ResponseReturnValue

from app.auth import allow
from app.counter import COUNTER_ROLES, bp, desk_point, points_for_choice
from app.db import get_session
from catalog.errors import NotFound
from circulation.hold_service import get_hold
from circulation.holds import hold_shelf as shelf_holds
from circulation.holds import pull_list as pull_lines
from circulation.models import Transit
from circulation.receipts import PatronRef
from circulation.transits import transit_list
from circulation.tree import NetworkTree

PAPERS = ("a4", "80mm")


def paper() -> str:
    chosen = request.args.get("paper", "")
    return chosen if chosen in PAPERS else "a4"


@bp.route("/pull-list")
@allow(*COUNTER_ROLES)
def pull_list() -> ResponseReturnValue:
    """HOLD-11: copies to take off this point's shelves, in shelf order; printable."""
    point = desk_point()
    return render_template("counter/pull_list.html", lines=pull_lines(get_session(), point),
                           point=point, points=points_for_choice(), paper=paper())  # fmt: skip


@bp.route("/hold-shelf")
@allow(*COUNTER_ROLES)
def hold_shelf() -> ResponseReturnValue:
    point = desk_point()
    return render_template("counter/hold_shelf.html", holds=shelf_holds(get_session(), point),
                           point=point, points=points_for_choice())  # fmt: skip


@bp.route("/transits")
@allow(*COUNTER_ROLES)
def transits() -> ResponseReturnValue:
    """TRANSIT-6: copies coming in or going out, grouped by delivery run; slips per run."""
    direction = "out" if request.args.get("direction") == "out" else "in"
    point = desk_point()
    db = get_session()
    lines = transit_list(db, NetworkTree.load(db), point, direction)
    runs: dict[str, list] = {}
    for line in lines:
        runs.setdefault(line.run_code, []).append(line)
    run = request.args.get("run")
    if run is not None:
        return render_template("counter/transit_run_slip.html", run=run,
                               lines=runs.get(run, []), point=point, direction=direction,
                               paper=paper())  # fmt: skip
    return render_template("counter/transits.html", runs=runs, direction=direction, point=point,
                           points=points_for_choice())  # fmt: skip


@bp.route("/slips/hold/<int:hold_id>")
@allow(*COUNTER_ROLES)
def hold_slip(hold_id: int) -> ResponseReturnValue:
    """A slip to put in a book on the hold shelf (80 mm): who, until when; the name masked."""
    hold = get_hold(get_session(), hold_id)
    who = PatronRef.of(hold.patron) if hold.patron else None
    return render_template("counter/hold_slip.html", hold=hold, who=who, paper="80mm")


@bp.route("/slips/transit/<int:transit_id>")
@allow(*COUNTER_ROLES)
def transit_slip(transit_id: int) -> ResponseReturnValue:
    """A slip to put in a book going in the van (80 mm): from, to, what for."""
    transit = get_session().get(Transit, transit_id)
    if transit is None:
        raise NotFound(f"no transit {transit_id}", f"没有编号为 {transit_id} 的在途记录")
    return render_template("counter/transit_slip.html", transit=transit, paper="80mm")
