"""/staff/search: how far the index lags, which engine answers, and documents in each index."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue

from app.accounts import Role
from app.auth import allow
from app.db import get_session
from app.search import runtime
from catalog.search.elastic import UNAVAILABLE
from catalog.search.embedded import EmbeddedBackend

bp = Blueprint("search_admin", __name__, url_prefix="/staff")


@bp.route("/search")
@allow(Role.NETWORK_ADMIN, Role.CATALOGUER)
def search_status() -> ResponseReturnValue:
    """Index lag (outbox rows waiting, age of the oldest) and the engines' state."""
    session = get_session()
    search = runtime()
    status = search.status(session)
    es_count = None
    if search.elasticsearch is not None and status["status"] != "down":
        try:
            es_count = search.elasticsearch.count()
        except UNAVAILABLE:
            es_count = None
    return render_template("staff/search.html", status=status,
                           embedded_count=EmbeddedBackend(session).count(),
                           es_count=es_count)  # fmt: skip
