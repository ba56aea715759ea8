"""Staff pages for the catalogue: find, view, create and edit records; copies; shelf list; imports.

Each form posts to a small view that calls the same domain function as the
JSON API; a domain error comes back as a message on the page it came from.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from functools import wraps
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from marshmallow import ValidationError
from sqlalchemy import or_, select

from app.accounts import Role, require_point_scope
from app.api.records import RecordCreateSchema, RecordInputSchema
from app.auth import allow, current_principal
from app.db import get_session
from app.errors import language
from app.i18n import label
from catalog import cataloguing
from catalog.errors import DomainError
from catalog.isbn import normalise_isbn
from catalog.marc.text import MarcTextError, TextProblem
from catalog.network import all_points
from catalog.records import Copy, ImportBatch, Record
from circulation import lost
from circulation.copy_status import SETTABLE
from circulation.desk import Desk

bp = Blueprint("staff_catalog", __name__, url_prefix="/staff")

STAFF = (Role.NETWORK_ADMIN, Role.CATALOGUER, Role.BRANCH_LIBRARIAN)
CATALOGUERS = (Role.NETWORK_ADMIN, Role.CATALOGUER)
LIST_FIELDS = ("authors", "authors_pinyin", "subjects", "isbns")


def form_action(view: Callable[..., ResponseReturnValue]) -> Callable[..., ResponseReturnValue]:
    """Run a form's action; on a domain or validation error, say why on the page it came from."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> ResponseReturnValue:
        try:
            return view(*args, **kwargs)
        except DomainError as exc:
            get_session().rollback()
            flash(exc.message(language()), "error")
        except ValidationError as exc:
            get_session().rollback()
            fields = ", ".join(sorted(exc.normalized_messages()))
            flash(_("Please correct: %(fields)s", fields=fields), "error")
        return redirect(request.referrer or url_for("staff_catalog.find_records"))

    return wrapper


def record_form_values(form: Any) -> dict[str, Any]:
    """Form fields to API-shaped values: lists are one item per line; empty means unset."""
    values: dict[str, Any] = {}
    for key, raw in form.items():
        if key == "csrf_token":
            continue
        if key in LIST_FIELDS:
            values[key] = [line.strip() for line in raw.splitlines() if line.strip()]
        else:
            values[key] = raw.strip() or None
    return values


def check_scope(code: str) -> None:
    principal = current_principal()
    assert principal is not None
    require_point_scope(get_session(), principal, cataloguing.get_point(get_session(), code))


@bp.route("/records")
@allow(*STAFF)
def find_records() -> ResponseReturnValue:
    """Find a record by number, ISBN, barcode or words of its title."""
    q = (request.args.get("q") or "").strip()
    found: list[Record] = []
    if q:
        session = get_session()
        isbn = normalise_isbn(q).isbn13
        conditions = [Record.title.contains(q)]
        if q.isdigit() and int(q) < 2**31:  # a record number (an ISBN or barcode is longer)
            conditions.append(Record.id == int(q))
        if isbn:
            conditions.append(Record.isbn13 == isbn)
        by_barcode = select(Copy.record_id).where(Copy.barcode == q)
        conditions.append(Record.id.in_(by_barcode))
        found = list(session.scalars(select(Record).where(or_(*conditions)).limit(50)))
        if len(found) == 1:
            return redirect(url_for("staff_catalog.show_record", record_id=found[0].id))
    return render_template("staff/records.html", q=q, found=found)


@bp.route("/records/<int:record_id>")
@allow(*STAFF)
def show_record(record_id: int) -> ResponseReturnValue:
    """A record: its fields, every copy by point, its sources and MARC, and the forms."""
    session = get_session()
    record = cataloguing.get_record(session, record_id)
    by_point: dict[str, list[Copy]] = defaultdict(list)
    for copy in sorted(record.copies, key=lambda c: c.barcode):
        by_point[copy.home_point.name].append(copy)
    marc = cataloguing.marc_text(record)
    principal = current_principal()
    return render_template(
        "staff/record.html",
        record=record,
        by_point=dict(sorted(by_point.items())),
        marc=marc,
        points=all_points(session),
        statuses=[s.value for s in SETTABLE],
        can_edit=principal is not None and principal.role in CATALOGUERS,
    )


