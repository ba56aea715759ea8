"""Search (检索): Chinese analysis, one document per record, queries, backends, and sync.

text.py and pinyin.py fold text and read Han characters; analysis.py makes
the tokens; document.py says what a record's document holds; query.py turns
what a reader typed into weighted alternatives; embedded.py (SQLite FTS5,
PostgreSQL text search) and elastic.py evaluate them; outbox.py and
indexer.py keep the indexes in step; service.py is the search use case.
docs/search.md explains the rules.
"""
