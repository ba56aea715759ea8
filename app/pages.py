"""Server-rendered pages: the network front page, sign-in and language choice."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy import func, select

from app.accounts import authenticate
from app.auth import allow, public
from app.db import get_session
from catalog.holdings import copies_held_by_point, per_capita
from catalog.network import all_points, ordered_tree
from catalog.records import Record

bp = Blueprint("pages", __name__)

HOLDINGS_TARGET = 0.8  # 人均藏书 target of the assessment


@bp.route("/")
@public
def index() -> ResponseReturnValue:
    """The network at a glance: every point, its copies and holdings per capita."""
    session_ = get_session()
    points = all_points(session_)
    held = copies_held_by_point(session_)
    rows: list[dict[str, Any]] = []
    for depth, point in ordered_tree(points):
        copies = held.get(point.id, 0)
        rows.append(
            {
                "depth": depth,
                "point": point,
                "copies": copies,
                "per_capita": per_capita(copies, point.population),
            }
        )
    total_copies = sum(held.values())
    total_population = sum(p.population for p in points)
    return render_template(
        "index.html",
        rows=rows,
        total_copies=total_copies,
        total_population=total_population,
        total_per_capita=per_capita(total_copies, total_population),
        records=session_.scalar(select(func.count(Record.id))) or 0,
        target=HOLDINGS_TARGET,
    )


def safe_next(target: str | None) -> str:
    """Only follow a local path after sign-in, never another site."""
    if target and target.startswith("/") and not urlsplit(target).netloc:
        return target
    return url_for("pages.index")


@bp.route("/login", methods=["GET", "POST"])
@public
def login() -> ResponseReturnValue:
    if request.method == "POST":
        user = authenticate(
            get_session(), request.form.get("username", ""), request.form.get("password", "")
        )
        if user is None:
            flash(_("Wrong user name or password."), "error")
            return render_template("login.html"), 401
        lang = session.get("lang")
        session.clear()
        session["user_id"] = user.id
        if lang:
            session["lang"] = lang
        return redirect(safe_next(request.args.get("next")))
    return render_template("login.html")


@bp.route("/logout", methods=["POST"])
@allow()
def logout() -> ResponseReturnValue:
    session.pop("user_id", None)
    return redirect(url_for("pages.index"))
