"""Every table of the system, imported in one place so Alembic and tests see them all."""

from app.accounts import ApiToken, StaffUser
from catalog.db import Base
from catalog.network import ClosedDay, ServicePoint
from catalog.records import Copy, Record
from catalog.search.outbox import SearchOutbox
from circulation.ledger import LedgerEntry
from circulation.patrons import Patron

__all__ = [
    "ApiToken",
    "Base",
    "ClosedDay",
    "Copy",
    "LedgerEntry",
    "Patron",
    "Record",
    "SearchOutbox",
    "ServicePoint",
    "StaffUser",
]
