"""RANK: the embedded search's page is exactly the page scoring every hit would give.

The SQLite backend scores only the hits that can reach the page
(catalog/search/ranking.py) and counts facets from the process's copy of the
values (catalog/search/columns.py). These tests hold both against scoring
every document by brute force: on random clauses, and through the embedded
backend on the judged set's real catalogue, for every sort and several pages.
"""

from __future__ import annotations

import random
import shutil
from collections import Counter

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.db import get_session
from app.migrate import upgrade
from catalog.db import make_engine
from catalog.search.backends import SORTS, SearchRequest, facets_from_counts
from catalog.search.columns import BITMAPS_FROM
from catalog.search.document import Document
from catalog.search.embedded import EmbeddedBackend
from catalog.search.query import Clause, Query, Term, parse
from catalog.search.ranking import best_scores, satisfies
from tests.search.judged import JUDGED


def _has(tokens: set[str], clause: Clause) -> bool:
    return all(any(t in tokens for t in group) for group in clause.groups)


def _score(tokens: set[str], query: Query) -> tuple[int, int]:
    """Brute force: (terms matched, score) of a document with these tokens."""
    matched, score = 0, 0
    for term in query.terms:
        best = next((a.weight for a in term.alternatives if _has(tokens, a)), 0)
        matched += best > 0
        score += best
    return matched, score + sum(b.weight for b in query.bonuses if _has(tokens, b))


# ------------------------------------------------------------------ random clauses


def _random_case(rng: random.Random) -> tuple[Query, dict[int, str]]:
    vocabulary = [f"t{i}" for i in range(14)]
    terms = []
    for _ in range(rng.randint(1, 4)):
        weights = sorted(rng.sample(range(1, 40), rng.randint(1, 5)), reverse=True)
        alternatives = tuple(
            Clause(tuple(tuple(rng.sample(vocabulary, rng.randint(1, 2)))
                         for _ in range(rng.randint(1, 2))), w)
            for w in weights
        )  # fmt: skip
        terms.append(Term("x", alternatives))
    bonuses = [Clause(((rng.choice(vocabulary),),), rng.choice([5, 40])) for _ in range(2)]
    query = Query(terms=terms, bonuses=bonuses, minimum=rng.randint(1, len(terms)))
    documents = {
        d: " " + " ".join(rng.sample(vocabulary, rng.randint(1, 8))) + " "
        for d in range(1, rng.randint(2, 120))
    }
    return query, documents


def test_rank_1_best_scores_gives_the_brute_force_page_on_random_clauses():
    rng = random.Random(2026)
    for case in range(600):
        query, documents = _random_case(rng)
        exact = {d: _score(set(t.split()), query) for d, t in documents.items()}
        hits = {d for d, (matched, _) in exact.items() if matched >= query.minimum}
        members = [{d for d in hits if any(satisfies(documents[d], a) for a in t.alternatives)}
                   for t in query.terms]  # fmt: skip
        places = rng.choice([1, 3, 10, 50])

        def matching(clause: Clause, docs: dict[int, str] = documents) -> set[int]:
            return {d for d, t in docs.items() if satisfies(t, clause)}

        def tokens(ids: list[int], docs: dict[int, str] = documents) -> dict[int, str]:
            return {d: docs[d] for d in ids}

        scores = best_scores(
            query.terms, query.bonuses, hits, places, matching, tokens,
            members if query.minimum < len(query.terms) else None,
            lookup_limit=rng.choice([0, 5, 500]),
        )  # fmt: skip
        assert all(scores[d] == exact[d][1] for d in scores), case
        ranked = sorted(hits, key=lambda d: (-exact[d][1], d))
        page = sorted(scores, key=lambda d: (-scores[d], d))[:places]
        assert page == ranked[:places], case
        if len(hits) <= places:
            assert set(scores) == hits, case


