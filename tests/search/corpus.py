"""The judged set's catalogue, built once per test session (or benchmark run)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from flask import Flask
from sqlalchemy import select

from app.db import get_session
from app.demo.load import load_demo
from catalog.imports import import_file
from catalog.records import Record
from tests.search.judged import SHARED_FILES, grades, load_supplement

DEMO_SCALE = 0.3


def build_corpus(app: Flask, shared: Path) -> dict[str, dict[int, int]]:
    """Load the demo network and catalogue, the real MARC files and our records; index them."""
    with app.app_context():
        session = get_session()
        load_demo(session, seed=2026, scale=DEMO_SCALE, admin_password="judged-set",
                  id_key="judged-set")  # fmt: skip
        session.commit()
        with tempfile.TemporaryDirectory() as reports:
            for name in SHARED_FILES:
                import_file(session, shared / name, location="QX", report_dir=Path(reports))
                session.commit()
        load_supplement(session)
        app.extensions["tongjie.search"].drain(refresh=True)
        records = list(session.scalars(select(Record).order_by(Record.id)))
        return grades(records)


def ranked_ids(app: Flask, q: str, **kwargs: object) -> list[int]:
    with app.app_context():
        outcome = app.extensions["tongjie.search"].search(get_session(), q=q, size=10, **kwargs)
        return [h.record_id for h in outcome.result.hits]
