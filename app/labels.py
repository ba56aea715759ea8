"""Printable label sheets (标签打印) and the ``tongjie barcodes`` command.

Three kinds of sheet, each an A4 page of plain HTML and CSS (no JavaScript,
nothing fetched from elsewhere), printed from the browser at 100 % scale:

- ``/staff/labels/copies``: barcode labels for copies (Code 128, call number,
  short title, home point);
- ``/staff/labels/spine``: spine labels (书标): class number over book number,
  the home point's code small;
- ``/staff/labels/cards``: patron cards: card barcode, name, home point, and
  never the ID number or the phone.

The grid (columns, rows, label size, margins and gaps in mm) comes from query
parameters with defaults per kind, and ``skip`` leaves the first labels of
the first sheet empty so that a partly used sheet can go through the printer
again. docs/labels.md lists every parameter.
"""

from __future__ import annotations

import datetime as dt
import re
import xml.dom.minidom
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import click
from barcode.codex import Code128
from barcode.errors import BarcodeError
from barcode.writer import SVGWriter
from flask import Blueprint, render_template, request
from flask.cli import AppGroup
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from app.accounts import Role
from app.auth import allow, current_principal
from app.cli import unit_of_work
from app.db import get_session
from catalog.barcodes import get_scheme, next_barcodes, set_scheme
from catalog.callnumber import call_number_sort_key, split_call_number
from catalog.network import ServicePoint, all_points, point_by_code
from catalog.records import NOT_HELD, Copy
from circulation.patrons import Patron

bp = Blueprint("labels", __name__, url_prefix="/staff/labels")

CATALOGUE_STAFF = (Role.NETWORK_ADMIN, Role.CATALOGUER, Role.BRANCH_LIBRARIAN)
# Cards show patrons' names: not for cataloguers, who do not read patrons (docs/access.md).
PATRON_STAFF = (Role.NETWORK_ADMIN, Role.BRANCH_LIBRARIAN)

PAGE_WIDTH_MM = 210.0  # A4 portrait
PAGE_HEIGHT_MM = 297.0
MAX_LABELS = 1000  # labels in one request; more is a job for several sheets
TITLE_LENGTH = 24  # characters of the title on a copy label
MODULE_MM = 0.33  # narrowest bar of the barcodes (13 mil, easy for any scanner)
QUIET_ZONE_MODULES = 10
_LIST_SEPARATORS = re.compile(r"[\s,，;；、]+")
_NUMBER = re.compile(r"\d{1,4}(?:\.\d{1,2})?")


@dataclass(frozen=True)
class Grid:
    """A sheet of labels: how many, how big, where the first one starts (mm)."""

    columns: int
    rows: int
    label_width: float
    label_height: float
    margin_top: float
    margin_left: float
    gap_x: float = 0.0
    gap_y: float = 0.0
    skip: int = 0

    @property
    def per_sheet(self) -> int:
        return self.columns * self.rows

    @property
    def used_width(self) -> float:
        return self.margin_left + self.columns * self.label_width + (self.columns - 1) * self.gap_x

    @property
    def used_height(self) -> float:
        return self.margin_top + self.rows * self.label_height + (self.rows - 1) * self.gap_y


# Defaults: 3 x 8 labels of 70 x 36 mm (the common 24-up A4 sheet) for copies;
# 6 x 11 spine labels of 32 x 25 mm; 2 x 5 cards of the ID-1 size (85.6 x 54 mm).
DEFAULT_GRIDS = {
    "copies": Grid(3, 8, 70, 36, 4.5, 0),
    "spine": Grid(6, 11, 32, 25, 11, 9),
    "cards": Grid(2, 5, 85.6, 54, 13.5, 19.4),
}

# Query parameter -> (kind, lowest, highest).
GRID_LIMITS: dict[str, tuple[type, float, float]] = {
    "columns": (int, 1, 20),
    "rows": (int, 1, 40),
    "label_width": (float, 5, PAGE_WIDTH_MM),
    "label_height": (float, 5, PAGE_HEIGHT_MM),
    "margin_top": (float, 0, 100),
    "margin_left": (float, 0, 100),
    "gap_x": (float, 0, 50),
    "gap_y": (float, 0, 50),
    "skip": (int, 0, 799),
}


class LabelRequestError(Exception):
    """A parameter the page cannot use; the message is already in the reader's language."""


# ---------------------------------------------------------------------------
# Pages


@bp.route("/")
@allow(*CATALOGUE_STAFF)
def index() -> ResponseReturnValue:
    """Forms that lead to the three kinds of sheet."""
    principal = current_principal()
    return render_template(
        "labels/index.html",
        points=all_points(get_session()),
        can_print_cards=principal is not None and principal.role in PATRON_STAFF,
    )