def test_rank_2_reading_stops_once_the_page_is_decided():
    """Twenty documents match the best alternative: the other, common one is never read."""
    best = Clause((("rare",),), 100)
    common = Clause((("common",),), 10)
    documents = {d: " rare common " if d <= 20 else " common " for d in range(1, 1001)}
    read = []

    def matching(clause: Clause) -> set[int]:
        read.append(clause)
        return {d for d, t in documents.items() if satisfies(t, clause)}

    scores = best_scores([Term("x", (best, common))], [], set(documents), 20, matching,
                         lambda ids: {d: documents[d] for d in ids})  # fmt: skip
    assert read == [best]
    assert sorted(scores) == list(range(1, 21))
    assert set(scores.values()) == {100}


# ------------------------------------------------------- the embedded backend, real data


def _documents(session) -> dict[int, tuple]:
    if session.get_bind().dialect.name == "postgresql":
        tokens = "array_to_string(tsvector_to_array(tokens), ' ')"
    else:
        tokens = "tokens"
    rows = session.execute(text(
        f"SELECT record_id, {tokens}, title_length, held, year, sort_title, facets "
        f"FROM search_documents"
    ))  # fmt: skip
    return {r[0]: (set(r[1].split()), *r[2:]) for r in rows}


def _brute_force(
    documents: dict[int, tuple], containing: dict[str, set[int]], query: Query
) -> dict[int, int]:
    """Every hit's score (only documents with some token of the query can be hits)."""
    wanted = {t for term in query.terms for a in term.alternatives for g in a.groups for t in g}
    candidates = set().union(*(containing.get(t, ()) for t in wanted | set(query.filters)))
    scored = {}
    for d in candidates:
        tokens = documents[d][0]
        if not tokens.issuperset(query.filters):
            continue
        matched, score = _score(tokens, query)
        if matched >= (query.minimum or len(query.terms)):
            scored[d] = score
    return scored


def _page(documents: dict[int, tuple], scored: dict[int, int], request: SearchRequest):
    def order(d: int):
        _tokens, length, held, year, sort_title, _facets = documents[d]
        s = scored[d]
        return {
            "relevance": (-s, length, -held, d),
            "year": (year is None, -(year or 0), -s, d),
            "year_asc": (year is None, year or 0, -s, d),
            "title": (sort_title, d),
        }[request.sort]

    ranked = sorted(scored, key=order)[request.offset : request.offset + request.size]
    counts = Counter(f for d in scored for f in documents[d][5].split())
    return len(scored), [(d, scored[d]) for d in ranked], facets_from_counts(dict(counts))


# By relevance the first, second and seventh pages; by year and title the second.
PAGES = [("relevance", 1, 10), ("relevance", 2, 10), ("relevance", 7, 5)] + [
    (sort, 2, 10) for sort in SORTS if sort != "relevance"
]


def test_rank_3_the_embedded_page_is_the_brute_force_page(judged):
    """Every judged query (words, pinyin, initials, k of n terms, ...), every sort, and
    with a filter, through the embedded backend of the run's database."""
    with judged.app.app_context():
        session = get_session()
        documents = _documents(session)
        containing: dict[str, set[int]] = {}
        for d, (tokens, *_rest) in documents.items():
            for t in tokens:
                containing.setdefault(t, set()).add(d)
        backend = EmbeddedBackend(session)
        point = sorted({f for d in documents.values() for f in d[5].split() if f[:3] == "pt:"})
        queries = [q for _kind, q, _first, _rel in JUDGED]
        queries += ["中国 历史 文化 研究 报告", "history of china", "小说"]
        differing = []
        for q in queries:
            plain, filtered = parse(q), parse(q)
            filtered.filters.append("f" + point[0].lower())
            for query in (plain, filtered):
                scored = _brute_force(documents, containing, query)
                for sort, page, size in PAGES:
                    request = SearchRequest(query, page, size, sort)
                    result = backend.search(request)
                    got = (result.total, [(h.record_id, int(h.score)) for h in result.hits],
                           result.facets)  # fmt: skip
                    if got != _page(documents, scored, request):
                        differing.append((q, sort, page, bool(query.filters)))
        assert differing == []


