"""The network's barcode schemes (条码规则): how new copy barcodes and patron cards are numbered.

A barcode is ``prefix + sequence number + check digit``: the sequence number
is zero-padded so that every barcode of a scheme has ``width`` characters in
all (prefix and check digit included), and the check digit is Luhn's
(stdnum.luhn) or absent. Two schemes exist, ``copy`` and ``card``; until a
network sets its own (``tongjie barcodes scheme``) the defaults below apply:
10 digits, Luhn, copies starting with 3 and cards with 2, so that a counter
can tell a book from a card by the first digit.

``next_barcodes`` hands out numbers in the caller's transaction: the scheme's
row is locked (SELECT ... FOR UPDATE on PostgreSQL) until the caller commits,
so two cataloguers never get the same number; a rollback gives the numbers
back. Values already used as a copy barcode or a patron card are skipped.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from sqlalchemy import BigInteger, CheckConstraint, String, column, select, table, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, Session, mapped_column
from stdnum import luhn
from stdnum.exceptions import ValidationError

from catalog.db import Base, Timestamped
from catalog.errors import Conflict, DomainError
from catalog.records import Copy


class SchemeName(enum.StrEnum):
    COPY = "copy"  # 图书条码
    CARD = "card"  # 读者证号


class CheckDigit(enum.StrEnum):
    LUHN = "luhn"
    NONE = "none"


MIN_WIDTH = 4
MAX_WIDTH = 32  # copies.barcode and patrons.card hold 64; scanners and labels like short ones
MAX_PREFIX = 16
MAX_COUNT = 10_000  # numbers handed out in one call
_PREFIX = re.compile(r"[0-9A-Z]*")
_CHUNK = 500  # candidates checked against used values per query


class BarcodeScheme(Timestamped, Base):
    """How one kind of barcode is numbered, and the next number to hand out."""

    __tablename__ = "barcode_schemes"
    __table_args__ = (
        CheckConstraint("name IN ('copy', 'card')", name="known_name"),
        CheckConstraint("check_digit IN ('luhn', 'none')", name="known_check_digit"),
        CheckConstraint(f"width BETWEEN {MIN_WIDTH} AND {MAX_WIDTH}", name="width_range"),
        CheckConstraint("next_value >= 0", name="next_value_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(16), unique=True)
    prefix: Mapped[str] = mapped_column(String(MAX_PREFIX), default="")
    width: Mapped[int]
    check_digit: Mapped[str] = mapped_column(String(8), default=CheckDigit.LUHN)
    next_value: Mapped[int] = mapped_column(BigInteger, default=1)

    @property
    def sequence_width(self) -> int:
        """Digits of the sequence number: the width less the prefix and the check digit."""
        check = 1 if self.check_digit == CheckDigit.LUHN else 0
        return self.width - len(self.prefix) - check

    @property
    def last_value(self) -> int:
        """The largest sequence number the scheme can write."""
        return 10 ** max(self.sequence_width, 0) - 1

    def format(self, value: int) -> str:
        """The barcode of sequence number ``value``."""
        body = f"{self.prefix}{value:0{self.sequence_width}d}"
        if self.check_digit == CheckDigit.LUHN:
            body += luhn.calc_check_digit(body)
        return body

    def describe(self) -> str:
        """One line for the CLI, such as ``copy: prefix 3, width 10, ..., next 1 (3000000012)``."""
        upcoming = (
            f"{self.next_value} ({self.format(self.next_value)})"
            if self.next_value <= self.last_value
            else "none left"
        )
        return (
            f"{self.name}: prefix {self.prefix or '(none)'}, width {self.width}, "
            f"check digit {self.check_digit}, next {upcoming}"
        )


@dataclass(frozen=True)
class SchemeDefaults:
    prefix: str
    width: int
    check_digit: str
    next_value: int = 1


DEFAULTS = {
    SchemeName.COPY: SchemeDefaults(prefix="3", width=10, check_digit=CheckDigit.LUHN),
    SchemeName.CARD: SchemeDefaults(prefix="2", width=10, check_digit=CheckDigit.LUHN),
}

# Columns of the tables whose values a new number must not repeat. Patrons
# live in circulation/, which catalog/ may not import: its table is named here.
_USED_COLUMNS = (
    Copy.__table__.c.barcode,
    table("patrons", column("card", String)).c.card,
)


class InvalidScheme(DomainError):
    code = "invalid_barcode_scheme"


class SchemeExhausted(Conflict):
    code = "barcode_scheme_exhausted"


def default_scheme(name: str) -> BarcodeScheme:
    """The scheme a network has until it sets its own (not added to any session)."""
    defaults = DEFAULTS[_known_name(name)]
    return BarcodeScheme(
        name=str(name),
        prefix=defaults.prefix,
        width=defaults.width,
        check_digit=defaults.check_digit,
        next_value=defaults.next_value,
    )


def get_scheme(session: Session, name: str) -> BarcodeScheme:
    """The network's scheme ``name`` (its stored row, or the default when it has none)."""
    _known_name(name)
    stored = session.scalar(select(BarcodeScheme).where(BarcodeScheme.name == name))
    return stored if stored is not None else default_scheme(name)


