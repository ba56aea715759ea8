"""Every table of the system, imported in one place so Alembic and tests see them all."""

from app.accounts import ApiToken, StaffUser
from catalog.barcodes import BarcodeScheme
from catalog.db import Base
from catalog.network import ClosedDay, ServicePoint
from catalog.records import Copy, ImportBatch, Record, RecordSource
from catalog.search.outbox import SearchOutbox
from catalog.search.store import SearchDocument, SearchFacet, SearchWord
from circulation.ledger import LedgerEntry
from circulation.patrons import Patron

__all__ = [
    "ApiToken",
    "BarcodeScheme",
    "Base",
    "ClosedDay",
    "Copy",
    "ImportBatch",
    "LedgerEntry",
    "Patron",
    "Record",
    "RecordSource",
    "SearchDocument",
    "SearchFacet",
    "SearchOutbox",
    "SearchWord",
    "ServicePoint",
    "StaffUser",
]
