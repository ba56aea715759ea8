"""The judged set meets nDCG@10 >= 0.9 for every kind of query, and never drops below its record.

The figures are written to bench-results/search_quality_<backend>.json on
every run; docs/search-quality.md holds the table. After an improvement,
record the new figures with TONGJIE_RECORD_SEARCH_QUALITY=1 (they only go up).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path

import pytest

from app.db import get_session
from tests.search.conftest import Judged
from tests.search.corpus import ranked_ids
from tests.search.judged import JUDGED, evaluate

TARGET = 0.9
RECORDED = Path(__file__).with_name("quality.json")
RESULTS = Path(__file__).resolve().parents[2] / "bench-results"


def _check(judged: Judged) -> None:
    scores = evaluate(lambda q: ranked_ids(judged.app, q), judged.grades)
    RESULTS.mkdir(exist_ok=True)
    report = {kind: asdict(s) for kind, s in scores.items()}
    (RESULTS / f"search_quality_{judged.backend}.json").write_text(json.dumps(report, indent=2))
    recorded = json.loads(RECORDED.read_text()) if RECORDED.exists() else {}
    if os.environ.get("TONGJIE_RECORD_SEARCH_QUALITY"):
        mine = recorded.setdefault(judged.backend, {})
        for kind, s in scores.items():
            mine[kind] = max(mine.get(kind, 0.0), s.ndcg_at_10)
        RECORDED.write_text(json.dumps(recorded, indent=2, sort_keys=True) + "\n")
    floor = recorded.get(judged.backend, {})
    below = {
        kind: (s.ndcg_at_10, max(TARGET, floor.get(kind, 0.0)))
        for kind, s in scores.items()
        if s.ndcg_at_10 < max(TARGET, floor.get(kind, 0.0)) - 1e-9
    }
    assert not below, f"nDCG@10 below target or record on {judged.backend}: {below}"
    assert set(floor) <= set(scores), "a recorded kind of query has no queries left"


def test_every_judged_query_has_an_answer_in_the_corpus(judged):
    missing = [q for _kind, q, _first, _rel in JUDGED if 2 not in judged.grades[q].values()]
    assert missing == []
    assert len(JUDGED) >= 100


def test_judged_set_meets_target_on_this_runs_backend(judged):
    _check(judged)


@pytest.mark.postgres
def test_judged_set_meets_target_on_postgresql_text_search(judged_postgres):
    _check(judged_postgres)


@pytest.mark.postgres
def test_same_query_same_top_results_on_every_backend(judged, judged_postgres):
    """SQLite FTS5 vs PostgreSQL text search (SQLite run); Elasticsearch vs PostgreSQL (PG run)."""

    def titles(j: Judged, q: str, engine: bool) -> list[str]:
        with j.app.app_context():
            search = j.app.extensions["tongjie.search"]
            from catalog.search import service

            outcome = service.search(
                get_session(), q=q, size=10, dictionary=search.dictionary,
                elasticsearch=search.elasticsearch if engine else None,
            )  # fmt: skip
            return [f"{h.display['title']}|{h.score}" for h in outcome.result.hits]

    other_engine = judged_postgres is judged  # PG run: compare ES with PG's embedded index
    differing = {}
    for _kind, q, _first, _rel in JUDGED:
        left = titles(judged, q, True)
        right = titles(judged_postgres, q, not other_engine)
        if left != right:
            differing[q] = (left[:3], right[:3])
    assert differing == {}
