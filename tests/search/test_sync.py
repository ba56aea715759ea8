"""Keeping search in step: the indexer after each commit, the worker, reindex with no empty moment."""

from __future__ import annotations

import os
import re
import threading
import time

import pytest
from sqlalchemy import select

from app import create_app
from catalog.network import point_by_code
from catalog.records import Copy, CopyStatus, Record
from catalog.search.outbox import SearchOutbox
from tests.conftest import bearer, login, require_service


def total(client, q: str) -> int:
    return client.get("/api/v1/search", query_string={"q": q}).json["total"]


def test_commit_wakes_the_background_indexer_and_the_request_does_not_wait(app, client, make_token):
    runtime = app.extensions["tongjie.search"]
    runtime.background = True
    token = bearer(make_token("cataloguer"))
    started = time.monotonic()
    response = client.post("/api/v1/records", json={"title": "聊斋志异"}, headers=token)
    assert response.status_code == 201
    assert time.monotonic() - started < 2
    deadline = time.monotonic() + 15
    from app.db import get_session

    # Elasticsearch takes the batch before the outbox rows' deletion commits: wait for both
    # (the record found, nothing left waiting)
    while True:
        found = total(client, "liaozhaizhiyi")
        with app.app_context():
            waiting = get_session().scalars(select(SearchOutbox)).all()
        if found and not waiting:
            break
        assert time.monotonic() < deadline, "the background indexer did not index it"
        time.sleep(0.2)


def shelved(db, index_now, title: str, barcode: str) -> tuple[Record, Copy]:
    """A record with one copy on the shelf at QX01, indexed."""
    point = point_by_code(db, "QX01")
    record = Record(title=title)
    copy = Copy(barcode=barcode, record=record, home_point=point, current_point=point)
    db.add(copy)
    db.commit()
    index_now()
    return record, copy


def test_copy_status_change_reaches_the_shelf_filter(app, client, db, network, index_now):
    record, copy = shelved(db, index_now, "果树修剪图解", "3100000009")
    on_shelf = "/api/v1/search?q=果树&shelf=QX01"
    assert client.get(on_shelf).json["total"] == 1
    copy.status = CopyStatus.ON_LOAN
    db.commit()
    assert db.scalars(select(SearchOutbox.record_id)).all() == [record.id]
    index_now()
    assert client.get(on_shelf).json["total"] == 0
    assert client.get("/api/v1/search?q=果树").json["total"] == 1


def test_unchanged_document_is_left_as_it_is(app, client, db, network, index_now):
    """A copy lent (off the shelf: the document changes), then sent home in transit (still
    off the shelf: the same document). On PostgreSQL the second write leaves the row alone:
    the same row version (xmin), so nothing was rewritten or indexed again."""
    from sqlalchemy import text

    from catalog.search.store import SearchDocument

    record, copy = shelved(db, index_now, "茶叶种植与加工", "3100000010")
    postgres = db.get_bind().dialect.name == "postgresql"

    def row() -> tuple:
        version = "xmin::text" if postgres else "NULL"
        return tuple(db.execute(text(f"SELECT {version}, facets FROM search_documents "
                                     "WHERE record_id = :r"), {"r": record.id}).one())  # fmt: skip

    first = row()
    assert "pt:QX01" in first[1]
    copy.status = CopyStatus.ON_LOAN
    db.commit()
    index_now()
    lent = row()
    assert "pt:QX01" not in lent[1] and (lent[0] != first[0] or not postgres)
    copy.status = CopyStatus.IN_TRANSIT
    db.commit()
    assert index_now() == 1
    assert row() == lent
    assert db.scalar(select(SearchDocument.held).where(SearchDocument.record_id == record.id)) == 1
    assert client.get("/api/v1/search?q=茶叶种植").json["total"] == 1
    assert client.get("/api/v1/search?q=茶叶种植&shelf=QX01").json["total"] == 0


def test_deleted_record_leaves_the_index(app, client, db, network, index_now):
    record = Record(title="临时书目")
    db.add(record)
    db.commit()
    index_now()
    assert total(client, "临时书目") == 1
    db.delete(record)
    db.commit()
    index_now()
    assert total(client, "临时书目") == 0


