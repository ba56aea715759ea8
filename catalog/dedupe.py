"""When two records are one edition (同一版本): the rules that merge vendor records.

1. Both have a valid ISBN-13: the same ISBN-13 means the same edition, and a
   different one means a different edition, whatever the titles say
   (hardback and paperback are different editions).
2. Otherwise (at least one has no valid ISBN): the same match key, made of
   the normalised title, first author, publisher and year. A record without
   title is never matched by key.

Normalising a text: Unicode NFKC (full-width letters and digits become
half-width), case folded, and everything but letters and digits dropped, so
"中国发展报告. 2019 /" and "中国发展报告2019" agree.
"""

from __future__ import annotations

import re
import unicodedata
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from catalog.marc.mapping import NormalisedRecord

UNTITLED = "[无题名]"


NOT_LETTER_OR_DIGIT = re.compile(r"[\W_]+")


def normalise_text(text: str | None) -> str:
    folded = unicodedata.normalize("NFKC", text or "").casefold()
    return NOT_LETTER_OR_DIGIT.sub("", folded)


def match_key(
    title: str | None, first_author: str | None, publisher: str | None, year: str | None
) -> str | None:
    """Title + first author + publisher + year, normalised; None when there is no title."""
    normal_title = normalise_text(title)
    if not normal_title or title == UNTITLED:
        return None
    parts = [normal_title, normalise_text(first_author), normalise_text(publisher), year or ""]
    return "|".join(parts)[:400]


def record_key(record: NormalisedRecord) -> str | None:
    """The match key of a mapped record (its first author stands for the authors)."""
    first_author = record.authors[0] if record.authors else None
    return match_key(record.title, first_author, record.publisher, record.pub_year)


def same_edition(
    isbn_a: str | None, key_a: str | None, isbn_b: str | None, key_b: str | None
) -> str | None:
    """Why two records are one edition ("isbn" or "key"), or None when they are not."""
    if isbn_a and isbn_b:
        return "isbn" if isbn_a == isbn_b else None
    if key_a and key_a == key_b:
        return "key"
    return None
