"""Domain errors: a stable code, and a message a librarian can act on in both languages.

The web layer turns these into the one JSON error shape and picks the
message for the reader's language; the CLI prints both.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class DomainError(Exception):
    """Base of every error the domain raises on purpose."""

    code = "domain_error"
    http_status = 400

    def __init__(self, message_en: str, message_zh: str, **details: Any) -> None:
        super().__init__(message_en)
        self.message_en = message_en
        self.message_zh = message_zh
        self.details = details

    def message(self, language: str) -> str:
        """The message in the reader's language (zh unless English was chosen)."""
        return self.message_en if language.startswith("en") else self.message_zh


class NotFound(DomainError):
    code = "not_found"
    http_status = 404


class Conflict(DomainError):
    code = "conflict"
    http_status = 409


class PermissionDenied(DomainError):
    code = "forbidden"
    http_status = 403


@dataclass(frozen=True)
class RowError:
    """One problem in one line of an input file, in words that say what to fix."""

    file: str
    line: int
    field: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.field}: {self.reason}"


class InvalidFile(DomainError):
    """A whole file refused: nothing was imported; every problem is listed."""

    code = "invalid_file"
    http_status = 422

    def __init__(self, errors: list[RowError]) -> None:
        self.errors = errors
        n = len(errors)
        super().__init__(
            f"{n} problem(s) found; nothing was imported",
            f"发现 {n} 处错误，未导入任何数据",
            errors=[str(e) for e in errors],
        )

    def __str__(self) -> str:
        return "\n".join(str(e) for e in self.errors)
