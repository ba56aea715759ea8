"""Input fields that refuse what the database or MARC cannot hold, with a reason (422, not 500).

- ``Id``: a whole number that fits the database's 64-bit keys (a record id of
  99999999999999999999 is "not found", never an overflow).
- ``Text``: a string without control characters (a MARC subfield delimiter
  0x1F typed into a title would corrupt the record).
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

from marshmallow import ValidationError, fields, validate

MAX_INT = 2**31 - 1  # ids, counts and populations all fit PostgreSQL's INTEGER
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def Id(**kwargs: Any) -> fields.Integer:
    """A positive whole number within the database's integer range."""
    kwargs.setdefault("validate", validate.Range(min=1, max=MAX_INT))
    return fields.Integer(strict=True, **kwargs)


def Count(**kwargs: Any) -> fields.Integer:
    """A whole number from 0 within the database's integer range."""
    kwargs.setdefault("validate", validate.Range(min=0, max=MAX_INT))
    return fields.Integer(strict=True, **kwargs)


def no_control_characters(value: str) -> None:
    if _CONTROL.search(value):
        raise ValidationError("must not contain control characters (such as 0x1F)")


class Text(fields.String):
    """A string without control characters (newlines and tabs are allowed)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        extra = kwargs.pop("validate", None)
        checks = [no_control_characters]
        if extra is not None:
            checks.extend(extra if isinstance(extra, list | tuple) else [extra])
        super().__init__(*args, validate=checks, **kwargs)


class UtcDateTime(fields.DateTime):
    """A moment in ISO 8601 with its offset; SQLite hands back naive UTC, so say it is UTC."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return super()._serialize(value, attr, obj, **kwargs)


MAX_MONEY = Decimal("99999999.99")  # Numeric(10, 2), the widest money column


def _money_in_range(value: Decimal) -> None:
    if not Decimal("0") <= value <= MAX_MONEY:
        raise ValidationError(f"must be from 0 to {MAX_MONEY}")


def Money(**kwargs: Any) -> fields.Decimal:
    """An amount in yuan with two decimals, 0 to 99,999,999.99 (a validator, not a Range:
    apispec would write a Decimal range into the OpenAPI as a string)."""
    extra = kwargs.pop("validate", None)
    checks: list[Any] = [_money_in_range, *([extra] if extra else [])]
    kwargs.setdefault("metadata", {}).setdefault("description", f"yuan, 0 to {MAX_MONEY}")
    return fields.Decimal(places=2, validate=checks, **kwargs)
