"""/healthz: database, search and index lag, for monitoring and the OPAC's degraded notice."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app.auth import public
from app.db import get_session
from app.migrate import current_revision, head_revision
from app.search import runtime

bp = Blueprint("health", __name__)


def database_status() -> dict[str, Any]:
    engine = current_app.extensions["tongjie.engine"]
    try:
        get_session().execute(text("SELECT 1"))
        revision = current_revision(engine)
    except SQLAlchemyError as exc:
        return {"status": "down", "dialect": engine.dialect.name, "reason": type(exc).__name__}
    head = head_revision()
    return {
        "status": "ok" if revision == head else "needs_upgrade",
        "dialect": engine.dialect.name,
        "revision": revision,
        "head": head,
    }


@bp.route("/healthz")
@public
def healthz() -> ResponseReturnValue:
    """200 while the database answers; search trouble only makes the status "degraded"."""
    database = database_status()
    if database["status"] == "ok":
        search = runtime().status(get_session())
    else:
        search = {"backend": runtime().engine_name, "status": "unknown"}
    overall = "ok" if database["status"] == search["status"] == "ok" else "degraded"
    if database["status"] == "down":
        overall = "down"
    body = {"status": overall, "database": database, "search": search}
    return jsonify(body), 503 if overall == "down" else 200
