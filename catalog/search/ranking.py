"""The best places of a result without scoring every hit (the embedded search on SQLite).

A hit's score is, per term, the weight of the best alternative it satisfies,
plus its bonuses (catalog/search/query.py). Scoring every hit means reading
every alternative's list of documents, and the low-weight ones (中国 as a
word of a publisher's name) list a quarter of the catalogue. Only the page
needs scores: the total and the facets need only the set of hits, which one
boolean expression finds.

So the alternatives are read best weight first, across the terms (Fagin's
threshold algorithm). After each one, a hit's score lies between what it
has been found to match (its floor) and that plus, for every term it has not
been found under yet, the weight of that term's next alternative (its
ceiling); a hit not found at all yet can reach at most the sum of those next
weights. Once the k-th best floor is above what an unfound hit can reach,
the hits whose ceiling still reaches it but whose score is not yet exact are
looked up in their own tokens, if there are few enough of them; otherwise
the next alternative is read. What comes out is the exact score of every hit
that can be among the first k places, so the page, tie-breaks included, is
exactly the one scoring every hit would give.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Collection, Sequence

from catalog.search.query import Clause, Term

LOOKUP_LIMIT = 500  # hits looked up in their tokens at most, instead of reading on

Matching = Callable[[Clause], set[int]]  # the documents that satisfy a clause
Members = Sequence[set[int]] | None  # per term, the hits that match it at all
Tokens = Callable[[list[int]], dict[int, str]]  # the documents' tokens, " a b c "


def satisfies(text: str, clause: Clause) -> bool:
    """Whether a document satisfies the clause (every group, any token).

    ``text`` is the document's tokens as FTS5 indexes them, with a space
    before and after: tokens hold no spaces, so looking for " token " finds
    exactly that token, without splitting two kilobytes of text into a set.
    """
    return all(any(f" {t} " in text for t in group) for group in clause.groups)


def best_scores(
    terms: list[Term], bonuses: list[Clause], hits: Collection[int], places: int,
    matching: Matching, tokens: Tokens, members: Members = None,
    lookup_limit: int = LOOKUP_LIMIT,
) -> dict[int, int]:  # fmt: skip
    """The exact scores of the hits that can be on the first ``places`` places.

    Every hit left out scores less than the ``places``-th best of those
    returned; when there are ``places`` hits or fewer, all of them come back.
    ``members``, where a hit need not match every term, has per term the
    hits that match it at all: a hit can gain nothing from the others.
    """
    floor: dict[int, int] = {}
    for bonus in bonuses:
        for d in matching(bonus).intersection(hits):
            floor[d] = floor.get(d, 0) + bonus.weight
    reader = _Reader(terms, hits, floor, matching, members)
    while reader.read_next():
        settled = _settle(reader, places, tokens, lookup_limit)
        if settled is not None:
            return settled
    return {d: floor.get(d, 0) for d in hits}  # every alternative read: every score is exact


class _Reader:
    """The alternatives read so far, best weight first across the terms."""

    def __init__(
        self, terms: list[Term], hits: Collection[int], floor: dict[int, int],
        matching: Matching, members: Members,
    ) -> None:  # fmt: skip
        self.terms = terms
        self.members = members
        self.hits = hits
        self.floor = floor
        self.matching = matching
        self.next = [0] * len(terms)  # per term, its next alternative
        self.found: list[set[int]] = [set() for _ in terms]  # per term, hits scored under it

    def ceiling(self, i: int) -> int:
        """The most term ``i`` can still add to a hit not found under it: its next weight."""
        alternatives = self.terms[i].alternatives
        return alternatives[self.next[i]].weight if self.next[i] < len(alternatives) else 0

    def read_next(self) -> bool:
        """Read the best alternative not read yet; False when all have been."""
        if not self.terms:
            return False
        i = max(range(len(self.terms)), key=self.ceiling)
        if self.ceiling(i) == 0:
            return False
        alternative = self.terms[i].alternatives[self.next[i]]
        self.next[i] += 1
        new = self.matching(alternative) - self.found[i]
        new.intersection_update(self.hits)
        self.found[i] |= new
        floor, weight = self.floor, alternative.weight
        again = new & floor.keys()  # hits with a floor already (other terms, bonuses)
        for d in again:
            floor[d] += weight
        floor.update(dict.fromkeys(new - again, weight))
        return True

    def open_terms(self, d: int) -> list[int]:
        """The terms hit ``d`` may still gain from: not found under yet, and matched at all."""
        return [
            i for i, found in enumerate(self.found)
            if d not in found and (self.members is None or d in self.members[i])
        ]  # fmt: skip

    def unsure(self, ceilings: list[int], last: int, limit: int) -> list[int] | None:
        """The hits found whose score could still reach ``last`` but is not known exactly;
        None when there are more than ``limit`` of them."""
        waiting = []  # per term still open: its ceiling, and the hits it may still add to
        for i, ceiling in enumerate(ceilings):
            if ceiling:
                pending = self.floor.keys() - self.found[i]
                waiting.append((ceiling, pending & self.members[i] if self.members else pending))
        floor, reach = self.floor, last - sum(c for c, _ in waiting)
        unsure = []
        for d in set().union(*(pending for _, pending in waiting)):
            v = floor[d]
            if v >= reach and v + sum(c for c, pending in waiting if d in pending) >= last:
                unsure.append(d)
                if len(unsure) > limit:
                    return None
        return unsure

    def look_up(self, d: int, own: str) -> None:
        """Make hit ``d``'s score exact from its own tokens: the rest of each term, in order."""
        for i in self.open_terms(d):
            self.found[i].add(d)
            for alternative in self.terms[i].alternatives[self.next[i] :]:
                if satisfies(own, alternative):
                    self.floor[d] = self.floor.get(d, 0) + alternative.weight
                    break


def _settle(
    reader: _Reader, places: int, tokens: Tokens, lookup_limit: int
) -> dict[int, int] | None:
    """The exact scores of every hit that can be on the first places, or None to read on."""
    floor, hits = reader.floor, reader.hits
    everything_found = len(floor) == len(hits)
    if len(floor) < places and not everything_found:
        return None
    ceilings = [reader.ceiling(i) for i in range(len(reader.terms))]
    last = heapq.nlargest(places, floor.values())[-1] if len(floor) >= places else 0
    if not everything_found and sum(ceilings) >= last:
        return None  # a hit not found yet could still reach the last place
    unsure = reader.unsure(ceilings, last, lookup_limit)
    if unsure is None:
        return None
    if unsure:
        for d, own in tokens(unsure).items():
            reader.look_up(d, own)
        last = heapq.nlargest(places, floor.values())[-1] if len(floor) >= places else 0
    if min(floor.values(), default=last) >= last:
        return floor  # every hit found can be on the page (ten thousand equal scores)
    return {d: v for d, v in floor.items() if v >= last}
