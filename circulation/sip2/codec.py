"""SIP2 messages: the fixed fields and field codes of what a kiosk sends, and our responses.

A request is a two-digit command, fixed-width fields in the order of the 3M
SIP2 2.00 specification, then variable fields ``XXvalue|`` (two-letter code,
value, ``|``). Responses are written the same way; every field the
specification marks required is always written (empty if we have nothing),
optional ones only when we have a value.

SIP-CODEC-1 Unknown field codes are ignored; a field may be repeated (the first counts);
            control characters in a value (NUL, ESC...) are dropped.
SIP-CODEC-2 A request whose fixed part is cut short is refused with the response of
            its kind, ``ok`` 0 and a screen message saying the message was malformed.
SIP-CODEC-3 Values we send never contain ``|``, CR or LF (replaced by a space) and
            are cut to 255 characters.
SIP-CODEC-4 Dates are the 18-character ``YYYYMMDDZZZZHHMMSS`` with ZZZZ four blanks
            (local time: the network's, Asia/Shanghai). A due date is sent as that
            day at 23:59:59. A date we read may be 18 blanks (none).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from circulation.desk import NETWORK_TIMEZONE

# (name, width) of each request's fixed fields, in order.
REQUEST_FIXED: dict[str, tuple[tuple[str, int], ...]] = {
    "93": (("uid_algorithm", 1), ("pwd_algorithm", 1)),
    "99": (("status_code", 1), ("max_print_width", 3), ("protocol_version", 4)),
    "97": (),
    "23": (("language", 3), ("transaction_date", 18)),
    "63": (("language", 3), ("transaction_date", 18), ("summary", 10)),
    "11": (("sc_renewal_policy", 1), ("no_block", 1), ("transaction_date", 18),
           ("nb_due_date", 18)),
    "09": (("no_block", 1), ("transaction_date", 18), ("return_date", 18)),
    "29": (("third_party_allowed", 1), ("no_block", 1), ("transaction_date", 18),
           ("nb_due_date", 18)),
    "65": (("transaction_date", 18),),
    "17": (("transaction_date", 18),),
    "15": (("hold_mode", 1), ("transaction_date", 18)),
    "35": (("transaction_date", 18),),
    "37": (("transaction_date", 18), ("fee_type", 2), ("payment_type", 2),
           ("currency_type", 3)),
    "01": (("card_retained", 1), ("transaction_date", 18)),
}  # fmt: skip

BLANK_DATE = " " * 18
_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass
class Request:
    """A parsed request: command, fixed fields by name, variable fields by code."""

    command: str
    fixed: dict[str, str] = field(default_factory=dict)
    fields: dict[str, list[str]] = field(default_factory=dict)
    malformed: bool = False
    known: bool = True

    def get(self, code: str, default: str = "") -> str:
        values = self.fields.get(code)
        return values[0].strip() if values else default

    def has(self, code: str) -> bool:
        return code in self.fields


def parse_request(text: str) -> Request:
    """Split a message (trailer removed) into its fixed and variable fields."""
    command = text[:2]
    layout = REQUEST_FIXED.get(command)
    if layout is None:
        return Request(command, known=False)
    request = Request(command)
    position = 2
    for name, width in layout:
        chunk = text[position : position + width]
        if len(chunk) < width or "|" in chunk:
            request.malformed = True
            return request
        request.fixed[name] = chunk
        position += width
    for item in text[position:].split("|"):
        if len(item) >= 2:
            value = _CONTROL.sub("", item[2:])
            request.fields.setdefault(item[:2], []).append(value)
    return request


def clean(value: object) -> str:
    """SIP-CODEC-3."""
    text = re.sub(r"[|\r\n]", " ", str(value))
    return text[:255]


def build(command: str, fixed: list[str], fields: Iterable[tuple[str, object | None]]) -> str:
    """A response: the command, fixed fields as given, then every field whose value is not None."""
    variable = "".join(f"{code}{clean(value)}|" for code, value in fields if value is not None)
    return command + "".join(fixed) + variable


def sip_datetime(moment: dt.datetime) -> str:
    """SIP-CODEC-4: a moment as the network's local time, YYYYMMDD    HHMMSS."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(NETWORK_TIMEZONE).strftime("%Y%m%d    %H%M%S")


def sip_date(day: dt.date | None) -> str:
    """SIP-CODEC-4: a due date or shelf date, as that day's last second."""
    return f"{day:%Y%m%d}    235959" if day is not None else ""


def read_date(text: str) -> dt.date | None:
    """A date a kiosk sent (blanks: none; anything unreadable: none)."""
    match = _DATE.match(text.strip())
    if match is None:
        return None
    try:
        return dt.date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None


def yes(flag: bool) -> str:
    return "Y" if flag else "N"


def count(n: int, width: int = 4) -> str:
    """A fixed-width count, zero-padded (capped at all nines)."""
    return str(min(n, 10**width - 1)).zfill(width)


def amount(value: object) -> str:
    return f"{value:.2f}" if value is not None else ""
