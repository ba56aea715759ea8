"""The reader's catalogue (OPAC): /search and /records/ID, open to anyone, Chinese first.

The reader's own service point ("my library") is kept in a cookie and put
first in every availability list. Query parameters that make no sense are
answered sensibly (page 1, relevance order) rather than with an error page:
a reader mistyping a URL should still see results.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, make_response, render_template, request
from flask.typing import ResponseReturnValue
from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.api.search import SearchArgsSchema, hit_payload, run_search
from app.auth import public
from app.db import get_session
from app.errors import language
from app.search_labels import facet_payload
from catalog import cataloguing
from catalog.network import all_points, point_by_code
from catalog.records import NOT_HELD, Copy
from catalog.search.service import FILTERS, InvalidSearch
from circulation.models import Loan

bp = Blueprint("opac", __name__)
POINT_COOKIE = "tj_point"
FACET_ORDER = (("point", "shelf"), ("kind", "kind"), ("clc", "clc"), ("year", "year"),
               ("language", "language"), ("item_type", "item_type"))  # fmt: skip


def reader_point() -> str | None:
    """The reader's chosen point: ?point= (remembered), else the cookie; only a real code."""
    code = request.args.get("point") or request.cookies.get(POINT_COOKIE) or None
    if code and point_by_code(get_session(), code) is not None:
        return code
    return None


def _search_args() -> tuple[dict[str, Any], str | None]:
    """The page's query parameters, cleaned: anything invalid is dropped, with a notice."""
    raw = {k: v for k, v in request.args.items() if k in SearchArgsSchema().fields and v}
    schema = SearchArgsSchema()
    try:
        return schema.load(raw), None
    except ValidationError as exc:
        bad = set(exc.normalized_messages()) - {"_schema"}
        if "_schema" in exc.normalized_messages():
            bad |= {"page"}
        kept = {k: v for k, v in raw.items() if k not in bad}
        try:
            return schema.load(kept), ", ".join(sorted(bad))
        except ValidationError:
            return schema.load({"q": raw.get("q", "")[:256]}), ", ".join(sorted(raw))


@bp.route("/search")
@public
def search_page() -> ResponseReturnValue:
    """Results with facets and availability; the reader's point first."""
    args, ignored = _search_args()
    point = reader_point()
    args["point"] = point
    outcome = None
    problem = None
    if args["q"].strip() or any(args.get(f) for f in FILTERS):
        try:
            outcome = run_search(args)
        except InvalidSearch as exc:
            problem = exc.message(language())
    session = get_session()
    hits = hit_payload(outcome) if outcome else []
    facets = facet_payload(outcome.point_names, outcome.result.facets) if outcome else {}
    total = outcome.result.total if outcome else 0
    response = make_response(render_template(
        "opac/search.html", args=args, hits=hits, facets=facets, total=total, outcome=outcome,
        points=all_points(session), point=point, ignored=ignored, problem=problem,
        facet_order=FACET_ORDER, url_with=_url_with, pages=_pages(args, total),
    ))  # fmt: skip
    if request.args.get("point") and point:
        response.set_cookie(POINT_COOKIE, point, max_age=365 * 86400, samesite="Lax")
    return response


def _url_with(args: dict[str, Any], **changes: Any) -> str:
    """This search's URL with some parameters changed (None removes one); page back to 1."""
    merged = {k: v for k, v in args.items() if v not in (None, "") and k != "point"}
    merged.pop("page", None)
    for key, value in changes.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    if merged.get("sort") == "relevance":
        merged.pop("sort")
    if merged.get("size") == 20:
        merged.pop("size")
    return "/search?" + urlencode(merged)


def _pages(args: dict[str, Any], total: int) -> dict[str, int | None]:
    size = args["size"]
    last = max(1, min((total + size - 1) // size, 10_000 // size))
    page = args["page"]
    return {"page": page, "last": last, "previous": page - 1 if page > 1 else None,
            "next": page + 1 if page < last else None}  # fmt: skip


@bp.route("/records/<int:record_id>")
@public
def record_page(record_id: int) -> ResponseReturnValue:
    """A record with its copies per point, read live from the database (not from the index):
    call number, status, and the due date of a copy on loan."""
    session = get_session()
    record = cataloguing.get_record(session, record_id)
    copies = list(
        session.scalars(
            select(Copy)
            .where(Copy.record_id == record.id, Copy.status.not_in([s.value for s in NOT_HELD]))
            .options(selectinload(Copy.current_point), selectinload(Copy.home_point))
        )
    )
    point = reader_point()
    by_point: dict[str, dict[str, Any]] = {}
    for c in copies:
        entry = by_point.setdefault(c.current_point.code, {"point": c.current_point, "copies": []})
        entry["copies"].append(c)
    groups = sorted(by_point.values(), key=lambda g: (g["point"].code != point, g["point"].code))
    open_loans = select(Loan.copy_id, Loan.due_date).where(
        Loan.copy_id.in_([c.id for c in copies]), Loan.returned_at.is_(None)
    )
    due = {copy_id: due_date for copy_id, due_date in session.execute(open_loans)}
    for g in groups:
        g["copies"].sort(key=lambda c: (c.status != "available", c.call_number, c.barcode))
    return render_template("opac/record.html", record=record, groups=groups, point=point,
                           points=all_points(session), copies=len(copies), due=due)  # fmt: skip
