"""The embedded search (内置检索): the same query over tables in the catalogue's own database.

On SQLite the tokens are indexed by an FTS5 table (``search_fts``, kept in
step with ``search_documents`` by triggers); on PostgreSQL by a ``tsvector``
column with a GIN index. Neither database's own ranking is used: a
document's score is the weight of the best alternative it satisfies for each
term, summed, exactly as the query states (catalog/search/query.py) and as
the Elasticsearch backend computes it.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import delete, func, select, text
from sqlalchemy.orm import Session

from catalog.bulk import insert_rows
from catalog.search.backends import Hit, SearchRequest, SearchResult, facets_from_counts
from catalog.search.document import Document
from catalog.search.query import Clause, Query
from catalog.search.store import SearchDocument, SearchWord

# The orders, in SQL (PostgreSQL) and as Python sort keys over (id, score,
# title_length, held, year, sort_title) rows (SQLite); Elasticsearch has the same.
_ORDER = {
    "relevance": "score DESC, d.title_length, d.held DESC, d.record_id",
    "year": "d.year DESC NULLS LAST, score DESC, d.record_id",
    "year_asc": "d.year ASC NULLS LAST, score DESC, d.record_id",
    "title": 'd.sort_title COLLATE "C", d.record_id',
}
_SORT_KEYS: dict[str, Callable[[Any], Any]] = {
    "relevance": lambda r: (-r[1], r[2], -r[3], r[0]),
    "year": lambda r: (r[4] is None, -(r[4] or 0), -r[1], r[0]),
    "year_asc": lambda r: (r[4] is None, r[4] or 0, -r[1], r[0]),
    "title": lambda r: (r[5], r[0]),
}


class EmbeddedBackend:
    """Search inside the database itself: up whenever the database is."""

    name = "embedded"

    def __init__(self, session: Session) -> None:
        self.session = session
        self.postgres = session.get_bind().dialect.name == "postgresql"

    def status(self) -> dict[str, Any]:
        return {"backend": self.name, "status": "ok"}

    # ---------------------------------------------------------------- writing

    def write(self, documents: list[Document], deleted: list[int]) -> None:
        """Replace these records' rows (in the caller's transaction) and drop the deleted ones."""
        ids = [d.record_id for d in documents] + list(deleted)
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            self.session.execute(delete(SearchDocument).where(SearchDocument.record_id.in_(chunk)))
        if not documents:
            return
        rows = [
            (d.record_id, _stored_tokens(d, self.postgres), d.sort_title, d.year, d.held,
             d.title_length, " ".join(sorted(d.facets)),
             json.dumps(d.display, ensure_ascii=False))
            for d in documents
        ]  # fmt: skip
        if self.postgres:
            names = ("id", "tokens", "sort", "year", "held", "length", "facets", "display")
            self.session.execute(
                text(
                    "INSERT INTO search_documents (record_id, tokens, sort_title, year, held, "
                    "title_length, facets, display) VALUES (:id, array_to_tsvector(CAST(:tokens "
                    "AS text[])), :sort, :year, :held, :length, :facets, CAST(:display AS json))"
                ),
                [dict(zip(names, row, strict=True)) for row in rows],
            )
        else:
            columns = ("record_id", "tokens", "sort_title", "year", "held", "title_length",
                       "facets", "display")  # fmt: skip
            insert_rows(self.session, SearchDocument, columns, rows)
        self._add_words(documents)

    def _add_words(self, documents: list[Document]) -> None:
        words = {t[3:] for d in documents for t in d.tokens if t[1:3] == "w:" and _latin(t[3:])}
        if not words:
            return
        known = set(self.session.scalars(select(SearchWord.word).where(SearchWord.word.in_(words))))
        new = sorted(words - known)
        if new:
            insert_rows(self.session, SearchWord, ("word",), [(w,) for w in new])

    def clear_missing(self, existing: Iterable[int]) -> int:
        """Drop documents of records that no longer exist (after a full reindex)."""
        keep = set(existing)
        stale = [i for i in self.session.scalars(select(SearchDocument.record_id)) if i not in keep]
        self.write([], stale)
        return len(stale)

    # ---------------------------------------------------------------- reading

    def search(self, request: SearchRequest) -> SearchResult:
        query = request.query
        if query.empty:
            return SearchResult(0, [])
        if self.postgres:
            return self._search_postgres(request)
        return self._search_sqlite(request)

    def _search_sqlite(self, request: SearchRequest) -> SearchResult:
        """Every hit with its sort values and facets in one pass, then sorted and counted here.

        On a catalogue the size SQLite serves, that is cheaper than asking
        SQLite three times (page, total, facets) to match the same terms.
        """
        params: dict[str, Any] = {}
        hits_sql = _sqlite_hits(request.query, params)
        sql = (
            f"SELECT h.id, h.score, d.title_length, d.held, d.year, d.sort_title, d.facets "
            f"FROM ({hits_sql}) h JOIN search_documents d ON d.record_id = h.id"
        )
        rows = self._fetch(sql, params)
        rows.sort(key=_SORT_KEYS.get(request.sort, _SORT_KEYS["relevance"]))
        page = rows[request.offset : request.offset + request.size]
        counts = Counter(" ".join(row[6] for row in rows).split())
        wanted = select(SearchDocument.record_id, SearchDocument.display).where(
            SearchDocument.record_id.in_([row[0] for row in page])
        )
        displays = {record_id: display for record_id, display in self.session.execute(wanted)}
        hits = [Hit(row[0], float(row[1]), _json(displays.get(row[0]))) for row in page]
        return SearchResult(len(rows), hits, facets_from_counts(dict(counts)))

    def _fetch(self, sql: str, params: dict[str, Any]) -> list[Any]:
        """Rows straight from the driver: thousands of hits, and no use for Row objects."""
        driver = self.session.connection().connection.driver_connection
        assert driver is not None
        return list(driver.execute(sql, params).fetchall())

    def _search_postgres(self, request: SearchRequest) -> SearchResult:
        params: dict[str, Any] = {}
        hits_sql = _postgres_hits(request.query, params)
        order = _ORDER.get(request.sort, _ORDER["relevance"])
        page_sql = (
            f"WITH hits AS ({hits_sql}) SELECT d.record_id, hits.score, d.display, "
            f"count(*) OVER () FROM hits JOIN search_documents d ON d.record_id = hits.id "
            f"ORDER BY {order} LIMIT :limit OFFSET :offset"
        )
        rows = self.session.execute(
            text(page_sql), {**params, "limit": request.size, "offset": request.offset}
        ).all()
        total = rows[0][3] if rows else self._count(hits_sql, params, request.offset)
        facet_sql = (
            f"WITH hits AS ({hits_sql}) SELECT f, count(*) FROM hits "
            f"JOIN search_documents d ON d.record_id = hits.id, "
            f"unnest(string_to_array(d.facets, ' ')) AS f GROUP BY f"
        )
        counts: dict[str, int] = {}
        if total:
            counts = {v: int(n) for v, n in self.session.execute(text(facet_sql), params).all()}
        hits = [Hit(r[0], float(r[1]), _json(r[2])) for r in rows]
        return SearchResult(int(total), hits, facets_from_counts(counts))

    def _count(self, hits_sql: str, params: dict[str, Any], offset: int) -> int:
        if offset == 0:
            return 0
        count_sql = f"WITH hits AS ({hits_sql}) SELECT count(*) FROM hits"
        return int(self.session.execute(text(count_sql), params).scalar_one())

    def suggest(self, token: str, size: int) -> list[Hit]:
        query = Query(filters=[token])
        return self.search(SearchRequest(query, 1, size)).hits

    def count(self) -> int:
        return int(self.session.scalar(select(func.count(SearchDocument.record_id))) or 0)


def _stored_tokens(document: Document, postgres: bool) -> Any:
    return sorted(document.tokens) if postgres else document.token_text()


def _latin(word: str) -> bool:
    return word.isascii() and word.isalpha() and 4 <= len(word) <= 64


def _json(value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        loaded: dict[str, Any] = json.loads(value)
        return loaded
    return dict(value or {})


# ------------------------------------------------------------------- SQLite FTS5


def _expression(groups: Iterable[Iterable[str]], quote: str, any_: str, all_: str) -> str:
    """Groups joined by ``all_``, the tokens of a group by ``any_``, each token quoted.

    Tokens never hold a quote or a backslash (analysis.py makes them), so
    quoting is all they need, in FTS5 MATCH and in tsquery input alike.
    """
    parts = []
    for group in groups:
        tokens = [f"{quote}{t}{quote}" for t in group]
        parts.append(tokens[0] if len(tokens) == 1 else "(" + any_.join(tokens) + ")")
    return all_.join(parts)


def _fts(groups: Iterable[Iterable[str]]) -> str:
    """An FTS5 MATCH expression."""
    return _expression(groups, '"', " OR ", " AND ")


def _sqlite_hits(query: Query, params: dict[str, Any]) -> str:
    terms: list[str] = []
    for i, term in enumerate(query.terms):
        parts = []
        for j, alt in enumerate(term.alternatives):
            params[f"m{i}_{j}"] = _fts(alt.groups)
            parts.append(
                f"SELECT rowid AS id, {alt.weight} AS w FROM search_fts "
                f"WHERE search_fts MATCH :m{i}_{j}"
            )
        terms.append(f"SELECT id, max(w) AS w FROM ({' UNION ALL '.join(parts)}) GROUP BY id")
    if len(terms) == 1:
        sql = terms[0]
    elif terms:
        params["minimum"] = query.minimum or len(terms)
        sql = (
            f"SELECT id, sum(w) AS w FROM ({' UNION ALL '.join(terms)}) "
            f"GROUP BY id HAVING count(*) >= :minimum"
        )
    else:
        sql = "SELECT rowid AS id, 0 AS w FROM search_fts WHERE search_fts MATCH :filters"
    out = f"SELECT t.id AS id, t.w{{bonus}} AS score FROM ({sql}) t"
    if query.filters:
        params["filters"] = _fts((t,) for t in query.filters)
        if terms:
            out += (
                " JOIN (SELECT rowid AS id FROM search_fts WHERE search_fts MATCH :filters) f"
                " ON f.id = t.id"
            )
    bonus = _sqlite_bonus(query.bonuses, params)
    if bonus:
        out += f" LEFT JOIN ({bonus}) b ON b.id = t.id"
    return out.format(bonus=" + coalesce(b.w, 0)" if bonus else "")


def _sqlite_bonus(bonuses: list[Clause], params: dict[str, Any]) -> str | None:
    if not bonuses:
        return None
    parts = []
    for k, bonus in enumerate(bonuses):
        params[f"b{k}"] = _fts(bonus.groups)
        parts.append(
            f"SELECT rowid AS id, {bonus.weight} AS w FROM search_fts WHERE search_fts MATCH :b{k}"
        )
    return f"SELECT id, sum(w) AS w FROM ({' UNION ALL '.join(parts)}) GROUP BY id"


# ----------------------------------------------------------- PostgreSQL text search


def _tsquery(groups: Iterable[Iterable[str]]) -> str:
    """A tsquery in its input syntax (lexemes quoted are taken as they are)."""
    return _expression(groups, "'", " | ", " & ")


def _postgres_hits(query: Query, params: dict[str, Any]) -> str:
    any_terms: list[str] = []
    matched: list[str] = []
    scores: list[str] = []
    for i, term in enumerate(query.terms):
        cases = []
        any_of = []
        for j, alt in enumerate(term.alternatives):
            params[f"q{i}_{j}"] = _tsquery(alt.groups)
            cases.append(f"WHEN d.tokens @@ CAST(:q{i}_{j} AS tsquery) THEN {alt.weight}")
            any_of.append(f"({params[f'q{i}_{j}']})")
        any_terms.append("(" + " | ".join(any_of) + ")")
        scores.append(f"(CASE {' '.join(cases)} ELSE 0 END)")
        matched.append(f"(CASE {' '.join(cases)} ELSE 0 END > 0)::int")
    minimum = query.minimum or len(any_terms)
    joiner = " & " if minimum == len(any_terms) else " | "
    wanted = [f"({joiner.join(any_terms)})"] if any_terms else []
    wanted.extend(f"'{t}'" for t in query.filters)
    for k, bonus in enumerate(query.bonuses):
        params[f"b{k}"] = _tsquery(bonus.groups)
        scores.append(
            f"(CASE WHEN d.tokens @@ CAST(:b{k} AS tsquery) THEN {bonus.weight} ELSE 0 END)"
        )
    params["wanted"] = " & ".join(wanted)
    sql = (
        f"SELECT d.record_id AS id, {' + '.join(scores) or '0'} AS score "
        f"FROM search_documents d WHERE d.tokens @@ CAST(:wanted AS tsquery)"
    )
    if matched and minimum < len(matched):
        params["minimum"] = minimum
        sql += f" AND {' + '.join(matched)} >= :minimum"
    return sql
