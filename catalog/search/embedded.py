"""The embedded search (内置检索): the same query over tables in the catalogue's own database.

On SQLite the tokens are indexed by an FTS5 table (``search_fts``, kept in
step with ``search_documents`` by triggers); on PostgreSQL by a ``tsvector``
column with a GIN index. Neither database's own ranking is used: a
document's score is the weight of the best alternative it satisfies for each
term, summed, exactly as the query states (catalog/search/query.py) and as
the Elasticsearch backend computes it.
"""

from __future__ import annotations

import heapq
import json
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from itertools import combinations
from math import comb
from typing import Any

from sqlalchemy import delete, func, select, text
from sqlalchemy.orm import Session

from catalog.bulk import insert_rows
from catalog.search.backends import Hit, SearchRequest, SearchResult, facets_from_counts
from catalog.search.columns import Reading, Values, columns_for
from catalog.search.document import Document
from catalog.search.query import Clause, Query
from catalog.search.ranking import Members, best_scores
from catalog.search.store import SearchDocument, SearchWord

# The orders in SQL (PostgreSQL); _FIRST_BY below has them for SQLite, and
# Elasticsearch the same.
_ORDER = {
    "relevance": "score DESC, d.title_length, d.held DESC, d.record_id",
    "year": "d.year DESC NULLS LAST, score DESC, d.record_id",
    "year_asc": "d.year ASC NULLS LAST, score DESC, d.record_id",
    "title": 'd.sort_title COLLATE "C", d.record_id',
}


# PostgreSQL: insert, or replace a row whose document changed (json has no equality).
_UPSERT = text(
    "INSERT INTO search_documents AS d (record_id, tokens, sort_title, year, held, title_length, "
    "facets, display) VALUES (:id, array_to_tsvector(CAST(:tokens AS text[])), :sort, :year, "
    ":held, :length, :facets, CAST(:display AS json)) "
    "ON CONFLICT (record_id) DO UPDATE SET tokens = excluded.tokens, "
    "sort_title = excluded.sort_title, year = excluded.year, held = excluded.held, "
    "title_length = excluded.title_length, facets = excluded.facets, display = excluded.display "
    "WHERE (d.tokens, d.sort_title, d.year, d.held, d.title_length, d.facets, "
    "CAST(d.display AS text)) IS DISTINCT FROM (excluded.tokens, excluded.sort_title, "
    "excluded.year, excluded.held, excluded.title_length, excluded.facets, "
    "CAST(excluded.display AS text))"
)


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
        """Replace these records' rows (in the caller's transaction) and drop the deleted ones.

        On PostgreSQL a row whose document has not changed is left as it is: most copies
        that circulate change nothing a search sees (lent, then in transit home), and an
        unchanged row is neither rewritten nor put in the text index again.
        """
        ids = ([] if self.postgres else [d.record_id for d in documents]) + list(deleted)
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
            self.session.execute(_UPSERT, [dict(zip(names, row, strict=True)) for row in rows])
        else:
            last = self.session.execute(_NUMBER, {"n": len(rows)}).scalar_one() - len(rows)
            columns = ("record_id", "tokens", "sort_title", "year", "held", "title_length",
                       "facets", "display", "seq")  # fmt: skip
            numbered = [(*row, last + n) for n, row in enumerate(rows, start=1)]
            insert_rows(self.session, SearchDocument, columns, numbered)
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
        """The hits as one set, their facets from the process's copy of the values, and exact
        scores only for the hits that can be on the page (catalog/search/ranking.py)."""
        query = request.query
        driver = self.session.connection().connection.driver_connection
        assert driver is not None
        found, members = _sqlite_hit_ids(driver, query)
        reading = columns_for(self.session.get_bind().engine).refresh(driver).read(found)
        page, scores = _sqlite_page(driver, request, members, reading)
        wanted = select(SearchDocument.record_id, SearchDocument.display).where(
            SearchDocument.record_id.in_(page)
        )
        displays = {record_id: display for record_id, display in self.session.execute(wanted)}
        result = [Hit(d, float(scores.get(d, 0)), _json(displays.get(d))) for d in page]
        return SearchResult(len(reading.hits), result, facets_from_counts(reading.facets))

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


# The next numbers for written documents (catalog/search/columns.py reads what changed).
_NUMBER = text(
    "INSERT INTO search_sequence (id, last) VALUES (1, :n) "
    "ON CONFLICT (id) DO UPDATE SET last = last + :n RETURNING last"
)
_MATCH = "SELECT rowid FROM search_fts WHERE search_fts MATCH ?"
_TOKENS = (
    "SELECT record_id, tokens FROM search_documents "
    "WHERE record_id IN (SELECT value FROM json_each(?))"
)
MAX_COMBINATIONS = 10  # "k of n terms" as one expression up to this many ways of choosing k


