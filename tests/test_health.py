"""/healthz reports the database, the search backend and how far the index lags."""

from __future__ import annotations

import os

import pytest

from app import create_app
from catalog.records import Record
from tests.conftest import require_service


def test_health_reports_database_search_and_lag(client, db):
    db.add_all([Record(title="农村实用技术"), Record(title="果树修剪图解")])
    db.commit()
    body = client.get("/healthz").json
    assert body["database"]["status"] == "ok"
    assert body["database"]["revision"] == body["database"]["head"]
    assert body["search"]["lag"]["pending"] == 2
    assert body["search"]["lag"]["oldest_seconds"] >= 0
    expected = "elasticsearch" if os.environ.get("TONGJIE_ELASTICSEARCH_URL") else "embedded"
    assert body["search"]["backend"] == expected
    assert body["status"] == "ok"


@pytest.mark.elasticsearch
def test_health_reads_the_real_elasticsearch_version(app):
    url = require_service("elasticsearch")
    es_app = create_app({**app.config, "ELASTICSEARCH_URL": url})
    body = es_app.test_client().get("/healthz").json
    assert body["search"]["status"] == "ok", body
    assert body["search"]["version"].startswith("8.")
    es_app.extensions["tongjie.engine"].dispose()


def test_search_down_is_degraded_not_down(app):
    dead = create_app({**app.config, "ELASTICSEARCH_URL": "http://127.0.0.1:9"})
    response = dead.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.json["status"] == "degraded"
    assert response.json["search"]["status"] == "down"
    assert response.json["database"]["status"] == "ok"
    dead.extensions["tongjie.engine"].dispose()
