"""No circulation code reads or waits for the search engine: lending works with it unreachable.

The app is pointed at an Elasticsearch address where nothing listens (and the
real node stopped and started is tested with search, tests/search/). Checkout,
check-in, a hold and a renewal all answer; the copies' changes wait in the
outbox for the indexer.
"""

from __future__ import annotations

import socket

import pytest
from sqlalchemy import func, select

from app import create_app
from catalog.search.outbox import SearchOutbox
from tests.conftest import bearer


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # closed again when the block ends


@pytest.fixture
def app_without_search(app):
    config = {**app.config, "ELASTICSEARCH_URL": f"http://127.0.0.1:{closed_port()}"}
    unreachable = create_app(config)
    yield unreachable
    unreachable.extensions["tongjie.engine"].dispose()


def test_lending_goes_on_with_the_search_engine_unreachable(app_without_search, circ, make_token):
    record = circ.record()
    circ.copy("31001", record, "QX")
    circ.copy("31002", record, "QX")
    circ.patron("20001")
    circ.patron("20002")
    circ.db.commit()
    token = bearer(make_token("branch_librarian", scope="QX01"))
    client = app_without_search.test_client()
    lent = client.post("/api/v1/checkouts", json={"card": "20001", "barcode": "31001"},
                       headers=token)  # fmt: skip
    assert lent.status_code == 201, lent.json
    hold = client.post("/api/v1/holds", headers=token,
                       json={"card": "20002", "record_id": record.id, "pickup": "QX01"})  # fmt: skip
    assert hold.status_code == 201, hold.json
    back = client.post("/api/v1/checkins", json={"barcode": "31001"}, headers=token)
    assert back.status_code == 200 and back.json["receipt"]["action"] == "hold_shelf"
    assert client.get("/healthz").json["search"]["status"] == "down"
    circ.db.expire_all()
    assert circ.db.scalar(select(func.count(SearchOutbox.id))) >= 2