@bp.route("/records/new", methods=["GET", "POST"])
@allow(*CATALOGUERS)
@form_action
def new_record() -> ResponseReturnValue:
    """Catalogue a record by hand (CNMARC unless MARC21 is chosen)."""
    if request.method == "GET":
        return render_template("staff/record_form.html", record=None, values={})
    data = RecordCreateSchema().load(record_form_values(request.form))
    flavour = data.pop("flavour")
    session = get_session()
    record = cataloguing.create_record(session, data, flavour)
    session.commit()
    flash(_("Record %(id)s created.", id=record.id), "ok")
    return redirect(url_for("staff_catalog.show_record", record_id=record.id))


@bp.route("/records/<int:record_id>/edit", methods=["GET", "POST"])
@allow(*CATALOGUERS)
@form_action
def edit_record(record_id: int) -> ResponseReturnValue:
    session = get_session()
    record = cataloguing.get_record(session, record_id)
    if request.method == "GET":
        return render_template(
            "staff/record_form.html", record=record, values=cataloguing.record_values(record)
        )
    changes = RecordInputSchema().load(record_form_values(request.form))
    current = cataloguing.record_values(record)
    changed = {k: v for k, v in changes.items() if (v or None) != (current.get(k) or None)}
    if changed:
        cataloguing.update_record(session, record, changed)
        session.commit()
        flash(_("Record saved."), "ok")
    return redirect(url_for("staff_catalog.show_record", record_id=record.id))


@bp.route("/records/<int:record_id>/marc", methods=["GET", "POST"])
@allow(*CATALOGUERS)
def edit_marc(record_id: int) -> ResponseReturnValue:
    """The MARC view as a text box; a bad line shows the text again, nothing saved or lost."""
    session = get_session()
    record = cataloguing.get_record(session, record_id)
    if request.method == "GET":
        text = cataloguing.marc_text(record)
        return render_template("staff/marc_form.html", record=record, text=text, problems=[])
    text = request.form.get("marc", "")
    try:
        cataloguing.replace_marc(session, record, text)
    except DomainError as exc:
        session.rollback()
        problems = (exc.problems if isinstance(exc, MarcTextError)
                    else [TextProblem(0, exc.message_en, exc.message_zh)])  # fmt: skip
        return render_template(
            "staff/marc_form.html", record=record, text=text, problems=problems
        ), 422
    session.commit()
    flash(_("MARC saved."), "ok")
    return redirect(url_for("staff_catalog.show_record", record_id=record.id))


def _price(text: str | None) -> Decimal | None:
    if not text:
        return None
    try:
        return Decimal(text).quantize(Decimal("0.01"))
    except InvalidOperation as exc:
        raise ValidationError({"price": ["not a number"]}) from exc


@bp.route("/records/<int:record_id>/copies", methods=["POST"])
@allow(*STAFF)
@form_action
def add_copy(record_id: int) -> ResponseReturnValue:
    session = get_session()
    record = cataloguing.get_record(session, record_id)
    home = request.form.get("home", "")
    check_scope(home)
    copy = cataloguing.add_copy(
        session,
        record,
        cataloguing.CopyInput(
            home=home,
            barcode=request.form.get("barcode") or None,
            call_number=request.form.get("call_number") or None,
            item_type=request.form.get("item_type") or "book",
            price=_price(request.form.get("price")),
        ),
    )
    session.commit()
    flash(_("Copy %(barcode)s added.", barcode=copy.barcode), "ok")
    return redirect(url_for("staff_catalog.show_record", record_id=record_id))