def test_worker_once_drains_the_outbox(app, db, network):
    db.add_all([Record(title="农村实用技术"), Record(title="家庭养花100问")])
    db.commit()
    result = app.test_cli_runner().invoke(args=["search", "worker", "--once"])
    assert result.exit_code == 0, result.output
    assert "2 records indexed" in result.output
    assert db.scalars(select(SearchOutbox)).all() == []


def test_reindex_rebuilds_everything_with_no_moment_of_empty_results(app, client, db, network,
                                                                      index_now):  # fmt: skip
    db.add_all([Record(title=f"水稻栽培技术 第{i}辑") for i in range(1200)])
    db.commit()
    index_now()
    assert total(client, "水稻") == 1200
    seen: list[int] = []
    stop = threading.Event()

    def keep_searching() -> None:
        reader = app.test_client()
        while not stop.is_set():
            seen.append(total(reader, "水稻"))

    watcher = threading.Thread(target=keep_searching)
    watcher.start()
    try:
        result = app.test_cli_runner().invoke(args=["search", "reindex"])
    finally:
        stop.set()
        watcher.join()
    assert result.exit_code == 0, result.output
    assert "1200 records indexed" in result.output
    assert seen and min(seen) == 1200
    assert total(client, "水稻") == 1200


@pytest.mark.elasticsearch
def test_reindex_swaps_the_alias_to_a_new_index(app, network):
    es_app = create_app({**app.config, "ELASTICSEARCH_URL": require_service("elasticsearch")})
    runtime = es_app.extensions["tongjie.search"]
    es = runtime.elasticsearch
    try:
        with es_app.app_context():
            from app.db import get_session

            get_session().add(Record(title="红楼梦"))
            get_session().commit()
        runtime.drain(refresh=True)
        before = sorted(es.client.indices.get_alias(name=es.alias))
        result = es_app.test_cli_runner().invoke(args=["search", "reindex"])
        assert result.exit_code == 0, result.output
        after = sorted(es.client.indices.get_alias(name=es.alias))
        assert len(before) == len(after) == 1 and before != after
        assert after[0].startswith(es.alias + "-")
        assert not es.client.indices.exists(index=before[0])
        assert es.count() == 1
    finally:
        runtime.close(delete_indices=True)
        es_app.extensions["tongjie.engine"].dispose()


def test_healthz_and_admin_page_show_the_lag(app, client, network):
    """(No ``db`` fixture here: its app context would keep the anonymous caller in ``g``.)"""
    with app.app_context():
        from app.db import get_session

        get_session().add(Record(title="待索引的书"))
        get_session().commit()
    health = client.get("/healthz").json
    assert health["search"]["lag"]["pending"] == 1
    expected = "elasticsearch" if os.environ.get("TONGJIE_ELASTICSEARCH_URL") else "embedded"
    assert health["search"]["backend"] == expected
    app.test_cli_runner().invoke(
        args=["users", "add", "boss", "--role", "network_admin", "--password", "password-123"]
    )
    login(client, "boss", "password-123")
    page = client.get("/staff/search").get_data(as_text=True)
    assert 'id="pending">1<' in page
    app.extensions["tongjie.search"].drain(refresh=True)
    assert 'id="pending">0<' in client.get("/staff/search").get_data(as_text=True)


def test_demo_load_makes_its_books_findable(app, client):
    result = app.test_cli_runner().invoke(args=["demo", "load", "--scale", "0.02"])
    assert result.exit_code == 0, result.output
    indexed = re.search(r"search: (\d+) records indexed, 0 waiting", result.output)
    assert indexed and int(indexed.group(1)) > 0, result.output
    app.extensions["tongjie.search"].drain(refresh=True)
    with app.app_context():
        from app.db import get_session

        title = get_session().scalars(select(Record.title).order_by(Record.id)).first()
    assert client.get("/api/v1/search", query_string={"q": title}).json["total"] >= 1
