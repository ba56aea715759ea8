"""Patrons (读者) and how their personal data is kept.

Personal data rules: the PIN is stored only as a salted slow hash; the
resident ID number (身份证号) only as a keyed hash (so a librarian can still
find a patron by it) plus a masked form for display (110***********123X).
Neither is ever logged or returned by the API.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import hmac

from sqlalchemy import ForeignKey, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from catalog.db import Base, Timestamped
from catalog.network import ServicePoint

# PINs are 4-8 digits, so any hash can be brute-forced offline; the cost is set
# for the counter (fast enough to check at a kiosk, and to import thousands).
PIN_HASH_METHOD = "pbkdf2:sha256:30000"

# Patron categories (读者类型). ``institution`` is a collective card (集体证) held by a village
# bookshop, a class or a work unit; such cards often have hundreds of books out at once.
PATRON_CATEGORIES = ("adult", "child", "senior", "student", "staff", "institution", "other")


class PatronStatus(enum.StrEnum):
    ACTIVE = "active"  # 正常
    BLOCKED = "blocked"  # 停借
    CARD_LOST = "card_lost"  # 挂失
    CLOSED = "closed"  # 注销


class Patron(Timestamped, Base):
    """A card holder; one card works at every point of the network (一卡通)."""

    __tablename__ = "patrons"

    id: Mapped[int] = mapped_column(primary_key=True)
    card: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    category: Mapped[str] = mapped_column(String(32), index=True)
    home_point_id: Mapped[int] = mapped_column(ForeignKey("service_points.id"), index=True)
    pin_hash: Mapped[str | None] = mapped_column(String(200))
    id_number_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    id_number_masked: Mapped[str | None] = mapped_column(String(32))
    phone: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default=PatronStatus.ACTIVE)
    expires_on: Mapped[dt.date | None]
    # Self-service PIN lockout (circulation/pins.py): wrong PINs in a row, and until when locked.
    pin_failures: Mapped[int] = mapped_column(default=0, server_default="0")
    pin_locked_until: Mapped[dt.datetime | None]

    home_point: Mapped[ServicePoint] = relationship()

    def set_pin(self, pin: str) -> None:
        self.pin_hash = generate_password_hash(pin, method=PIN_HASH_METHOD)

    def check_pin(self, pin: str) -> bool:
        return self.pin_hash is not None and check_password_hash(self.pin_hash, pin)

    def set_id_number(self, id_number: str | None, key: str) -> None:
        if not id_number:
            self.id_number_hash = self.id_number_masked = None
            return
        self.id_number_hash = hash_id_number(id_number, key)
        self.id_number_masked = mask_id_number(id_number)

    def is_valid_on(self, day: dt.date) -> bool:
        """A valid card (有效读者证): active and not expired on ``day``."""
        return self.status == PatronStatus.ACTIVE and (
            self.expires_on is None or self.expires_on >= day
        )


def normalise_id_number(id_number: str) -> str:
    return id_number.strip().upper()


def hash_id_number(id_number: str, key: str) -> str:
    """Keyed hash: equal numbers match, but the table alone does not reveal them.

    The key is the site's secret key; keep it stable, or lookups by ID number
    stop matching (the numbers themselves are not kept, so they cannot be rehashed).
    """
    digest = hmac.new(key.encode(), normalise_id_number(id_number).encode(), hashlib.sha256)
    return digest.hexdigest()


def mask_id_number(id_number: str) -> str:
    """Show the first three and last four characters only (110***********123X)."""
    n = normalise_id_number(id_number)
    if len(n) <= 7:
        return "*" * len(n)
    return n[:3] + "*" * (len(n) - 7) + n[-4:]


def patron_by_card(session: Session, card: str) -> Patron | None:
    return session.scalar(select(Patron).where(Patron.card == card))
