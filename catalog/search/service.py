"""Searching the catalogue (检索): one use case for the OPAC pages, the JSON API and benchmarks.

The engine finds and ranks records; what each result shows about copies on
the shelf is read live from the database, never from the index, so a book
just returned shows as on the shelf at once. When Elasticsearch is
configured but does not answer, the embedded index answers instead and the
outcome says so (``degraded``), so the OPAC can tell the reader.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog.errors import DomainError
from catalog.network import ServicePoint
from catalog.records import NOT_HELD, Copy, CopyStatus
from catalog.search.backends import SearchBackend, SearchRequest, SearchResult
from catalog.search.elastic import UNAVAILABLE, ElasticsearchBackend
from catalog.search.embedded import EmbeddedBackend
from catalog.search.highlight import highlight
from catalog.search.query import Query, parse, suggestion_token
from catalog.search.typos import Dictionary

# Filters a reader may apply, and the document token each becomes.
FILTERS = {
    "shelf": "fpt:",  # on the shelf at this point
    "under": "su:",  # on the shelf anywhere under this branch
    "kind": "fkd:",
    "clc": "fcc:",
    "year": "fyb:",
    "language": "fln:",
    "item_type": "fit:",
}
_FILTER_VALUE = re.compile(r"^[A-Za-z0-9_\-]{1,40}$")


class InvalidSearch(DomainError):
    code = "invalid_search"
    http_status = 422


@dataclass
class Outcome:
    result: SearchResult
    query: Query
    backend: str
    degraded: bool
    availability: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    point_names: dict[str, str] = field(default_factory=dict)  # code -> name, for the facets


def filter_tokens(filters: dict[str, str | None]) -> list[str]:
    """Filter values as document tokens; a value that cannot be a code is refused."""
    tokens = []
    for name, value in filters.items():
        if value in (None, ""):
            continue
        if name not in FILTERS or not _FILTER_VALUE.match(str(value)):
            raise InvalidSearch(
                f"filter {name}={value!r} is not a known filter with a code as its value",
                f"筛选条件 {name}={value!r} 无效",
                field=name,
            )
        tokens.append(FILTERS[name] + str(value).lower())
    return tokens


def search(
    session: Session, *, q: str, page: int = 1, size: int = 20, sort: str = "relevance",
    filters: dict[str, str | None] | None = None, point: str | None = None,
    elasticsearch: ElasticsearchBackend | None = None, dictionary: Dictionary | None = None,
) -> Outcome:  # fmt: skip
    """Run a reader's search; fall back to the embedded index when Elasticsearch is down."""
    words = dictionary or Dictionary()
    query = parse(q, lambda word: words.corrections(session, word))
    query.filters.extend(filter_tokens(filters or {}))
    request = SearchRequest(query, page, size, sort)
    engine: SearchBackend = elasticsearch or EmbeddedBackend(session)
    degraded = False
    try:
        result = engine.search(request)
    except UNAVAILABLE:
        degraded = True
        engine = EmbeddedBackend(session)
        result = engine.search(request)
    for hit in result.hits:
        hit.display["highlight"] = str(highlight(hit.display.get("title"), query))
        vernacular = hit.display.get("vernacular_title")
        if vernacular:
            hit.display["vernacular_highlight"] = str(highlight(vernacular, query))
    points = service_points(session) if result.hits or result.facets.get("point") else {}
    avail = availability(session, [h.record_id for h in result.hits], point, points)
    names = {p.code: p.name for p in points.values()}
    return Outcome(result, query, engine.name, degraded, avail, names)


def suggest(
    session: Session, q: str, *, size: int = 8, elasticsearch: ElasticsearchBackend | None = None
) -> tuple[list[dict[str, Any]], bool]:
    """Titles starting with what was typed (as Han text, pinyin or initials); degraded flag."""
    token = suggestion_token(q)
    if token is None:
        return [], False
    degraded = False
    hits = None
    if elasticsearch is not None:
        try:
            hits = elasticsearch.suggest(token, size * 2)
        except UNAVAILABLE:
            degraded = True
    if hits is None:
        hits = EmbeddedBackend(session).suggest(token, size * 2)
    seen: set[str] = set()
    out = []
    for hit in hits:
        title = hit.display.get("vernacular_title") or hit.display.get("title") or ""
        if title and title not in seen:
            seen.add(title)
            out.append({"id": hit.record_id, "title": title})
    return out[:size], degraded


def service_points(session: Session) -> dict[int, Any]:
    """Every point's id, code, name and kind, by id: one query for availability and facets."""
    columns = (ServicePoint.id, ServicePoint.code, ServicePoint.name, ServicePoint.kind)
    return {p.id: p for p in session.execute(select(*columns))}


def availability(
    session: Session, record_ids: list[int], point: str | None, points: dict[int, Any]
) -> dict[int, list[dict[str, Any]]]:
    """Per record, copies held and on the shelf now at each point, the reader's point first.

    Held counts copies by their home point; on the shelf counts available
    copies where they are now. ``points`` is service_points().
    """
    if not record_ids:
        return {}
    per: dict[int, dict[int, dict[str, Any]]] = {rid: {} for rid in record_ids}

    def entry(record_id: int, point_id: int) -> dict[str, Any]:
        found = per[record_id].get(point_id)
        if found is None:
            p = points[point_id]
            found = {"point": p.code, "name": p.name, "kind": p.kind, "held": 0, "on_shelf": 0}
            per[record_id][point_id] = found
        return found

    # One look-up by record (the copies' record_id index); counted here.
    rows = session.execute(
        select(Copy.record_id, Copy.home_point_id, Copy.current_point_id, Copy.status).where(
            Copy.record_id.in_(record_ids)
        )
    )
    not_held = {s.value for s in NOT_HELD}
    for record_id, home_id, current_id, status in rows:
        if status in not_held:
            continue
        entry(record_id, home_id)["held"] += 1
        if status == CopyStatus.AVAILABLE.value:
            entry(record_id, current_id)["on_shelf"] += 1
    return {
        rid: sorted(
            by_point.values(),
            key=lambda a: (a["point"] != point, -a["on_shelf"], -a["held"], a["point"]),
        )
        for rid, by_point in per.items()
    }
