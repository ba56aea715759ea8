"""`tongjie catalog import`: vendor MARC into the union catalogue, never losing a record silently.

For each file: records are read in a stream (catalog.marc.reader), mapped
through the one field map (catalog.marc.mapping) and keyed for duplicate
checks (catalog.import_reader, in a second process for large files), then
merged with an existing record of the same edition (catalog.dedupe) or
created, and their copies attached. Work is done in batches: one query per batch finds existing
editions and barcodes, one bulk insert per batch writes records, sources
and copies, and each batch commits, so memory stays flat in the file size
and a crash loses at most the batch in hand (re-running is safe: nothing is
created twice).

Everything that is not imported is reported: an unreadable record (number,
byte offset, reason) is written to a reject file that can be corrected and
re-imported; a copy whose barcode is taken or whose point is unknown is
reported while its record is still imported. Report lines go to a report
file as they happen; only counts stay in memory.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog.barcodes import next_barcodes
from catalog.bulk import insert_rows, select_in
from catalog.db import utcnow
from catalog.errors import NotFound
from catalog.import_reader import (
    COL_CLC,
    COL_ISBN13,
    COL_KEY,
    COL_MARC,
    COL_PRICE,
    RECORD_COLUMNS,
    Prepared,
    prepared_batches,
)
from catalog.marc.mapping import Holding
from catalog.marc.reader import detect_file
from catalog.network import ServicePoint, point_by_code
from catalog.records import Copy, CopyStatus, ImportBatch, Record, RecordSource
from catalog.search.outbox import enqueue

BATCH_SIZE = 1000
PRINTED_DETAILS = 20  # per kind, on the terminal; the report file has them all


@dataclass
class FileReport:
    """What happened to one file. Counts only: details are in ``report_path``."""

    file: str
    container: str = ""
    flavour: str = ""
    encoding: str = ""
    read: int = 0
    created: int = 0
    merged: int = 0
    unchanged: int = 0
    copies_added: int = 0
    copies_present: int = 0
    rejected: int = 0
    copies_rejected: int = 0
    warnings: int = 0
    report_path: str | None = None
    rejects_path: str | None = None
    details: list[str] = field(default_factory=list)  # the first few lines, for the terminal

    @property
    def clean(self) -> bool:
        """True when nothing the vendor sent was refused."""
        return self.rejected == 0 and self.copies_rejected == 0

    def counts(self) -> dict[str, Any]:
        keys = ("read", "created", "merged", "unchanged", "copies_added", "copies_present",
                "rejected", "copies_rejected", "warnings")  # fmt: skip
        return {k: getattr(self, k) for k in keys}


class _Incoming:
    """A prepared record in the batch being written, and where it goes."""

    __slots__ = ("item", "matched_by", "new_slot", "target")

    def __init__(self, item: Prepared) -> None:
        self.item = item
        self.target: int | None = None  # existing record id
        self.new_slot: int | None = None  # index into the batch's new records
        self.matched_by = "new"  # new, same (identical MARC seen before), isbn, key

    @property
    def row(self) -> tuple[Any, ...]:
        assert self.item.row is not None
        return self.item.row

    @property
    def isbn13(self) -> str | None:
        return self.row[COL_ISBN13]

    @property
    def key(self) -> str | None:
        return self.row[COL_KEY]

    @property
    def sha(self) -> str:
        return self.item.sha


class _Writer:
    """The report and reject files of one import, written line by line."""

    def __init__(self, report: FileReport, out_dir: Path, container: str) -> None:
        out_dir.mkdir(parents=True, exist_ok=True)
        stem = Path(report.file).name
        self.report = report
        self.report_file: IO[str] = (out_dir / f"{stem}.report.txt").open("w", encoding="utf-8")
        report.report_path = str(out_dir / f"{stem}.report.txt")
        suffix = ".rejects.xml" if container == "marcxml" else ".rejects.mrc"
        self.rejects_path = out_dir / f"{stem}{suffix}"
        self.rejects_file: IO[bytes] | None = None
        self.container = container

    def line(self, text: str) -> None:
        self.report_file.write(text + "\n")
        if len(self.report.details) < PRINTED_DETAILS * 3:
            self.report.details.append(text)

    def reject(self, item: Prepared) -> None:
        self.report.rejected += 1
        where = f" at byte {item.offset}" if item.offset is not None else ""
        self.line(f"rejected record {item.number}{where}: {item.error}")
        if self.rejects_file is None:
            self.rejects_file = self.rejects_path.open("wb")
            if self.container == "marcxml":
                self.rejects_file.write(b'<?xml version="1.0" encoding="UTF-8"?>\n<collection>\n')
            self.report.rejects_path = str(self.rejects_path)
        self.rejects_file.write(item.raw)
        if self.container == "marcxml":
            self.rejects_file.write(b"\n")

    def close(self) -> None:
        self.report_file.close()
        if self.rejects_file is not None:
            if self.container == "marcxml":
                self.rejects_file.write(b"</collection>\n")
            self.rejects_file.close()


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


AMOUNT = re.compile(r"\d+(?:\.\d+)?")
MAX_PRICE = Decimal("9999999.99")  # what copies.price (10, 2) holds


def parse_price(text: str | None) -> Decimal | None:
    """The first plausible amount in a price text ("CNY12.00 (2册)" -> 12.00), else None.

    Vendors put anything in price fields (a stray ISBN, a count of volumes);
    a number too large for a price is not one.
    """
    for match in AMOUNT.finditer(text or ""):
        amount = Decimal(match.group(0)).quantize(Decimal("0.01"))
        if amount <= MAX_PRICE:
            return amount
    return None


def import_file(
    session: Session,
    path: Path,
    *,
    location: str | None = None,
    format: str = "auto",
    encoding: str = "auto",
    report_dir: Path = Path("import-reports"),
    progress: Callable[[int, int], None] | None = None,
    batch_size: int = BATCH_SIZE,
    jobs: int = 0,
) -> FileReport:
    """Import one MARC file; commits batch by batch. See the module docstring for the rules.

    ``jobs``: 2 reads and maps in a second process, 1 in this one, 0 chooses
    by the file's size (catalog.import_reader.prepared_batches).
    """
    location_point = _location(session, location)
    container, flavour, detected_encoding = detect_file(path)
    report = FileReport(
        file=path.name,
        container=container,
        flavour=flavour if format == "auto" else format,
        encoding=detected_encoding if encoding == "auto" else encoding,
    )
    sha = file_sha256(path)
    location_id = location_point.id if location_point else None
    already_here = location_id is not None and session.scalar(
        select(ImportBatch.id).where(
            ImportBatch.file_sha256 == sha,
            ImportBatch.location_id == location_id,
            ImportBatch.status == "done",
        )
    )
    batch = ImportBatch(file_name=path.name, file_sha256=sha, location_id=location_id)
    session.add(batch)
    session.commit()
    writer = _Writer(report, report_dir, container)
    importer = _BatchImporter(session, report, writer, batch.id, location_point, bool(already_here))
    if already_here:
        writer.line(f"this file was already imported to {location}: no new copies are generated")
    try:
        total = path.stat().st_size
        batches = prepared_batches(
            path, format=format, encoding=encoding, batch_size=batch_size, jobs=jobs
        )
        with closing(batches):  # on any error, the reading process is stopped at once
            for prepared in batches:
                importer.run(prepared)
                session.commit()
                if progress is not None:
                    offset = prepared[-1].offset
                    progress(report.read, min(offset, total) if offset is not None else 0)
    finally:
        writer.close()
    batch.status = "done"
    batch.finished_at = utcnow()
    batch.summary = report.counts()
    session.commit()
    return report


def _location(session: Session, code: str | None) -> ServicePoint | None:
    if code is None:
        return None
    point = point_by_code(session, code)
    if point is None:
        raise NotFound(f"no service point with code {code}", f"没有代码为 {code} 的服务点")
    return point


class _BatchImporter:
    """Writes one batch of read results: records, sources, copies, outbox."""

    def __init__(
        self,
        session: Session,
        report: FileReport,
        writer: _Writer,
        batch_id: int,
        location: ServicePoint | None,
        location_copies_done: bool,
    ) -> None:
        self.session = session
        self.report = report
        self.writer = writer
        self.batch_id = batch_id
        self.location = location
        self.location_copies_done = location_copies_done
        self.point_ids = {code: pid for pid, code in session.execute(
            select(ServicePoint.id, ServicePoint.code))}  # fmt: skip

    def run(self, batch: list[Prepared]) -> None:
        incoming: list[_Incoming] = []
        for item in batch:
            self.report.read += 1
            for warning in item.warnings:
                self._warn(item.number, warning)
            if item.row is None:
                self.writer.reject(item)
            else:
                incoming.append(_Incoming(item))
        new_rows = self._match(incoming)
        new_ids = self._insert_records(new_rows)
        for entry in incoming:
            if entry.new_slot is not None:
                entry.target = new_ids[entry.new_slot]
        fresh = self._insert_sources(incoming)
        self._insert_copies(incoming, fresh)
        enqueue(self.session, sorted({i.target for i in incoming if i.target is not None}))

    def _warn(self, index: int, text: str) -> None:
        self.report.warnings += 1
        self.writer.line(f"warning record {index}: {text}")

    def _match(self, incoming: list[_Incoming]) -> list[_Incoming]:
        """Point each record at an existing edition or a new slot; returns the new ones."""
        by_sha: dict[str, int] = {}
        for rid, sha in select_in(
            self.session, "record_sources", ("record_id", "marc_sha256"), "marc_sha256",
            {i.sha for i in incoming},
        ):  # fmt: skip
            by_sha.setdefault(sha, rid)
        by_isbn: dict[str, int] = {}
        for rid, isbn in select_in(
            self.session, "records", ("id", "isbn13"), "isbn13",
            {i.isbn13 for i in incoming if i.isbn13},
        ):  # fmt: skip
            by_isbn.setdefault(isbn, rid)
        by_key: dict[str, list[tuple[int, str | None]]] = {}
        for rid, isbn, key in select_in(
            self.session, "records", ("id", "isbn13", "match_key"), "match_key",
            {i.key for i in incoming if i.key},
        ):  # fmt: skip
            by_key.setdefault(key, []).append((rid, isbn))
        for candidates in by_key.values():
            candidates.sort()
        new: list[_Incoming] = []
        slot_by_isbn: dict[str, int] = {}
        slots_by_key: dict[str, list[int]] = {}
        first_with_sha: dict[str, _Incoming] = {}
        for entry in incoming:
            if entry.sha in by_sha:  # this very MARC record was imported before
                entry.target, entry.matched_by = by_sha[entry.sha], "same"
                continue
            if entry.sha in first_with_sha:  # sent twice in this file
                first = first_with_sha[entry.sha]
                entry.target, entry.new_slot = first.target, first.new_slot
                entry.matched_by = "same"
                continue
            first_with_sha[entry.sha] = entry
            self._match_one(entry, by_isbn, by_key, new, slot_by_isbn, slots_by_key)
        return new

    def _match_one(
        self,
        entry: _Incoming,
        by_isbn: dict[str, int],
        by_key: dict[str, list[tuple[int, str | None]]],
        new: list[_Incoming],
        slot_by_isbn: dict[str, int],
        slots_by_key: dict[str, list[int]],
    ) -> None:
        isbn13, key = entry.isbn13, entry.key
        if isbn13 and isbn13 in by_isbn:
            entry.target, entry.matched_by = by_isbn[isbn13], "isbn"
            return
        if isbn13 and isbn13 in slot_by_isbn:
            entry.new_slot, entry.matched_by = slot_by_isbn[isbn13], "isbn"
            return
        if key:
            for rid, isbn in by_key.get(key, []):
                if not (isbn13 and isbn):
                    entry.target, entry.matched_by = rid, "key"
                    if isbn13:  # the union record learns the ISBN it lacked
                        self.session.get(Record, rid).isbn13 = isbn13  # type: ignore[union-attr]
                        by_isbn[isbn13] = rid
                    return
            for slot in slots_by_key.get(key, []):
                if not (isbn13 and new[slot].isbn13):
                    entry.new_slot, entry.matched_by = slot, "key"
                    return
        entry.new_slot = len(new)
        new.append(entry)
        if isbn13:
            slot_by_isbn[isbn13] = entry.new_slot
        if key:
            slots_by_key.setdefault(key, []).append(entry.new_slot)

    def _insert_records(self, new: list[_Incoming]) -> list[int]:
        if not new:
            return []
        now = utcnow()
        rows = [(*entry.row, now, now) for entry in new]
        ids = insert_rows(self.session, Record, _RECORD_INSERT, rows, return_ids=True)
        self.report.created += len(ids)
        for entry, rid in zip(new, ids, strict=True):
            self.writer.line(f"created record {rid} from record {entry.item.number}")
        return ids

    def _insert_sources(self, incoming: list[_Incoming]) -> dict[int, int]:
        """Keep each vendor version once per union record; returns {position: source id}."""
        rows: list[tuple[Any, ...]] = []
        positions: list[int] = []
        seen: set[tuple[int | None, str]] = set()
        now = utcnow()
        for position, entry in enumerate(incoming):
            pair = (entry.target, entry.sha)
            if entry.matched_by == "same" or pair in seen:
                self.report.unchanged += 1
                continue
            seen.add(pair)
            item = entry.item
            if entry.matched_by != "new":
                self.report.merged += 1
                why = "ISBN" if entry.matched_by == "isbn" else "title, author, publisher and year"
                self.writer.line(
                    f"merged record {item.number} into record {entry.target} (same {why})"
                )
            positions.append(position)
            rows.append((entry.target, item.flavour, entry.row[COL_MARC], entry.sha,
                         self.report.file, item.number, self.batch_id, entry.matched_by,
                         now))  # fmt: skip
        if not rows:
            return {}
        ids = insert_rows(self.session, RecordSource, _SOURCE_INSERT, rows, return_ids=True)
        return dict(zip(positions, ids, strict=True))

    def _insert_copies(self, incoming: list[_Incoming], sources: dict[int, int]) -> None:
        wanted: list[tuple[_Incoming, int | None, Holding | None]] = []
        for position, entry in enumerate(incoming):
            holdings: list[Holding | None] = [Holding(*h) for h in entry.item.holdings]
            if entry.matched_by == "same":
                # Identical MARC imported before: its barcode-less holdings got their
                # barcodes then; only barcoded ones can be checked (and are, below).
                kept: list[Holding | None] = [h for h in holdings if h is not None and h.barcode]
                self.report.copies_present += len(holdings) - len(kept)
                holdings = kept
            elif not holdings and self.location is not None and not self.location_copies_done:
                holdings = [None]
            wanted.extend((entry, sources.get(position), h) for h in holdings)
        if not wanted:
            return
        barcodes = {h.barcode for _, _, h in wanted if h is not None and h.barcode}
        taken: dict[str, int] = dict(
            select_in(self.session, "copies", ("barcode", "record_id"), "barcode", barcodes)
        )
        rows: list[list[Any]] = []
        need_barcode: list[list[Any]] = []
        now = utcnow()
        for entry, source_id, holding in wanted:
            row = self._copy_row(entry, source_id, holding, taken, now)
            if row is None:
                continue
            rows.append(row)
            if not row[0]:
                need_barcode.append(row)
        if need_barcode:
            for row, barcode in zip(
                need_barcode, next_barcodes(self.session, "copy", len(need_barcode)), strict=True
            ):
                row[0] = barcode
        if rows:
            insert_rows(self.session, Copy, _COPY_INSERT, rows)
            self.report.copies_added += len(rows)

    def _copy_row(
        self,
        entry: _Incoming,
        source_id: int | None,
        holding: Holding | None,
        taken: dict[str, int],
        now: dt.datetime,
    ) -> list[Any] | None:
        index = entry.item.number
        barcode = (holding.barcode or "").strip() if holding else ""
        if barcode and barcode in taken:
            if taken[barcode] == entry.target:
                self.report.copies_present += 1
                return None
            self.report.copies_rejected += 1
            self.writer.line(
                f"rejected copy {barcode} of record {index}: barcode already used by a copy of"
                f" record {taken[barcode]}; the record itself was imported"
            )
            return None
        home_code = holding.home if holding else None
        home_id = self.point_ids.get(home_code or "")
        current_id = self.point_ids.get((holding.current if holding else None) or "")
        if home_id is None:
            if self.location is None:
                self.report.copies_rejected += 1
                self.writer.line(
                    f"rejected copy {barcode or '(no barcode)'} of record {index}: unknown point"
                    f" code '{home_code or ''}'; give --location CODE to place such copies"
                )
                return None
            home_id = self.location.id
        if barcode:
            taken[barcode] = entry.target or 0
        call_number = (holding.call_number if holding else None) or entry.row[COL_CLC] or ""
        price = parse_price((holding.price if holding else None) or entry.row[COL_PRICE])
        item_type = ((holding.item_type if holding else None) or "book")[:32]
        return [barcode, entry.target, home_id, current_id or home_id, call_number[:100],
                item_type, CopyStatus.AVAILABLE.value, "", now, price, now.date(), source_id,
                now, now]  # fmt: skip


_RECORD_INSERT = (*RECORD_COLUMNS, "created_at", "updated_at")
_SOURCE_INSERT = ("record_id", "flavour", "marc", "marc_sha256", "file_name", "record_index",
                  "batch_id", "matched_by", "created_at")  # fmt: skip
_COPY_INSERT = ("barcode", "record_id", "home_point_id", "current_point_id", "call_number",
                "item_type", "status", "status_reason", "status_changed_at", "price",
                "date_added", "source_id", "created_at", "updated_at")  # fmt: skip