def _document(record_id: int, title: str, facets: set[str]) -> Document:
    tokens = {f"tw:{title}", *(f"f{f}" for f in facets)}
    return Document(record_id, tokens, title, 2020, 1, len(title), facets, {"title": title})


def test_rank_4_facets_follow_writes_made_by_another_connection(migrated_database, tmp_path):
    """The process's copy of the values reads what another process (here: another engine,
    with its own connection) wrote since, and starts again when the table is rebuilt."""
    url = f"sqlite:///{tmp_path / 'ranking.db'}"
    if migrated_database.startswith("sqlite"):
        shutil.copy(migrated_database[len("sqlite:///") :], tmp_path / "ranking.db")
    else:
        upgrade(url)
    reader, writer = make_engine(url), make_engine(url)
    query = SearchRequest(parse("水稻"), 1, 10)

    def write(documents: list[Document], deleted: tuple[int, ...] = ()) -> None:
        with Session(writer) as session:
            EmbeddedBackend(session).write(documents, list(deleted))
            session.commit()

    def points() -> dict[str, int]:
        with Session(reader) as session:
            result = EmbeddedBackend(session).search(query)
            return {v["value"]: v["count"] for v in result.facets["point"]}

    try:
        write([_document(1, "水稻", {"pt:A"}), _document(2, "水稻", {"pt:A"})])
        assert points() == {"A": 2}
        write([_document(2, "水稻", {"pt:B"}), _document(3, "水稻", {"pt:B"})])
        assert points() == {"A": 1, "B": 2}
        write([], deleted=(1,))
        assert points() == {"B": 2}
        with writer.begin() as connection:
            connection.execute(text("DELETE FROM search_documents"))
        write([_document(5, "水稻", {"pt:C"})])
        assert points() == {"C": 1}
        # As many hits as make the copy count by bitmaps, then some of them changed.
        many = BITMAPS_FROM + 100
        write([_document(d, "水稻", {"pt:C" if d % 3 else "pt:D"}) for d in range(10, 10 + many)])
        expected = Counter("C" if d % 3 else "D" for d in range(10, 10 + many))
        assert points() == {"C": expected["C"] + 1, "D": expected["D"]}
        write([_document(d, "水稻", {"pt:E"}) for d in range(10, 20)], deleted=(5,))
        changed = Counter("C" if d % 3 else "D" for d in range(10, 20))
        assert points() == {"C": expected["C"] - changed["C"], "D": expected["D"] - changed["D"],
                            "E": 10}  # fmt: skip
    finally:
        reader.dispose()
        writer.dispose()


def test_rank_5_hits_are_found_by_the_alternatives_no_other_covers():
    """Dropping covered alternatives from the hit expression keeps every record it found."""
    from catalog.search.embedded import _widest

    term = parse("zhongguo").terms[0]
    kept = _widest(term.alternatives)
    assert len(kept) < len(term.alternatives)
    strict = Clause((("tp:zhong",), ("tp:guo",)), 70)
    loose = Clause((("tp:zhong", "ta:zhong"), ("tp:guo", "ta:guo")), 50)
    assert _widest([strict, loose]) == [loose]
    assert _widest([loose, loose]) == [loose]
    other_field = Clause((("np:zhong",), ("np:guo",)), 56)
    assert _widest([strict, other_field]) == [strict, other_field]
    rng = random.Random(7)
    for _ in range(300):
        query, documents = _random_case(rng)
        for t in query.terms:
            widest = _widest(t.alternatives)
            for text_ in documents.values():
                assert any(satisfies(text_, a) for a in t.alternatives) == any(
                    satisfies(text_, a) for a in widest
                )
