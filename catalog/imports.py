"""`tongjie catalog import`: vendor MARC into the union catalogue, never losing a record silently.

For each file: records are read in a stream (catalog.marc.reader), mapped
through the one field map (catalog.marc.mapping), merged with an existing
record of the same edition (catalog.dedupe) or created, and their copies
attached. Work is done in batches: one query per batch finds existing
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
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import islice
from pathlib import Path
from typing import IO, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog.barcodes import next_barcodes
from catalog.bulk import insert_rows
from catalog.db import utcnow
from catalog.dedupe import match_key
from catalog.errors import NotFound
from catalog.isbn import first_isbn13
from catalog.marc.mapping import Holding, NormalisedRecord, normalise, to_utf8_iso2709
from catalog.marc.reader import MarcReadResult, detect_file, read_marc
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


@dataclass
class _Incoming:
    """One readable record of the file, mapped and keyed, waiting for its batch to be written."""

    result: MarcReadResult
    record: NormalisedRecord
    isbn13: str | None
    key: str | None
    marc: bytes
    sha: str
    target: int | None = None  # existing record id
    new_slot: int | None = None  # index into the batch's new records
    matched_by: str = "new"  # new, same (identical MARC seen before), isbn, key


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

    def reject(self, result: MarcReadResult, reason: str) -> None:
        self.report.rejected += 1
        where = f" at byte {result.offset}" if result.offset is not None else ""
        self.line(f"rejected record {result.index}{where}: {reason}")
        if self.rejects_file is None:
            self.rejects_file = self.rejects_path.open("wb")
            if self.container == "marcxml":
                self.rejects_file.write(b'<?xml version="1.0" encoding="UTF-8"?>\n<collection>\n')
            self.report.rejects_path = str(self.rejects_path)
        self.rejects_file.write(result.raw)
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


def _batches(results: Iterable[MarcReadResult], size: int) -> Iterator[list[MarcReadResult]]:
    iterator = iter(results)
    while batch := list(islice(iterator, size)):
        yield batch


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
) -> FileReport:
    """Import one MARC file; commits batch by batch. See the module docstring for the rules."""
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
        for results in _batches(read_marc(path, format=format, encoding=encoding), batch_size):
            importer.run(results)
            session.commit()
            if progress is not None:
                offset = results[-1].offset
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

    def run(self, results: list[MarcReadResult]) -> None:
        incoming = [i for i in (self._prepare(r) for r in results) if i is not None]
        new_rows = self._match(incoming)
        new_ids = self._insert_records(new_rows)
        for item in incoming:
            if item.new_slot is not None:
                item.target = new_ids[item.new_slot]
        fresh = self._insert_sources(incoming)
        self._insert_copies(incoming, fresh)
        enqueue(self.session, sorted({i.target for i in incoming if i.target is not None}))

    def _prepare(self, result: MarcReadResult) -> _Incoming | None:
        self.report.read += 1
        for warning in result.warnings:
            self._warn(result.index, warning)
        if result.record is None:
            self.writer.reject(result, result.error or "unreadable record")
            return None
        try:
            record = normalise(result.record, result.flavour)
            marc = to_utf8_iso2709(result.record, result.flavour)
        except Exception as exc:  # a record pymarc read but we cannot map: report, go on
            self.writer.reject(result, f"cannot map the record: {type(exc).__name__}: {exc}")
            return None
        isbn13, problems = first_isbn13(record.isbns)
        for problem in problems:
            self._warn(result.index, f"{problem}; kept as text")
        for warning in record.warnings:
            self._warn(result.index, warning)
        first_author = record.authors[0] if record.authors else None
        key = match_key(record.title, first_author, record.publisher, record.pub_year)
        sha = hashlib.sha256(marc).hexdigest()
        return _Incoming(result, record, isbn13, key, marc, sha)

    def _warn(self, index: int, text: str) -> None:
        self.report.warnings += 1
        self.writer.line(f"warning record {index}: {text}")

    def _match(self, incoming: list[_Incoming]) -> list[_Incoming]:
        """Point each record at an existing edition or a new slot; returns the new ones."""
        isbns = {i.isbn13 for i in incoming if i.isbn13}
        keys = {i.key for i in incoming if i.key}
        by_sha: dict[str, int] = {}
        for chunk in _chunks(sorted({i.sha for i in incoming})):
            for rid, sha in self.session.execute(
                select(RecordSource.record_id, RecordSource.marc_sha256).where(
                    RecordSource.marc_sha256.in_(chunk)
                )
            ):
                by_sha.setdefault(sha, rid)
        by_isbn: dict[str, int] = {}
        by_key: dict[str, list[tuple[int, str | None]]] = {}
        for chunk in _chunks(sorted(isbns)):
            for rid, isbn in self.session.execute(
                select(Record.id, Record.isbn13).where(Record.isbn13.in_(chunk))
            ):
                if isbn is not None:
                    by_isbn.setdefault(isbn, rid)
        for chunk in _chunks(sorted(keys)):
            for rid, isbn, key in self.session.execute(
                select(Record.id, Record.isbn13, Record.match_key).where(
                    Record.match_key.in_(chunk)
                )
            ):
                if key is not None:
                    by_key.setdefault(key, []).append((rid, isbn))
        new: list[_Incoming] = []
        slot_by_isbn: dict[str, int] = {}
        slots_by_key: dict[str, list[int]] = {}
        first_with_sha: dict[str, _Incoming] = {}
        for item in incoming:
            if item.sha in by_sha:  # this very MARC record was imported before
                item.target, item.matched_by = by_sha[item.sha], "same"
                continue
            if item.sha in first_with_sha:  # sent twice in this file
                first = first_with_sha[item.sha]
                item.target, item.new_slot, item.matched_by = first.target, first.new_slot, "same"
                continue
            first_with_sha[item.sha] = item
            self._match_one(item, by_isbn, by_key, new, slot_by_isbn, slots_by_key)
        return new

    def _match_one(
        self,
        item: _Incoming,
        by_isbn: dict[str, int],
        by_key: dict[str, list[tuple[int, str | None]]],
        new: list[_Incoming],
        slot_by_isbn: dict[str, int],
        slots_by_key: dict[str, list[int]],
    ) -> None:
        if item.isbn13 and item.isbn13 in by_isbn:
            item.target, item.matched_by = by_isbn[item.isbn13], "isbn"
            return
        if item.isbn13 and item.isbn13 in slot_by_isbn:
            item.new_slot, item.matched_by = slot_by_isbn[item.isbn13], "isbn"
            return
        if item.key:
            for rid, isbn in by_key.get(item.key, []):
                if not (item.isbn13 and isbn):
                    item.target, item.matched_by = rid, "key"
                    if item.isbn13:  # the union record learns the ISBN it lacked
                        self.session.get(Record, rid).isbn13 = item.isbn13  # type: ignore[union-attr]
                        by_isbn[item.isbn13] = rid
                    return
            for slot in slots_by_key.get(item.key, []):
                if not (item.isbn13 and new[slot].isbn13):
                    item.new_slot, item.matched_by = slot, "key"
                    return
        item.new_slot = len(new)
        new.append(item)
        if item.isbn13:
            slot_by_isbn[item.isbn13] = item.new_slot
        if item.key:
            slots_by_key.setdefault(item.key, []).append(item.new_slot)

    def _insert_records(self, new: list[_Incoming]) -> list[int]:
        if not new:
            return []
        now = utcnow()
        rows = [_record_row(i, now) for i in new]
        ids = insert_rows(self.session, Record, rows, return_ids=True)
        self.report.created += len(ids)
        for item, rid in zip(new, ids, strict=True):
            self.writer.line(f"created record {rid} from record {item.result.index}")
        return ids

    def _insert_sources(self, incoming: list[_Incoming]) -> dict[int, int]:
        """Keep each vendor version once per union record; returns {position: source id}."""
        rows: list[dict[str, Any]] = []
        positions: list[int] = []
        seen: set[tuple[int | None, str]] = set()
        for position, item in enumerate(incoming):
            pair = (item.target, item.sha)
            if item.matched_by == "same" or pair in seen:
                self.report.unchanged += 1
                continue
            seen.add(pair)
            if item.matched_by != "new":
                self.report.merged += 1
                why = "ISBN" if item.matched_by == "isbn" else "title, author, publisher and year"
                self.writer.line(
                    f"merged record {item.result.index} into record {item.target} (same {why})"
                )
            positions.append(position)
            rows.append(
                {
                    "record_id": item.target,
                    "flavour": item.result.flavour,
                    "marc": item.marc,
                    "marc_sha256": item.sha,
                    "file_name": self.report.file,
                    "record_index": item.result.index,
                    "batch_id": self.batch_id,
                    "matched_by": item.matched_by,
                    "created_at": utcnow(),
                }
            )
        if not rows:
            return {}
        ids = insert_rows(self.session, RecordSource, rows, return_ids=True)
        return dict(zip(positions, ids, strict=True))

    def _insert_copies(self, incoming: list[_Incoming], sources: dict[int, int]) -> None:
        wanted: list[tuple[_Incoming, int | None, Holding | None]] = []
        for position, item in enumerate(incoming):
            holdings: list[Holding | None] = list(item.record.holdings)
            if item.matched_by == "same":
                # Identical MARC imported before: its barcode-less holdings got their
                # barcodes then; only barcoded ones can be checked (and are, below).
                kept: list[Holding | None] = [h for h in holdings if h is not None and h.barcode]
                self.report.copies_present += len(holdings) - len(kept)
                holdings = kept
            elif not holdings and self.location is not None and not self.location_copies_done:
                holdings = [None]
            wanted.extend((item, sources.get(position), h) for h in holdings)
        if not wanted:
            return
        barcodes = {h.barcode for _, _, h in wanted if h is not None and h.barcode}
        taken: dict[str, int] = {}
        for chunk in _chunks(sorted(barcodes)):
            rows_found = self.session.execute(
                select(Copy.barcode, Copy.record_id).where(Copy.barcode.in_(chunk))
            )
            taken.update({barcode: record_id for barcode, record_id in rows_found})
        rows: list[dict[str, Any]] = []
        need_barcode: list[dict[str, Any]] = []
        now = utcnow()
        for item, source_id, holding in wanted:
            row = self._copy_row(item, source_id, holding, taken, now)
            if row is None:
                continue
            rows.append(row)
            if not row["barcode"]:
                need_barcode.append(row)
        if need_barcode:
            for row, barcode in zip(
                need_barcode, next_barcodes(self.session, "copy", len(need_barcode)), strict=True
            ):
                row["barcode"] = barcode
        if rows:
            insert_rows(self.session, Copy, rows)
            self.report.copies_added += len(rows)

    def _copy_row(
        self,
        item: _Incoming,
        source_id: int | None,
        holding: Holding | None,
        taken: dict[str, int],
        now: dt.datetime,
    ) -> dict[str, Any] | None:
        index = item.result.index
        barcode = (holding.barcode or "").strip() if holding else ""
        if barcode and barcode in taken:
            if taken[barcode] == item.target:
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
            taken[barcode] = item.target or 0
        call_number = (holding.call_number if holding else None) or item.record.clc or ""
        return {
            "barcode": barcode,
            "record_id": item.target,
            "home_point_id": home_id,
            "current_point_id": current_id or home_id,
            "call_number": call_number[:100],
            "item_type": ((holding.item_type if holding else None) or "book")[:32],
            "status": CopyStatus.AVAILABLE.value,
            "status_reason": "",
            "status_changed_at": now,
            "price": parse_price((holding.price if holding else None) or item.record.price),
            "date_added": now.date(),
            "source_id": source_id,
            "created_at": now,
            "updated_at": now,
        }


def _record_row(item: _Incoming, now: dt.datetime) -> dict[str, Any]:
    r = item.record
    return {
        "title": r.title,
        "title_pinyin": r.title_pinyin,
        "other_title": r.other_title,
        "responsibility": r.responsibility,
        "authors": r.authors,
        "authors_pinyin": r.authors_pinyin,
        "edition": _cut(r.edition, 200),
        "publisher": _cut(r.publisher, 300),
        "pub_place": _cut(r.pub_place, 200),
        "pub_year": r.pub_year[:4] if r.pub_year else None,
        "extent": _cut(r.extent, 300),
        "series": r.series,
        "summary": r.summary,
        "subjects": r.subjects,
        "clc": _cut(r.clc, 64),
        "language": r.language[:3] if r.language else None,
        "isbn13": item.isbn13,
        "isbns": r.isbns,
        "price": _cut(r.price, 64),
        "match_key": item.key,
        "marc_flavour": item.result.flavour,
        "marc": item.marc,
        "extra": {},
        "created_at": now,
        "updated_at": now,
    }


def _cut(text: str | None, size: int) -> str | None:
    return text[:size] if text else text


def _chunks(values: list[str], size: int = 500) -> Iterator[list[str]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]
