"""With the Elasticsearch node stopped, the library keeps working and search catches up later.

A private node (tests/search/es_node.py) is started, stopped and started
again; the shared node on port 9200 is never touched. Checkouts, returns and
cataloguing all go on while it is down (``node.stopped()``), and take no
longer than with the node up.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import select

from app import create_app
from catalog.network import point_by_code
from catalog.search.outbox import SearchOutbox
from circulation.patrons import Patron
from tests.conftest import bearer, require_service
from tests.search.es_node import PrivateNode

pytestmark = pytest.mark.elasticsearch


@pytest.fixture(scope="module")
def node() -> Iterator[PrivateNode]:
    require_service("elasticsearch")  # the distribution scripts/services installed
    private = PrivateNode()
    private.start()
    yield private
    private.cleanup()


@pytest.fixture
def es_app(app: Flask, node: PrivateNode) -> Iterator[Flask]:
    """The test's database, searched through the private node."""
    application = create_app({**app.config, "ELASTICSEARCH_URL": node.url})
    yield application
    application.extensions["tongjie.search"].close(delete_indices=True)
    application.extensions["tongjie.engine"].dispose()


def search(client, q: str) -> dict:
    response = client.get("/api/v1/search", query_string={"q": q})
    assert response.status_code == 200
    return response.json


def searched_by_the_node(client, runtime, q: str, timeout: float = 60) -> dict:
    """The answer once the node answers searches: a node just (re)started on a busy machine
    may time out its first ones, and the OPAC then rightly falls back for a few seconds."""
    deadline = time.monotonic() + timeout
    while True:
        body = search(client, q)
        if body["backend"] == "elasticsearch" or time.monotonic() > deadline:
            return body
        time.sleep(1)
        runtime.drain(refresh=True)  # a drain the node takes lets searches use it again


def pending(app: Flask) -> list[SearchOutbox]:
    with app.app_context():
        from app.db import get_session

        return list(get_session().scalars(select(SearchOutbox)))


def test_node_stopped_circulation_and_cataloguing_work_search_degrades_and_catches_up(
    es_app, node, make_token, db
):
    runtime = es_app.extensions["tongjie.search"]
    client = es_app.test_client()
    token = bearer(make_token("cataloguer"))
    desk = bearer(make_token("branch_librarian", scope="QX01"))
    db.add(Patron(card="20000001", name="读者甲", category="adult",
                  home_point=point_by_code(db, "QX01")))  # fmt: skip
    db.commit()
    created = client.post("/api/v1/records", json={"title": "红楼梦", "authors": ["曹雪芹"]},
                          headers=token)  # fmt: skip
    assert created.status_code == 201
    first = client.post(f"/api/v1/records/{created.json['id']}/copies", json={"home": "QX01"},
                        headers=token).json["barcode"]  # fmt: skip
    runtime.drain(refresh=True)
    body = searched_by_the_node(client, runtime, "hongloumeng")
    assert (body["backend"], body["degraded"], body["total"]) == ("elasticsearch", False, 1)

    with node.stopped():
        started = time.monotonic()
        new = client.post("/api/v1/records", json={"title": "水浒传", "authors": ["施耐庵"]},
                          headers=token)  # fmt: skip
        assert new.status_code == 201
        copy = client.post(f"/api/v1/records/{created.json['id']}/copies", json={"home": "QX02"},
                           headers=token)  # fmt: skip
        assert copy.status_code == 201
        status = client.post(f"/api/v1/copies/{copy.json['barcode']}/status",
                             json={"status": "damaged", "reason": "水渍"}, headers=token)  # fmt: skip
        assert status.status_code == 200
        lent = client.post("/api/v1/checkouts", json={"card": "20000001", "barcode": first},
                           headers=desk)  # fmt: skip
        assert lent.status_code == 201, lent.json
        back = client.post("/api/v1/checkins", json={"barcode": first}, headers=desk)
        assert back.status_code == 200, back.json
        again = client.post("/api/v1/checkouts", json={"card": "20000001", "barcode": first},
                            headers=desk)  # fmt: skip
        assert again.status_code == 201
        assert time.monotonic() - started < 5  # nothing waited for the dead node

        report = runtime.drain(refresh=True)
        assert report.elasticsearch_down
        kept = pending(es_app)
        assert {r.record_id for r in kept} == {created.json["id"], new.json["id"]}
        assert all(r.embedded_done for r in kept)

        body = search(client, "shuihuzhuan")
        assert (body["backend"], body["degraded"], body["total"]) == ("embedded", True, 1)
        assert "降级" in client.get("/search?q=水浒传").get_data(as_text=True)
        health = client.get("/healthz").json
        assert health["status"] == "degraded"
        assert health["search"]["status"] == "down"
        assert health["search"]["lag"]["pending"] == len(kept)

    deadline = time.monotonic() + 60
    report = runtime.drain(refresh=True)
    caught_up = report.records
    while report.elasticsearch_down:  # the node is up but may still be warming
        assert time.monotonic() < deadline, "the indexer never reached the restarted node"
        time.sleep(1)
        report = runtime.drain(refresh=True)
        caught_up += report.records
    assert caught_up == 2
    assert pending(es_app) == []
    body = searched_by_the_node(client, runtime, "shuihuzhuan")
    assert (body["backend"], body["degraded"], body["total"]) == ("elasticsearch", False, 1)
    hit = search(client, "红楼梦")["hits"][0]
    assert (hit["held"], hit["on_shelf"]) == (2, 0)  # one on loan, one damaged
    shelf = client.get("/api/v1/search", query_string={"q": "红楼梦", "shelf": "QX01"}).json
    assert shelf["total"] == 0  # the index knows the copy is out
    assert client.get("/healthz").json["search"]["lag"]["pending"] == 0
