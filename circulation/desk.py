"""Where, by whom and when a circulation action happens (the desk: 服务台).

Every service function takes a Desk: the acting point (a terminal's own
point, or the point a librarian works at), the actor the ledger names
(``staff:NAME``, ``terminal:NAME``, ``system:daily``) and the moment. Dates
that patrons see (due dates, hold-shelf dates) are local dates of the
network, which in China is one time zone.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Protocol
from zoneinfo import ZoneInfo

from catalog.db import utcnow

NETWORK_TIMEZONE = ZoneInfo("Asia/Shanghai")


def local_date(moment: dt.datetime) -> dt.date:
    """The network's calendar date at ``moment`` (naive moments are taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(NETWORK_TIMEZONE).date()


class Place(Protocol):
    """A service point as a desk sees it: a ServicePoint row or the tree's TreePoint."""

    @property
    def id(self) -> int: ...
    @property
    def code(self) -> str: ...
    @property
    def name(self) -> str: ...


@dataclass(frozen=True)
class Desk:
    point: Place
    actor: str
    now: dt.datetime = field(default_factory=utcnow)

    @property
    def today(self) -> dt.date:
        return local_date(self.now)