def set_scheme(
    session: Session,
    name: str,
    *,
    prefix: str | None = None,
    width: int | None = None,
    check_digit: str | None = None,
    next_value: int | None = None,
) -> BarcodeScheme:
    """Change the scheme ``name``; what is not given stays as it is (or as the default)."""
    scheme = _locked_scheme(session, name)
    new_prefix = scheme.prefix if prefix is None else prefix.strip().upper()
    new_width = scheme.width if width is None else width
    new_check = scheme.check_digit if check_digit is None else check_digit.strip().lower()
    new_next = scheme.next_value if next_value is None else next_value
    _validate(new_prefix, new_width, new_check, new_next)
    scheme.prefix, scheme.width = new_prefix, new_width
    scheme.check_digit, scheme.next_value = new_check, new_next
    session.flush()
    return scheme


def next_barcodes(session: Session, name: str, count: int = 1) -> list[str]:
    """Reserve ``count`` new barcodes of scheme ``name``, in order, in the caller's transaction.

    The numbers are consecutive except where a value is already used as a copy
    barcode or a patron card: those are skipped. The scheme's row stays locked
    until the caller commits or rolls back (a rollback returns the numbers).
    """
    if not 1 <= count <= MAX_COUNT:
        raise InvalidScheme(
            f"ask for 1 to {MAX_COUNT} barcodes at a time, not {count}",
            f"每次可取 1 至 {MAX_COUNT} 个条码，不能取 {count} 个",
            count=count,
        )
    scheme = _locked_scheme(session, name)
    found: list[str] = []
    value = scheme.next_value
    while len(found) < count:
        chunk_end = min(value + max(_CHUNK, count - len(found)), scheme.last_value + 1)
        if value >= chunk_end:
            raise SchemeExhausted(
                f"the {scheme.name} barcode scheme has no numbers left; "
                "give it a new prefix or width (tongjie barcodes scheme)",
                f"{_name_zh(scheme.name)}编号已用完，"
                "请设置新的前缀或位数（tongjie barcodes scheme）",
                scheme=scheme.name,
            )
        candidates = [(v, scheme.format(v)) for v in range(value, chunk_end)]
        used = _used_values(session, [text for _, text in candidates])
        for candidate, text in candidates:
            value = candidate + 1
            if text in used:
                continue
            found.append(text)
            if len(found) == count:
                break
    scheme.next_value = value
    session.flush()
    return found


def validate_barcode(scheme: BarcodeScheme, text: str) -> bool:
    """Whether ``text`` could have been made by ``scheme`` (prefix, width, digits, check digit)."""
    if not isinstance(text, str) or len(text) != scheme.width:
        return False
    if not text.startswith(scheme.prefix):
        return False
    rest = text[len(scheme.prefix) :]
    if not (rest.isascii() and rest.isdigit()):
        return False
    if scheme.check_digit == CheckDigit.LUHN:
        try:
            luhn.validate(text)
        except ValidationError:
            return False
    return True


