"""Search backends behind one small interface: the embedded one and Elasticsearch.

Both take the same ``Query`` (catalog/search/query.py) and the same
``Document`` (catalog/search/document.py), and answer with record ids in
order, the total and facet counts; scores are the weights the query states,
so the same query gives the same ranking on either. The embedded backend is
tables in the catalogue's own database (SQLite FTS5 or PostgreSQL text
search); Elasticsearch is used when TONGJIE_ELASTICSEARCH_URL is set, and the
embedded index is kept up to date beside it as the fallback when the node is
down.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from catalog.search.document import Document
from catalog.search.query import Query

SORTS = ("relevance", "year", "year_asc", "title")
FACETS = {
    "pt": "point",
    "kd": "kind",
    "cc": "clc",
    "yb": "year",
    "ln": "language",
    "it": "item_type",
}


@dataclass(frozen=True)
class SearchRequest:
    query: Query
    page: int = 1
    size: int = 20
    sort: str = "relevance"

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.size


@dataclass
class Hit:
    record_id: int
    score: float
    display: dict[str, Any]


@dataclass
class SearchResult:
    total: int
    hits: list[Hit]
    facets: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    engine_ms: float | None = None  # the engine's own time, where it reports one


def facets_from_counts(counts: dict[str, int]) -> dict[str, list[dict[str, Any]]]:
    """Facet values ("pt:QX01" -> 3) grouped by facet, most frequent first."""
    grouped: dict[str, list[dict[str, Any]]] = {name: [] for name in FACETS.values()}
    for value, count in counts.items():
        prefix, _, rest = value.partition(":")
        if prefix in FACETS and count > 0:
            grouped[FACETS[prefix]].append({"value": rest, "count": count})
    for values in grouped.values():
        values.sort(key=lambda v: (-v["count"], v["value"]))
    return grouped


class SearchBackend(Protocol):
    name: str

    def status(self) -> dict[str, Any]:
        """Whether the backend answers, and its version where it has one."""
        ...

    def search(self, request: SearchRequest) -> SearchResult: ...

    def suggest(self, token: str, size: int) -> list[Hit]: ...

    def write(self, documents: list[Document], deleted: list[int]) -> None: ...