@bp.route("/copies")
@allow(*CATALOGUE_STAFF)
def copies() -> ResponseReturnValue:
    """Barcode labels for copies: ``?barcodes=...`` or ``?point=CODE&added_since=YYYY-MM-DD``."""
    return _sheet_page("copies", _copy_labels)


@bp.route("/spine")
@allow(*CATALOGUE_STAFF)
def spine() -> ResponseReturnValue:
    """Spine labels for copies, selected as for the barcode labels."""
    return _sheet_page("spine", _spine_labels)


@bp.route("/cards")
@allow(*PATRON_STAFF)
def cards() -> ResponseReturnValue:
    """Patron cards: ``?cards=...``."""
    return _sheet_page("cards", _card_labels)


def _sheet_page(
    kind: str, build: Callable[[Session, Grid], tuple[list[dict[str, Any]], dict[str, str]]]
) -> ResponseReturnValue:
    try:
        grid = parse_grid(request.args, DEFAULT_GRIDS[kind])
        labels, selection = build(get_session(), grid)
    except LabelRequestError as exc:
        return render_template("error.html", status=400, message=str(exc)), 400
    cells: list[dict[str, Any] | None] = [None] * grid.skip + labels if labels else []
    sheets = [cells[i : i + grid.per_sheet] for i in range(0, len(cells), grid.per_sheet)]
    return render_template(
        f"labels/{kind}.html",
        kind=kind,
        grid=grid,
        sheets=sheets,
        count=len(labels),
        selection=selection,
        mm=_mm,
        font_size=_mm(min(grid.label_height * 0.09, grid.label_width * 0.05)),
        bar_height=_mm(min(15.0, max(5.0, grid.label_height * 0.35))),
    )


# ---------------------------------------------------------------------------
# Parameters


def parse_grid(args: Any, default: Grid) -> Grid:
    """The grid asked for in ``args`` (missing values from ``default``); checks it fits on A4."""
    values: dict[str, Any] = {}
    for name, (kind, low, high) in GRID_LIMITS.items():
        text = (args.get(name) or "").strip()
        if not text:
            continue
        if not _NUMBER.fullmatch(text) or (kind is int and "." in text):
            raise LabelRequestError(_bad_number(name, kind, low, high, text))
        value = kind(text)
        if not low <= value <= high:
            raise LabelRequestError(_bad_number(name, kind, low, high, text))
        values[name] = value
    grid = replace(default, **values)
    if grid.skip >= grid.per_sheet:
        raise LabelRequestError(
            _(
                "skip must be less than the %(count)s labels of a sheet.",
                count=grid.per_sheet,
            )
        )
    if grid.used_width > PAGE_WIDTH_MM + 0.05 or grid.used_height > PAGE_HEIGHT_MM + 0.05:
        raise LabelRequestError(
            _(
                "The grid does not fit on an A4 page (210 x 297 mm): it needs "
                "%(width)s x %(height)s mm.",
                width=_mm(grid.used_width),
                height=_mm(grid.used_height),
            )
        )
    return grid


def _bad_number(name: str, kind: type, low: float, high: float, text: str) -> str:
    if kind is int:
        return _(
            "%(name)s must be a whole number from %(low)s to %(high)s, not “%(value)s”.",
            name=name,
            low=_mm(low),
            high=_mm(high),
            value=text[:20],
        )
    return _(
        "%(name)s must be a number of millimetres from %(low)s to %(high)s, not “%(value)s”.",
        name=name,
        low=_mm(low),
        high=_mm(high),
        value=text[:20],
    )


