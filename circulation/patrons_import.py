"""``tongjie patrons import FILE.csv``: patrons in bulk, all or nothing, upserted by card.

Header: ``card,name,category,home,pin`` then optional ``id_number,phone,expires``.
Rules (docs/patrons.md):
- card: 1-64 letters or digits, unique in the file;
- category: one of PATRON_CATEGORIES;
- home: the code of a service point in the database;
- pin: empty (no self-service) or 4-8 digits; stored hashed only;
- id_number: empty or a valid 18-digit resident ID (GB 11643 check digit);
  stored as a keyed hash and a masked form only;
- phone: empty or 5-20 digits, ``+`` and ``-``;
- expires: empty (no expiry) or a date YYYY-MM-DD.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session
from stdnum.cn import ric

from catalog.errors import InvalidFile, RowError
from catalog.network import all_points
from circulation.patrons import PATRON_CATEGORIES, Patron, hash_id_number

REQUIRED_COLUMNS = ("card", "name", "category", "home", "pin")
CARD_PATTERN = re.compile(r"^[A-Za-z0-9]{1,64}$")
PIN_PATTERN = re.compile(r"^\d{4,8}$")
PHONE_PATTERN = re.compile(r"^[0-9+\-]{5,20}$")


@dataclass(frozen=True)
class PatronRow:
    line: int
    card: str
    name: str
    category: str
    home: str
    pin: str | None
    id_number: str | None
    phone: str | None
    expires: dt.date | None


@dataclass(frozen=True)
class ImportSummary:
    created: int
    updated: int
    unchanged: int


def validate(session: Session, path: Path) -> list[PatronRow]:
    """Every row checked before anything is written; InvalidFile lists all problems."""
    file = path.name
    homes = {p.code for p in all_points(session)}
    rows: list[PatronRow] = []
    errors: list[RowError] = []
    first_line: dict[str, int] = {}
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        header = [h.strip() for h in next(reader, [])]
        if tuple(header[: len(REQUIRED_COLUMNS)]) != REQUIRED_COLUMNS:
            reason = "must start with " + ",".join(REQUIRED_COLUMNS)
            raise InvalidFile([RowError(file, 1, "header", reason)])
        for values in reader:
            if not any(v.strip() for v in values):
                continue
            line = reader.line_num
            raw = {k: v.strip() for k, v in zip(header, values, strict=False)}
            row, row_errors = _validate_row(file, line, raw, homes)
            errors.extend(row_errors)
            card = raw.get("card", "")
            if card in first_line:
                reason = f"duplicate card {card} (first on line {first_line[card]})"
                errors.append(RowError(file, line, "card", reason))
            elif row is not None:
                rows.append(row)
            if card:
                first_line.setdefault(card, line)
    if errors:
        raise InvalidFile(errors)
    return rows


def _validate_row(
    file: str, line: int, raw: dict[str, str], homes: set[str]
) -> tuple[PatronRow | None, list[RowError]]:
    errors: list[RowError] = []

    def bad(field: str, reason: str) -> None:
        errors.append(RowError(file, line, field, reason))

    card, name = raw.get("card", ""), raw.get("name", "")
    category, home = raw.get("category", ""), raw.get("home", "")
    pin = raw.get("pin") or None
    id_number = (raw.get("id_number") or "").upper() or None
    phone = raw.get("phone") or None
    expires_text = raw.get("expires") or ""
    if not CARD_PATTERN.match(card):
        bad("card", "required: 1-64 letters or digits")
    if not name:
        bad("name", "required")
    if category not in PATRON_CATEGORIES:
        bad("category", f"'{category}' is not one of " + ", ".join(PATRON_CATEGORIES))
    if home not in homes:
        bad("home", f"no service point with code '{home}'; import the network first")
    if pin is not None and not PIN_PATTERN.match(pin):
        bad("pin", "must be 4-8 digits (or empty for no self-service PIN)")
    if id_number is not None and not (len(id_number) == 18 and ric.is_valid(id_number)):
        bad("id_number", "not a valid 18-character resident ID number (check digit or date wrong)")
    if phone is not None and not PHONE_PATTERN.match(phone):
        bad("phone", "must be 5-20 digits, '+' or '-'")
    expires = None
    if expires_text:
        try:
            expires = dt.date.fromisoformat(expires_text)
        except ValueError:
            bad("expires", f"'{expires_text}' is not a date like 2027-12-31")
    if errors:
        return None, errors
    row = PatronRow(line, card, name, category, home, pin, id_number, phone, expires)
    return row, []


def import_patrons(session: Session, path: Path, id_key: str) -> ImportSummary:
    """Validate the whole file, then upsert by card in the caller's transaction.

    ``id_key`` keys the ID-number hash (the site's secret key).
    """
    rows = validate(session, path)
    point_ids = {p.code: p.id for p in all_points(session)}
    cards = [r.card for r in rows]
    existing: dict[str, Patron] = {}
    for start in range(0, len(cards), 500):
        chunk = cards[start : start + 500]
        existing.update(
            (p.card, p) for p in session.scalars(select(Patron).where(Patron.card.in_(chunk)))
        )
    created = updated = 0
    for row in rows:
        patron = existing.get(row.card)
        if patron is None:
            patron = Patron(card=row.card)
            session.add(patron)
            created += 1
        elif not _same(patron, row, point_ids, id_key):
            updated += 1
        else:
            continue
        patron.name, patron.category = row.name, row.category
        patron.home_point_id = point_ids[row.home]
        patron.phone, patron.expires_on = row.phone, row.expires
        if row.pin is None:
            patron.pin_hash = None
        elif not patron.check_pin(row.pin):
            patron.set_pin(row.pin)
        if row.id_number is None or patron.id_number_hash != hash_id_number(row.id_number, id_key):
            patron.set_id_number(row.id_number, id_key)
    session.flush()
    return ImportSummary(created=created, updated=updated, unchanged=len(rows) - created - updated)


def _same(patron: Patron, row: PatronRow, point_ids: dict[str, int], id_key: str) -> bool:
    """Whether the stored patron already says what the row says (PIN and ID compared by hash)."""
    id_hash = hash_id_number(row.id_number, id_key) if row.id_number else None
    pin_same = patron.pin_hash is None if row.pin is None else patron.check_pin(row.pin)
    return (
        patron.name == row.name
        and patron.category == row.category
        and patron.home_point_id == point_ids[row.home]
        and patron.phone == row.phone
        and patron.expires_on == row.expires
        and patron.id_number_hash == id_hash
        and pin_same
    )
