"""Every table of the system, imported in one place so Alembic and tests see them all."""

from app.accounts import ApiToken, StaffUser
from app.idempotency import IdempotencyKey
from catalog.barcodes import BarcodeScheme
from catalog.db import Base
from catalog.network import ClosedDay, ServicePoint
from catalog.records import Copy, ImportBatch, Record, RecordSource
from catalog.search.outbox import SearchOutbox
from catalog.search.store import SearchDocument, SearchSequence, SearchWord
from circulation.figures.aggregates import CirculationDay
from circulation.ledger import LedgerEntry
from circulation.models import (
    Fine,
    Hold,
    Loan,
    PatronBlock,
    PatronNotice,
    Policy,
    Transit,
)
from circulation.patrons import Patron
from circulation.rotation.models import RotationBatch, RotationCopy
from circulation.sip2.retries import Sip2Transaction
from circulation.sip2.terminals import Sip2Terminal

__all__ = [
    "ApiToken",
    "BarcodeScheme",
    "Base",
    "CirculationDay",
    "ClosedDay",
    "Copy",
    "Fine",
    "Hold",
    "IdempotencyKey",
    "ImportBatch",
    "LedgerEntry",
    "Loan",
    "Patron",
    "PatronBlock",
    "PatronNotice",
    "Policy",
    "Record",
    "RecordSource",
    "RotationBatch",
    "RotationCopy",
    "SearchDocument",
    "SearchOutbox",
    "SearchSequence",
    "SearchWord",
    "ServicePoint",
    "Sip2Terminal",
    "Sip2Transaction",
    "StaffUser",
    "Transit",
]