def _mm(value: float) -> str:
    """A length for CSS and messages: ``70``, ``85.6``."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _list_param(name: str) -> list[str]:
    """Values of a list parameter, given once or repeated, separated by commas or spaces."""
    found: list[str] = []
    for raw in request.args.getlist(name):
        found.extend(v for v in _LIST_SEPARATORS.split(raw) if v)
    return found


def _too_many(count: int) -> LabelRequestError:
    return LabelRequestError(
        _(
            "%(count)s labels asked for; print at most %(limit)s at a time.",
            count=count,
            limit=MAX_LABELS,
        )
    )


def selected_copies(session: Session) -> tuple[list[Copy], dict[str, str]]:
    """Copies named by ``barcodes`` (in that order), or held at ``point`` (in shelf order)."""
    barcodes = _list_param("barcodes")
    point_code = (request.args.get("point") or "").strip()
    since_text = (request.args.get("added_since") or "").strip()
    if barcodes and (point_code or since_text):
        raise LabelRequestError(_("Give either barcodes or a point, not both."))
    if barcodes:
        if len(barcodes) > MAX_LABELS:
            raise _too_many(len(barcodes))
        found = {
            c.barcode: c
            for c in session.scalars(
                select(Copy)
                .where(Copy.barcode.in_(set(barcodes)))
                .options(joinedload(Copy.record), joinedload(Copy.home_point))
            )
        }
        missing = [b for b in dict.fromkeys(barcodes) if b not in found]
        if missing:
            raise LabelRequestError(
                _("No copy has the barcode %(barcodes)s.", barcodes=", ".join(missing[:10]))
                + (" …" if len(missing) > 10 else "")
            )
        return [found[b] for b in barcodes], {"barcodes": " ".join(barcodes)}
    if not point_code:
        raise LabelRequestError(
            _("Say which labels to print: barcodes=..., or point=CODE with added_since=YYYY-MM-DD.")
        )
    point = point_by_code(session, point_code)
    if point is None:
        raise LabelRequestError(_("There is no service point %(code)s.", code=point_code[:40]))
    conditions = [Copy.home_point_id == point.id, Copy.status.not_in(list(NOT_HELD))]
    selection = {"point": point.code}
    if since_text:
        try:
            since = dt.date.fromisoformat(since_text)
        except ValueError:
            raise LabelRequestError(
                _(
                    "added_since must be a date written YYYY-MM-DD, not “%(value)s”.",
                    value=since_text[:20],
                )
            ) from None
        conditions.append(Copy.date_added >= since)
        selection["added_since"] = since.isoformat()
    count = session.scalar(select(func.count(Copy.id)).where(*conditions)) or 0
    if count > MAX_LABELS:
        raise _too_many(count)
    found_copies = list(
        session.scalars(
            select(Copy)
            .where(*conditions)
            .options(joinedload(Copy.record), joinedload(Copy.home_point))
        )
    )
    found_copies.sort(key=lambda c: (call_number_sort_key(c.call_number), c.barcode))
    return found_copies, selection


# ---------------------------------------------------------------------------
# Labels


def _copy_labels(session: Session, grid: Grid) -> tuple[list[dict[str, Any]], dict[str, str]]:
    found, selection = selected_copies(session)
    labels = [
        {
            "barcode": copy.barcode,
            "svg": barcode_svg(copy.barcode),
            "call_number": copy.call_number,
            "title": short_title(copy.record.title),
            "full_title": copy.record.title,
            "point": copy.home_point.name,
        }
        for copy in found
    ]
    return labels, selection


def _spine_labels(session: Session, grid: Grid) -> tuple[list[dict[str, Any]], dict[str, str]]:
    found, selection = selected_copies(session)
    inner_width = grid.label_width - 2.5
    line_height = grid.label_height * 0.32
    labels = []
    for copy in found:
        class_number, book_number = split_call_number(copy.call_number)
        labels.append(
            {
                "barcode": copy.barcode,
                "class_number": class_number,
                "book_number": book_number,
                "class_size": _mm(fit_font(class_number, inner_width, line_height)),
                "book_size": _mm(fit_font(book_number, inner_width, line_height)),
                "point_code": copy.home_point.code,
            }
        )
    return labels, selection


def _card_labels(session: Session, grid: Grid) -> tuple[list[dict[str, Any]], dict[str, str]]:
    numbers = _list_param("cards")
    if not numbers:
        raise LabelRequestError(_("Say which cards to print: cards=..."))
    if len(numbers) > MAX_LABELS:
        raise _too_many(len(numbers))
    found = {
        p.card: p
        for p in session.scalars(
            select(Patron)
            .where(Patron.card.in_(set(numbers)))
            .options(joinedload(Patron.home_point))
        )
    }
    missing = [n for n in dict.fromkeys(numbers) if n not in found]
    if missing:
        raise LabelRequestError(
            _("No patron has the card %(cards)s.", cards=", ".join(missing[:10]))
            + (" …" if len(missing) > 10 else "")
        )
    roots = _network_names(session)
    labels = []
    for number in numbers:
        patron = found[number]
        # Only what a card shows: never the ID number, phone or PIN.
        labels.append(
            {
                "barcode": patron.card,
                "svg": barcode_svg(patron.card),
                "name": patron.name,
                "point": patron.home_point.name,
                "network": roots.get(patron.home_point_id, ""),
            }
        )
    return labels, {"cards": " ".join(numbers)}


def _network_names(session: Session) -> dict[int, str]:
    """For each point, the name of the top of its tree (the network printed on the card)."""
    points = {p.id: p for p in all_points(session)}
    names: dict[int, str] = {}
    for point in points.values():
        top: ServicePoint = point
        seen = {top.id}
        while top.parent_id is not None and top.parent_id in points and top.parent_id not in seen:
            top = points[top.parent_id]
            seen.add(top.id)
        names[point.id] = top.name
    return names


def short_title(title: str | None, limit: int = TITLE_LENGTH) -> str:
    """The title cut to ``limit`` characters, with an ellipsis when cut."""
    text = " ".join((title or "").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def fit_font(text: str, width_mm: float, largest_mm: float) -> float:
    """A font size (mm) at which ``text`` fits on one line of ``width_mm``, at most ``largest_mm``.

    Estimates: a CJK character is one em wide, anything else at most about 0.72 em
    (the bold sans-serif of the labels); no browser measuring is involved.
    """
    ems = sum(1.0 if ord(c) > 0x2E80 else 0.72 for c in text) or 1.0
    return max(2.0, min(largest_mm, width_mm / ems))


def barcode_svg(value: str) -> Markup | None:
    """A Code 128 barcode of ``value`` as inline SVG, or None if it cannot be encoded.

    python-barcode draws it in millimetres; the drawing becomes a viewBox so
    that CSS sets its height, and it shrinks to the label if it is too long.
    """
    if not value:
        return None
    try:
        raw = Code128(value, writer=SVGWriter()).render(
            {
                "module_width": MODULE_MM,
                "module_height": 10.0,
                "quiet_zone": QUIET_ZONE_MODULES * MODULE_MM,
                "margin_top": 0.0,
                "margin_bottom": 0.0,
                "write_text": False,
                "compress": True,
                "with_doctype": False,
            }
        )
    except (BarcodeError, RuntimeError, ValueError, KeyError):
        return None
    root = xml.dom.minidom.parseString(raw).documentElement
    if root is None:
        return None
    width = root.getAttribute("width").removesuffix("mm")
    height = root.getAttribute("height").removesuffix("mm")
    for node in list(root.childNodes):
        if node.nodeType == node.COMMENT_NODE:
            root.removeChild(node)
    for group in root.getElementsByTagName("g"):
        group.removeAttribute("id")  # one page holds many: ids must not repeat
    for rect in root.getElementsByTagName("rect"):
        for name in ("x", "y", "width", "height"):
            if rect.getAttribute(name).endswith("mm"):
                rect.setAttribute(name, rect.getAttribute(name).removesuffix("mm"))
    root.setAttribute("viewBox", f"0 0 {width} {height}")
    root.setAttribute("width", f"{width}mm")
    root.setAttribute("height", f"{height}mm")
    root.setAttribute("preserveAspectRatio", "none")
    root.setAttribute("class", "barcode")
    root.setAttribute("role", "img")
    root.setAttribute("aria-label", value)
    return Markup(root.toxml())  # built above from the barcode's own drawing: no user markup


# ---------------------------------------------------------------------------
# CLI: tongjie barcodes ...

barcodes_group = AppGroup("barcodes", help="Barcode schemes for new copies and patron cards.")


@barcodes_group.command("scheme")
@click.argument("name", type=click.Choice(["copy", "card"]))
@click.option("--prefix", help="Characters every barcode starts with (digits for Luhn).")
@click.option("--width", type=int, help="Length of the whole barcode, check digit included.")
@click.option("--check", "check_digit", type=click.Choice(["luhn", "none"]), help="Check digit.")
@click.option("--next", "next_value", type=int, help="Sequence number of the next barcode.")
def barcodes_scheme(
    name: str,
    prefix: str | None,
    width: int | None,
    check_digit: str | None,
    next_value: int | None,
) -> None:
    """Show the scheme NAME (copy or card), or change it with the options given."""
    with unit_of_work() as session:
        if prefix is None and width is None and check_digit is None and next_value is None:
            scheme = get_scheme(session, name)
            stored = "" if scheme.id is not None else " (default, not yet stored)"
            click.echo(scheme.describe() + stored)
            return
        scheme = set_scheme(
            session,
            name,
            prefix=prefix,
            width=width,
            check_digit=check_digit,
            next_value=next_value,
        )
        click.echo(scheme.describe())


@barcodes_group.command("reserve")
@click.argument("name", type=click.Choice(["copy", "card"]))
@click.argument("count", type=click.IntRange(1, 10_000))
def barcodes_reserve(name: str, count: int) -> None:
    """Hand out COUNT new barcodes of scheme NAME (for pre-printed labels), one a line."""
    with unit_of_work() as session:
        values = next_barcodes(session, name, count)
    click.echo("\n".join(values))