def _known_name(name: str) -> SchemeName:
    try:
        return SchemeName(name)
    except ValueError:
        raise InvalidScheme(
            f"unknown barcode scheme {name!r}: use copy or card",
            f"未知的条码规则“{name}”：应为 copy（图书）或 card（读者证）",
            name=name,
        ) from None


def _name_zh(name: str) -> str:
    return "图书条码" if name == SchemeName.COPY else "读者证"


def _locked_scheme(session: Session, name: str) -> BarcodeScheme:
    """The scheme's row, created with the defaults if missing, locked for this transaction."""
    _known_name(name)
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        # SQLite ignores FOR UPDATE: take the database's write lock first, so
        # that the row read next is the latest and nobody else changes it.
        session.execute(
            update(BarcodeScheme)
            .where(BarcodeScheme.name == name)
            .values(next_value=BarcodeScheme.next_value)
            .execution_options(synchronize_session=False)
        )
    query = (
        select(BarcodeScheme)
        .where(BarcodeScheme.name == name)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    scheme = session.scalar(query)
    if scheme is not None:
        return scheme
    defaults = DEFAULTS[SchemeName(name)]
    values = {
        "name": str(name),
        "prefix": defaults.prefix,
        "width": defaults.width,
        "check_digit": str(defaults.check_digit),
        "next_value": defaults.next_value,
    }
    # Two first callers at once: one inserts, the other waits for it and does nothing.
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    statement = (
        insert(BarcodeScheme).values(**values).on_conflict_do_nothing(index_elements=["name"])
    )
    session.execute(statement)
    scheme = session.scalar(query)
    assert scheme is not None
    return scheme


def _validate(prefix: str, width: int, check_digit: str, next_value: int) -> None:
    problems_en: list[str] = []
    problems_zh: list[str] = []
    if len(prefix) > MAX_PREFIX or not _PREFIX.fullmatch(prefix):
        problems_en.append(f"the prefix must be up to {MAX_PREFIX} digits or letters A-Z")
        problems_zh.append(f"前缀只能由数字或字母 A-Z 组成，最多 {MAX_PREFIX} 位")
    if check_digit not in (CheckDigit.LUHN, CheckDigit.NONE):
        problems_en.append("the check digit must be luhn or none")
        problems_zh.append("校验位应为 luhn 或 none")
    elif check_digit == CheckDigit.LUHN and prefix and not prefix.isdigit():
        problems_en.append("a Luhn check digit needs a prefix of digits only")
        problems_zh.append("使用 Luhn 校验位时前缀只能是数字")
    if not MIN_WIDTH <= width <= MAX_WIDTH:
        problems_en.append(f"the width must be {MIN_WIDTH} to {MAX_WIDTH}")
        problems_zh.append(f"总位数应为 {MIN_WIDTH} 至 {MAX_WIDTH}")
    else:
        check = 1 if check_digit == CheckDigit.LUHN else 0
        if width - len(prefix) - check < 1:
            problems_en.append("the width leaves no room for a sequence number")
            problems_zh.append("总位数不足以容纳流水号")
        elif next_value > 10 ** (width - len(prefix) - check) - 1:
            problems_en.append("the next number does not fit in the width")
            problems_zh.append("下一个流水号超出了位数")
    if next_value < 0:
        problems_en.append("the next number cannot be negative")
        problems_zh.append("下一个流水号不能为负数")
    if problems_en:
        raise InvalidScheme("; ".join(problems_en), "；".join(problems_zh))


def _used_values(session: Session, texts: list[str]) -> set[str]:
    used: set[str] = set()
    for used_column in _USED_COLUMNS:
        used.update(session.scalars(select(used_column).where(used_column.in_(texts))))
    return used