def _sqlite_hit_ids(driver: Any, query: Query) -> tuple[set[int], Members]:
    """Every hit, and where a hit need not match every term, per term the hits matching it.

    A query that needs all its terms is one FTS5 expression: any alternative
    of each term, and the filters. One that needs k of its n terms is one
    expression per way of choosing k (a hit matches the terms of the ways it
    is found by), or for a long query one per term, counted here.
    """
    terms = ["(" + " OR ".join(f"({_fts(a.groups)})" for a in _widest(t.alternatives)) + ")"
             for t in query.terms]  # fmt: skip

    def ids(expression: str) -> set[int]:
        return _matching(driver, expression, query)

    minimum = query.minimum or len(terms)
    if minimum >= len(terms):
        return ids(" AND ".join(terms)), None
    members: list[set[int]] = [set() for _ in terms]
    if comb(len(terms), minimum) <= MAX_COMBINATIONS:
        for chosen in combinations(range(len(terms)), minimum):
            found = ids(" AND ".join(terms[i] for i in chosen))
            for i in chosen:
                members[i] |= found
        return set().union(*members), members
    counts: Counter[int] = Counter()
    for i, term in enumerate(terms):
        members[i] = ids(term)
        counts.update(members[i])
    hits = {d for d, n in counts.items() if n >= minimum}
    return hits, [m & hits for m in members]


def _matching(driver: Any, expression: str, query: Query) -> set[int]:
    """The records an FTS5 expression finds, among those with the query's filters."""
    filters = _fts((t,) for t in query.filters)
    if filters:
        expression = f"({expression}) AND {filters}" if expression else filters
    return {row[0] for row in driver.execute(_MATCH, (expression,))}


def _widest(alternatives: Sequence[Clause]) -> list[Clause]:
    """The alternatives that no other one covers: they find the same records, in a shorter
    expression. (tp:zhong tp:guo) is covered by (tp:zhong|ta:zhong) (tp:guo|ta:guo).

    Only alternatives over the same field are compared (a token's first letter
    is its field): one over another field never covers it.
    """
    clauses = [[set(g) for g in a.groups] for a in alternatives]
    field = [a.groups[0][0][:1] if a.groups and a.groups[0] else "" for a in alternatives]

    def covers(j: int, i: int) -> bool:  # every record alternative i finds, j finds
        return all(any(gi <= gj for gi in clauses[i]) for gj in clauses[j])

    return [
        alternative for i, alternative in enumerate(alternatives)
        if not any(j != i and field[j] == field[i] and covers(j, i)
                   and (j < i or not covers(i, j)) for j in range(len(alternatives)))
    ]  # fmt: skip


def _sqlite_page(
    driver: Any, request: SearchRequest, members: Members, reading: Reading
) -> tuple[list[int], dict[int, int]]:
    """The page's record ids in order, and the exact scores it was ordered by.

    By relevance, only the hits that can reach the page are scored. By year,
    the hits whose year reaches the page's last year are scored (the score
    breaks ties within a year); by title, the page's hits only.
    """
    query, hits, values, ties = request.query, reading.hits, reading.values, reading.ties

    def matching(clause: Clause) -> set[int]:
        return _matching(driver, _fts(clause.groups), query)

    def tokens(ids: list[int]) -> dict[int, str]:
        return {d: f" {text} " for d, text in driver.execute(_TOKENS, (json.dumps(ids),))}

    places = request.offset + request.size
    if request.sort in _FIRST_BY and hits:
        first_by = _FIRST_BY[request.sort](values)
        boundary = first_by(heapq.nsmallest(places, hits, key=first_by)[-1])
        hits = {d for d in hits if first_by(d) <= boundary}
        places = len(hits)
    scores = best_scores(query.terms, query.bonuses, hits, places, matching, tokens, members)
    wanted = request.offset + request.size
    if request.sort in _FIRST_BY:  # then the score, then the record
        first_by = _FIRST_BY[request.sort](values)
        page = heapq.nsmallest(wanted, scores, key=lambda d: (*first_by(d), -scores[d], d))
    else:
        page = _best_first(scores, ties, wanted)
    return page[request.offset :], scores


def _best_first(scores: dict[int, int], ties: dict[int, int], wanted: int) -> list[int]:
    """The ``wanted`` best by relevance: score groups best first, each in tie-break order.

    The tie-break (shorter title, more copies held, record id) is one number
    per record, so ordering ten thousand equal scores needs no Python key.
    """
    distinct = sorted(set(scores.values()), reverse=True)
    by_score: dict[int, list[int]] = {distinct[0]: list(scores)} if len(distinct) == 1 else {}
    for d, score in scores.items() if len(distinct) > 1 else ():
        by_score.setdefault(score, []).append(d)
    page: list[int] = []
    for score in distinct:
        group, room = by_score[score], wanted - len(page)
        if len(group) > room:  # the tie number ends with the record id
            page += [t & 0xFFFFFFFF for t in heapq.nsmallest(room, map(ties.__getitem__, group))]
            break
        page += sorted(group, key=ties.__getitem__)
    return page


# The other orders as sort keys over record ids, before the score and the record id break
# ties (PostgreSQL's are _ORDER, Elasticsearch has the same).
_FIRST_BY: dict[str, Callable[[dict[int, Values]], Callable[[int], Any]]] = {
    "year": lambda v: lambda d: (v[d].year is None, -(v[d].year or 0)),
    "year_asc": lambda v: lambda d: (v[d].year is None, v[d].year or 0),
    "title": lambda v: lambda d: (v[d].sort_title, d),
}


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
