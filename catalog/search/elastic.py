"""Elasticsearch backend: the tokens made in Python, indexed with built-in analysers only.

The index is reached through an alias (``<prefix>-records``), so a full
reindex builds a new index and swaps the alias in one step: searches see the
old index until the new one is complete. Tokens go into one text field with
the prebuilt ``whitespace`` analyser (the minimal distribution has no
analysis-common, so no custom analyser can be made); facets, sort values and
display fields are keyword, numeric and unindexed fields. Scores are the
query's own weights (``constant_score`` inside ``dis_max``), as in the
embedded backend.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Iterator
from typing import Any

from elasticsearch import Elasticsearch, helpers
from elasticsearch import exceptions as es_exceptions

from catalog.search.backends import Hit, SearchRequest, SearchResult, facets_from_counts
from catalog.search.document import Document
from catalog.search.query import Clause, Query

# What goes wrong when the node is down, slow or refuses: callers fall back.
UNAVAILABLE = (
    es_exceptions.ApiError,
    es_exceptions.TransportError,
    helpers.BulkIndexError,
)

MAPPINGS = {
    "dynamic": "strict",
    "properties": {
        "id": {"type": "integer"},
        "tokens": {
            "type": "text",
            "analyzer": "whitespace",
            "index_options": "docs",
            "norms": False,
        },
        "sort_title": {"type": "keyword"},
        "year": {"type": "integer"},
        "held": {"type": "integer"},
        "title_length": {"type": "integer"},
        "facets": {"type": "keyword"},
        "display": {"type": "object", "enabled": False},
    },
}
_SORT: dict[str, Any] = {
    "relevance": [{"_score": "desc"}, {"title_length": "asc"}, {"held": "desc"}, {"id": "asc"}],
    "year": [{"year": {"order": "desc", "missing": "_last"}}, {"_score": "desc"}, {"id": "asc"}],
    "year_asc": [
        {"year": {"order": "asc", "missing": "_last"}},
        {"_score": "desc"},
        {"id": "asc"},
    ],
    "title": [{"sort_title": "asc"}, {"id": "asc"}],
}


class ElasticsearchBackend:
    """An Elasticsearch node or cluster, with only the analysers built into the server."""

    name = "elasticsearch"

    def __init__(self, url: str, index_prefix: str, timeout: float = 2.0) -> None:
        self.url = url
        self.index_prefix = index_prefix
        self.alias = f"{index_prefix}-records"
        self.created_index = False  # by this process: tests then delete their prefix's indices
        self.client = Elasticsearch(url, request_timeout=timeout, retry_on_timeout=False,
                                    max_retries=0)  # fmt: skip

    def status(self) -> dict[str, Any]:
        """Cluster health and server version; "down" with the reason when it does not answer.

        The minimal distribution has no ``GET /``, so the version comes from the nodes API.
        """
        try:
            health = self.client.cluster.health()
            nodes = self.client.nodes.info(node_id="_local", filter_path="nodes.*.version")
        except UNAVAILABLE as exc:
            return {"backend": self.name, "status": "down", "reason": type(exc).__name__}
        versions = sorted({n["version"] for n in nodes.get("nodes", {}).values()})
        state = "ok" if health["status"] in ("green", "yellow") else "degraded"
        return {
            "backend": self.name,
            "status": state,
            "cluster_status": health["status"],
            "version": versions[0] if versions else None,
            "index_prefix": self.index_prefix,
            "alias": self.alias,
        }

    # ---------------------------------------------------------------- indices

    def has_index(self) -> bool:
        return bool(self.client.indices.exists_alias(name=self.alias))

    def create_index(self, *, building: bool = False) -> str:
        """A new, empty index named after the prefix and the time (not yet behind the alias)."""
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d%H%M%S")
        name = f"{self.alias}-{stamp}-{uuid.uuid4().hex[:6]}"
        settings = {"number_of_shards": 1, "number_of_replicas": 0,
                    "refresh_interval": "-1" if building else "1s"}  # fmt: skip
        self.client.indices.create(index=name, settings=settings, mappings=MAPPINGS)
        self.created_index = True
        return name

    def swap_alias(self, new_index: str) -> list[str]:
        """Point the alias at ``new_index`` in one atomic step; return the indices it left."""
        self.client.indices.put_settings(index=new_index, settings={"refresh_interval": "1s"})
        self.client.indices.refresh(index=new_index)
        old = self._aliased()
        actions: list[dict[str, Any]] = [{"remove": {"index": i, "alias": self.alias}} for i in old]
        actions.append({"add": {"index": new_index, "alias": self.alias}})
        self.client.indices.update_aliases(actions=actions)
        return old

    def _aliased(self) -> list[str]:
        try:
            return sorted(self.client.indices.get_alias(name=self.alias))
        except es_exceptions.NotFoundError:
            return []

    def delete_indices(self, names: Iterable[str]) -> None:
        for name in names:
            self.client.indices.delete(index=name, ignore_unavailable=True)

    def delete_all(self) -> None:
        """Every index under this prefix (tests clean up after themselves with this)."""
        self.client.indices.delete(index=f"{self.index_prefix}-*", ignore_unavailable=True,
                                   allow_no_indices=True, expand_wildcards="all")  # fmt: skip

    def refresh(self) -> None:
        self.client.indices.refresh(index=self.alias)

    # ---------------------------------------------------------------- writing

    def write(self, documents: list[Document], deleted: list[int], index: str | None = None,
              refresh: bool = False) -> None:  # fmt: skip
        """Index and delete in one bulk request (to the alias unless ``index`` is given)."""
        target = index or self.alias
        helpers.bulk(
            self.client.options(request_timeout=60),
            self._actions(documents, deleted, target),
            chunk_size=1000,
            refresh=refresh,
        )

    def _actions(self, documents: list[Document], deleted: list[int], target: str
                 ) -> Iterator[dict[str, Any]]:  # fmt: skip
        for d in documents:
            yield {"_op_type": "index", "_index": target, "_id": str(d.record_id),
                   "_source": source(d)}  # fmt: skip
        for record_id in deleted:
            yield {"_op_type": "delete", "_index": target, "_id": str(record_id)}

    def count(self) -> int:
        return int(self.client.count(index=self.alias)["count"])

    # ---------------------------------------------------------------- reading

    def search(self, request: SearchRequest) -> SearchResult:
        query = request.query
        if query.empty:
            return SearchResult(0, [])
        answer = self.client.search(
            index=self.alias,
            query=es_query(query),
            sort=_SORT.get(request.sort, _SORT["relevance"]),
            from_=request.offset,
            size=request.size,
            track_total_hits=True,
            track_scores=True,
            source_includes=["display"],
            aggs={"facets": {"terms": {"field": "facets", "size": 2000}}},
        )
        hits = [
            Hit(int(h["_id"]), float(h.get("_score") or 0.0), h["_source"].get("display", {}))
            for h in answer["hits"]["hits"]
        ]
        counts = {b["key"]: b["doc_count"] for b in answer["aggregations"]["facets"]["buckets"]}
        total = int(answer["hits"]["total"]["value"])
        return SearchResult(total, hits, facets_from_counts(counts), engine_ms=answer["took"])

    def suggest(self, token: str, size: int) -> list[Hit]:
        return self.search(SearchRequest(Query(filters=[token]), 1, size)).hits


def source(document: Document) -> dict[str, Any]:
    return {
        "id": document.record_id,
        "tokens": document.token_text(),
        "sort_title": document.sort_title,
        "year": document.year,
        "held": document.held,
        "title_length": document.title_length,
        "facets": sorted(document.facets),
        "display": document.display,
    }


def _clause(clause: Clause) -> dict[str, Any]:
    musts: list[dict[str, Any]] = []
    for group in clause.groups:
        if len(group) == 1:
            musts.append({"term": {"tokens": group[0]}})
        else:
            musts.append({"terms": {"tokens": [*group]}})
    return {"constant_score": {"filter": {"bool": {"filter": musts}}, "boost": clause.weight}}


def es_query(query: Query) -> dict[str, Any]:
    """The query as Elasticsearch DSL: each term a dis_max of weighted alternatives."""
    terms = [
        {"dis_max": {"queries": [_clause(a) for a in term.alternatives], "tie_breaker": 0}}
        for term in query.terms
    ]
    matching: dict[str, Any] = {"match_all": {"boost": 0}}
    if terms:
        minimum = query.minimum or len(terms)
        matching = {"bool": {"should": terms, "minimum_should_match": minimum}}
    body: dict[str, Any] = {
        "must": [matching],
        "filter": [{"term": {"tokens": t}} for t in query.filters],
    }
    if query.bonuses:
        body["should"] = [_clause(b) for b in query.bonuses]
    return {"bool": body}