@bp.route("/copies/<barcode>/edit", methods=["POST"])
@allow(*STAFF)
@form_action
def edit_copy(barcode: str) -> ResponseReturnValue:
    session = get_session()
    copy = cataloguing.get_copy(session, barcode)
    check_scope(copy.home_point.code)
    changes: dict[str, Any] = {
        "call_number": request.form.get("call_number", copy.call_number).strip(),
        "item_type": request.form.get("item_type", copy.item_type).strip() or copy.item_type,
    }
    if "price" in request.form:
        changes["price"] = _price(request.form.get("price"))
    cataloguing.edit_copy(session, copy, changes)
    session.commit()
    flash(_("Copy %(barcode)s saved.", barcode=barcode), "ok")
    return redirect(url_for("staff_catalog.show_record", record_id=copy.record_id))


@bp.route("/copies/<barcode>/move", methods=["POST"])
@allow(*STAFF)
@form_action
def move_copy(barcode: str) -> ResponseReturnValue:
    session = get_session()
    copy = cataloguing.get_copy(session, barcode)
    check_scope(copy.home_point.code)
    check_scope(request.form.get("to", ""))
    cataloguing.move_copy(session, copy, request.form.get("to", ""))
    session.commit()
    flash(_("Copy %(barcode)s moved.", barcode=barcode), "ok")
    return redirect(url_for("staff_catalog.show_record", record_id=copy.record_id))


@bp.route("/copies/<barcode>/status", methods=["POST"])
@allow(*STAFF)
@form_action
def set_status(barcode: str) -> ResponseReturnValue:
    session = get_session()
    copy = cataloguing.get_copy(session, barcode)
    check_scope(copy.home_point.code)
    principal = current_principal()
    assert principal is not None
    desk = Desk(copy.current_point, principal.actor)
    lost.set_status(
        session, desk, copy, request.form.get("status", ""), request.form.get("reason", "")
    )
    session.commit()
    flash(
        _("Copy %(barcode)s is now %(status)s.", barcode=barcode, status=label(copy.status)), "ok"
    )
    return redirect(url_for("staff_catalog.show_record", record_id=copy.record_id))


@bp.route("/records/<int:record_id>/merge", methods=["POST"])
@allow(*CATALOGUERS)
@form_action
def merge(record_id: int) -> ResponseReturnValue:
    session = get_session()
    keep = cataloguing.get_record(session, record_id)
    other_text = request.form.get("other", "")
    if not other_text.isdigit():
        raise ValidationError({"other": ["a record number"]})
    cataloguing.merge_records(session, keep, cataloguing.get_record(session, int(other_text)))
    session.commit()
    flash(_("Record %(other)s merged into this one.", other=other_text), "ok")
    return redirect(url_for("staff_catalog.show_record", record_id=record_id))


@bp.route("/records/<int:record_id>/split", methods=["POST"])
@allow(*CATALOGUERS)
@form_action
def split(record_id: int) -> ResponseReturnValue:
    session = get_session()
    record = cataloguing.get_record(session, record_id)
    new = cataloguing.split_source(session, record, int(request.form.get("source", "0")))
    session.commit()
    flash(_("Split off as record %(id)s.", id=new.id), "ok")
    return redirect(url_for("staff_catalog.show_record", record_id=new.id))


@bp.route("/points/<code>/shelf-list")
@allow(*STAFF)
def shelf_list(code: str) -> ResponseReturnValue:
    """A point's copies in shelf order, for stocktaking and tidying the shelves."""
    session = get_session()
    point = cataloguing.get_point(session, code)
    return render_template(
        "staff/shelf_list.html", point=point, copies=cataloguing.shelf_list(session, code)
    )


@bp.route("/imports")
@allow(*CATALOGUERS)
def imports() -> ResponseReturnValue:
    """The history of `tongjie catalog import`, newest first, with each file's counts."""
    batches = get_session().scalars(select(ImportBatch).order_by(ImportBatch.id.desc()).limit(100))
    return render_template("staff/imports.html", batches=list(batches))
