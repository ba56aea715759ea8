"""ISBN normalisation for duplicate detection (ISBN-13, hyphens ignored, check digit validated).

The validation itself is python-stdnum's; this module only finds the ISBN in
the text vendors put in 010$a/020$a ("7-5000-1234-5 (平装) : CNY12.00").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from stdnum import isbn as stdnum_isbn
from stdnum.exceptions import ValidationError

CANDIDATE = re.compile(r"(?:97[89][\s-]?)?\d[\d\s-]{7,15}[\dXx]")


@dataclass(frozen=True)
class IsbnResult:
    isbn13: str | None  # the normalised ISBN-13, when the text holds a valid ISBN
    problem: str | None  # why not, in words for the import report


def normalise_isbn(text: str) -> IsbnResult:
    """The ISBN-13 in ``text`` (ISBN-10 converted), or the reason there is none."""
    candidate = CANDIDATE.search(text or "")
    if candidate is None:
        return IsbnResult(None, f"no ISBN found in '{text}'")
    compact = re.sub(r"[\s-]", "", candidate.group(0)).upper()
    try:
        return IsbnResult(stdnum_isbn.validate(compact, convert=True), None)
    except ValidationError as exc:
        return IsbnResult(None, f"invalid ISBN '{candidate.group(0)}': {exc}")


def first_isbn13(texts: list[str]) -> tuple[str | None, list[str]]:
    """The first valid ISBN-13 among a record's ISBN fields, and the problems with the others."""
    found: str | None = None
    problems: list[str] = []
    for text in texts:
        result = normalise_isbn(text)
        if result.isbn13 is None:
            problems.append(result.problem or "")
        elif found is None:
            found = result.isbn13
    return found, problems


def isbn_forms(isbn13: str) -> list[str]:
    """Every way a reader may type this ISBN: 13 and 10 digits, with and without hyphens."""
    forms = {isbn13, stdnum_isbn.format(isbn13)}
    isbn10 = stdnum_isbn.to_isbn10(isbn13) if isbn13.startswith("978") else None
    if isbn10:
        forms.update({isbn10, stdnum_isbn.format(isbn10)})
    return sorted(forms)
