"""Load the generated demo network into an empty database, with demo staff accounts.

Copies and patrons are written with bulk inserts: the demo holds tens of
thousands of copies and must load in seconds on a small machine.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from app.accounts import Role, add_user
from app.demo.circulation import simulate_year
from app.demo.generate import DemoNetwork, generate_demo
from catalog.db import table_of, utcnow
from catalog.errors import Conflict
from catalog.imports import import_file, parse_price
from catalog.network import ServicePoint
from catalog.records import Copy, CopyStatus, Record
from catalog.search.outbox import enqueue
from circulation.patrons import PIN_HASH_METHOD, Patron, hash_id_number, mask_id_number
from circulation.sip2.terminals import add_terminal

# Every demo card has this PIN, so anyone trying the kiosk can sign in; it is
# hashed once (a slow hash per card would make the demo load take half a minute).
DEMO_PIN = "123456"
DEMO_USERS = (("admin", Role.NETWORK_ADMIN), ("cataloguer", Role.CATALOGUER))
DEMO_KIOSK = "kiosk-demo"


def load_demo(
    session: Session,
    *,
    seed: int,
    scale: float,
    admin_password: str,
    id_key: str,
    real_records: Path | None = None,
    circulation: bool = True,
) -> dict[str, int]:
    """Write the demo network; refuses a database that already has service points.

    With ``real_records`` (a MARC file, e.g. Library of Congress records), the
    catalogue is imported from it instead of generated, and the generated
    copies are spread over those records.
    """
    if session.scalar(select(func.count(ServicePoint.id))):
        raise Conflict(
            "the database already has service points; the demo loads only into an empty one",
            "数据库中已有服务点；演示数据只能载入空数据库",
        )
    demo = generate_demo(seed=seed, scale=scale)
    point_ids = _load_points(session, demo)
    if real_records is not None:
        record_ids = _import_records(session, real_records)
    else:
        record_ids = _load_records(session, demo)
    _load_copies(session, demo, point_ids, record_ids)
    _load_patrons(session, demo, point_ids, id_key)
    first_branch = next(p.code for p in demo.points if p.kind == "branch")
    for username, role in DEMO_USERS:
        add_user(session, username, admin_password, role.value)
    add_user(session, "branch", admin_password, Role.BRANCH_LIBRARIAN.value, scope=first_branch)
    _add_kiosk(session, first_branch, admin_password)
    counts = {
        "service points": len(demo.points),
        "records": len(record_ids),
        "copies": len(demo.copies),
        "patrons": len(demo.patrons),
        "staff accounts": len(DEMO_USERS) + 1,
        "self-service terminals": 1,
    }
    if circulation:
        session.flush()
        counts.update(simulate_year(session, seed, utcnow(), scale))
    return counts


def _add_kiosk(session: Session, point: str, password: str) -> None:
    """One self-check machine at the first branch: SIP2 login ``DEMO_KIOSK``, the demo password.

    The same account enrols a browser as the touch kiosk (/kiosk/, docs/sip2.md KIOSK-1).
    """
    add_terminal(session, DEMO_KIOSK, password, point)


def _load_points(session: Session, demo: DemoNetwork) -> dict[str, int]:
    ids: dict[str, int] = {}
    pending = list(demo.points)
    while pending:  # parents before children, whatever order the generator used
        ready = [p for p in pending if p.parent is None or p.parent in ids]
        if not ready:
            raise ValueError("demo network has a parent cycle")
        for p in ready:
            point = ServicePoint(
                code=p.code,
                name=p.name,
                kind=p.kind,
                parent_id=ids[p.parent] if p.parent else None,
                region_code=p.region,
                population=p.population,
                address=p.address,
                opening_days=p.opening_days,
            )
            session.add(point)
            session.flush()
            ids[p.code] = point.id
        pending = [p for p in pending if p.code not in ids]
    return ids


def _load_records(session: Session, demo: DemoNetwork) -> list[int]:
    now = utcnow()
    rows = [
        {
            "title": r.title,
            "authors": list(r.authors),
            "authors_pinyin": [],
            "responsibility": "、".join(r.authors) + "著",
            "publisher": r.publisher,
            "pub_place": r.pub_place,
            "pub_year": r.pub_year,
            "isbn13": r.isbn13,
            "isbns": [r.isbn13],
            "clc": r.clc,
            "language": r.language,
            "subjects": list(r.subjects),
            "price": r.price,
            "extra": {"source": "demo"},
            "created_at": now,
            "updated_at": now,
        }
        for r in demo.records
    ]
    ids = list(
        session.scalars(insert(Record).returning(Record.id, sort_by_parameter_order=True), rows)
    )
    enqueue(session, ids)
    return ids


def _import_records(session: Session, path: Path) -> list[int]:
    """Import real MARC records through the normal import (its holdings are not ours)."""
    with tempfile.TemporaryDirectory() as reports:
        import_file(session, path, report_dir=Path(reports))
    return list(session.scalars(select(Record.id).order_by(Record.id)))


def _load_copies(
    session: Session, demo: DemoNetwork, point_ids: dict[str, int], record_ids: list[int]
) -> None:
    now = utcnow()
    rows = [
        {
            "barcode": c.barcode,
            "record_id": record_ids[c.record % len(record_ids)],
            "home_point_id": point_ids[c.home],
            "current_point_id": point_ids[c.home],
            "call_number": c.call_number,
            "item_type": c.item_type,
            "status": CopyStatus.AVAILABLE.value,
            "status_reason": "",
            "status_changed_at": now,
            "price": parse_price(c.price),
            "date_added": c.date_added,
            "created_at": now,
            "updated_at": now,
        }
        for c in demo.copies
    ]
    table = table_of(Copy)
    for start in range(0, len(rows), 5000):  # Core insert: no ORM bookkeeping per row
        session.connection().execute(table.insert(), rows[start : start + 5000])


def _load_patrons(
    session: Session, demo: DemoNetwork, point_ids: dict[str, int], id_key: str
) -> None:
    now = utcnow()
    pin_hash = generate_password_hash(DEMO_PIN, method=PIN_HASH_METHOD)
    rows = [
        {
            "card": p.card,
            "name": p.name,
            "category": p.category,
            "home_point_id": point_ids[p.home],
            "pin_hash": pin_hash,
            "id_number_hash": hash_id_number(p.id_number, id_key),
            "id_number_masked": mask_id_number(p.id_number),
            "phone": p.phone,
            "status": "active",
            "expires_on": p.expires,
            "created_at": now,
            "updated_at": now,
        }
        for p in demo.patrons
    ]
    session.execute(insert(Patron), rows)
