"""Rotation pages (图书流转): batches, their lists and slips, and the planner.

The planner's proposal is a form: the administrator unticks what should stay, and one
button turns what is ticked into rotation batches, one per sending and receiving point.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from app.accounts import Role
from app.auth import allow, current_principal
from app.db import get_session
from app.errors import language
from app.search_labels import clc_class_name
from catalog.db import utcnow
from catalog.errors import DomainError
from catalog.network import all_points, point_by_code
from circulation.desk import Desk, local_date
from circulation.errors import InvalidCirculationInput
from circulation.rotation.batches import (
    batches,
    close_if_back,
    create_batch,
    get_batch,
    recall_batch,
    send_batch,
)
from circulation.rotation.planner import plan
from circulation.tree import NetworkTree

bp = Blueprint("staff_rotation", __name__, url_prefix="/staff/rotation")
STAFF = (Role.NETWORK_ADMIN, Role.BRANCH_LIBRARIAN)


def _desk(code: str | None = None) -> Desk:
    from app.desk import desk_for

    principal = current_principal()
    assert principal is not None
    return desk_for(get_session(), principal, code)


def _say_left(left: list) -> None:
    for item in left[:20]:
        flash(f"{item.barcode}: {item.en if language().startswith('en') else item.zh}", "error")


@bp.route("/")
@allow(*STAFF)
def index() -> ResponseReturnValue:
    session = get_session()
    return render_template("staff/rotation.html", batches=batches(session),
                           points=all_points(session), desk=_desk())  # fmt: skip


@bp.route("/", methods=["POST"])
@allow(*STAFF)
def create() -> ResponseReturnValue:
    session = get_session()
    try:
        to = point_by_code(session, request.form.get("to", ""))
        if to is None:
            raise InvalidCirculationInput("choose the receiving point", "请选择接收服务点")
        recall_on = _date(request.form.get("recall_on") or "")
        batch, left = create_batch(session, _desk(), request.form.get("name", ""), to,
                                   request.form.get("barcodes", "").split(), recall_on)  # fmt: skip
        session.commit()
        _say_left(left)
        return redirect(url_for("staff_rotation.show", batch_id=batch.id))
    except DomainError as exc:
        session.rollback()
        flash(exc.message(language()), "error")
        return redirect(url_for("staff_rotation.index"))


def _date(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text) if text else None
    except ValueError as exc:
        raise InvalidCirculationInput(
            f"'{text}' is not a date like 2027-03-31", f"“{text}”不是形如 2027-03-31 的日期"
        ) from exc


@bp.route("/<int:batch_id>")
@allow(*STAFF)
def show(batch_id: int) -> ResponseReturnValue:
    session = get_session()
    batch = get_batch(session, batch_id)
    if close_if_back(session, _desk(), batch):
        session.commit()
    paper = request.args.get("paper")
    template = (
        "staff/rotation_slip.html" if paper in ("a4", "80mm") else "staff/rotation_batch.html"
    )
    return render_template(template, batch=batch, tree=NetworkTree.load(session), paper=paper)


@bp.route("/<int:batch_id>/<action>", methods=["POST"])
@allow(*STAFF)
def act(batch_id: int, action: str) -> ResponseReturnValue:
    session = get_session()
    try:
        batch = get_batch(session, batch_id)
        if action == "send":
            _say_left(send_batch(session, _desk(), batch))
            flash(_("Batch sent: the copies are in transit."), "ok")
        elif action == "recall":
            recall_batch(session, _desk(), batch)
            flash(_("Batch recalled: copies go home as they are scanned."), "ok")
        session.commit()
    except DomainError as exc:
        session.rollback()
        flash(exc.message(language()), "error")
    return redirect(url_for("staff_rotation.show", batch_id=batch_id))


@bp.route("/plan", methods=["GET", "POST"])
@allow(Role.NETWORK_ADMIN)
def planner() -> ResponseReturnValue:
    """The planner's proposals; POST turns the ticked lines into batches (PLAN-1..5)."""
    session = get_session()
    tree = NetworkTree.load(session)
    if request.method == "POST":
        return _batches_from_plan()
    months = request.args.get("months", "12")
    months_n = int(months) if months.isdigit() and 1 <= int(months) <= 120 else 12
    result = plan(session, local_date(utcnow()), months_n)
    return render_template(
        "staff/rotation_plan.html", plan=result, tree=tree, months=months_n, clc=clc_class_name
    )


def _batches_from_plan() -> ResponseReturnValue:
    """One batch per (sending point, receiving point) from the ticked ``line`` values."""
    groups: dict[tuple[str, str], list[str]] = defaultdict(list)
    for value in request.form.getlist("line"):
        parts = value.split("|")
        if len(parts) == 3:
            groups[(parts[0], parts[1])].append(parts[2])
    db = get_session()
    made = 0
    try:
        for (source, target), barcodes in sorted(groups.items()):
            to = point_by_code(db, target)
            if to is None:
                continue
            name = _("Rotation %(date)s to %(point)s", date=local_date(utcnow()), point=to.name)
            left = create_batch(db, _desk(source), name, to, barcodes)[1]
            _say_left(left)
            made += 1
        db.commit()
    except DomainError as exc:
        db.rollback()
        flash(exc.message(language()), "error")
        return redirect(url_for("staff_rotation.planner"))
    flash(_("%(n)s batches planned: check and send them.", n=made), "ok")
    return redirect(url_for("staff_rotation.index"))
