"""Read MARC files (ISO 2709 or MARCXML, MARC21 or CNMARC/UNIMARC) without ever giving up.

Vendor files are the first thing a county library imports and the first place
data is lost: one damaged record, CR/LF between records or a leader that lies
about the character set makes a naive reader stop, skip the rest of the file,
or garble every Chinese character without a word. This module reads each
record on its own and hands back, for every record, either a decoded
``pymarc.Record`` or a plain-English reason plus the record's raw bytes, so
that the import report can say what was kept, what was not, and why.

Rules (explained for cataloguers in docs/marc.md):

* ISO 2709 records are split on the record terminator (0x1D), not trusted to
  the leader's length; the length is only a check. Blank lines, CR/LF, NUL and
  DOS end-of-file bytes between records are skipped.
* The directory, not pymarc's exceptions, decides whether a record is
  readable, so that the error names the damaged part. Two common faults are
  repaired (with a warning): a base address that does not match the end of the
  directory, and directory lengths that disagree with the field terminators.
* Characters are decoded strictly per record. A record whose bytes are not
  valid in its character set is reported, never imported with guessed
  characters.
* MARCXML is read with ``iterparse`` and each record is dropped from memory
  once read, so a 300 MB file needs no more memory than a 3 MB one.
* A well-formed ISO 2709 record (nothing to repair, nothing to report) takes a
  fast path that gives the same record: a ``ReadRecord``, whose pymarc fields
  are made only when used and whose bytes can be stored as read.
"""

from __future__ import annotations

import re
import unicodedata
import xml.etree.ElementTree as ET
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import pymarc
from pymarc import marc8_mapping

__all__ = [
    "ENCODINGS",
    "FLAVOURS",
    "MarcReadResult",
    "ReadRecord",
    "decode_marc8",
    "detect_file",
    "read_marc",
]

FLAVOURS = ("marc21", "unimarc")
ENCODINGS = ("utf-8", "marc-8", "gb18030")

RECORD_TERMINATOR = 0x1D
FIELD_TERMINATOR = 0x1E
SUBFIELD_DELIMITER = 0x1F
# Bytes that vendors put between records and that carry no data.
_JUNK = frozenset(b"\r\n\t \x00\x1a")
_BLOCK = 1 << 20
# A chunk without a record terminator is cut here: ISO 2709 records are at most
# 99,999 bytes, and even over-long ones are far below this.
_MAX_CHUNK = 1 << 24
_LEADER_LEN = 24
_ENTRY_LEN = 12
# Looks like the start of a leader: record length, 7 characters, base address.
_LEADER_START = re.compile(rb"\d{5}[\x20-\x7e]{7}\d{5}[\x20-\x7e]{7}[0-9A-Za-z]{3}\d{9}")
# The same, where it follows something that cannot be part of a leader or
# directory (a line break, a field terminator, binary junk): only there is the
# text in front of it junk rather than a damaged leader.
_LEADER_AFTER_JUNK = re.compile(rb"(?<![0-9A-Za-z ])" + _LEADER_START.pattern)
_JUNK_NOTE = "junk"
# How many readable records detection looks at before deciding.
_DETECT_RECORDS = 5
_DETECT_CHUNKS = 50

# MARCXML namespaces seen in the wild, with the flavour each one suggests.
# The content of the records (200/100 versus 245/008) still decides, because
# Koha and others write UNIMARC records in the MARC21 namespace.
# MarcXchange (ISO 25577) serves every flavour; its format attribute tells which.
_XML_NAMESPACES: dict[str, str | None] = {
    "http://www.loc.gov/MARC21/slim": "marc21",
    "http://www.nlc.cn/": "unimarc",
    "info:srw/schema/8/unimarcxml-v0.1": "unimarc",
    "info:lc/xmlns/unimarcxml-v1": "unimarc",
    "http://www.unimarc.org/UNIMARC/slim": "unimarc",
    "info:lc/xmlns/marcxchange-v1": None,
    "info:lc/xmlns/marcxchange-v2": None,
    "http://www.bs.dk/standards/MarcXchange": None,
}
_MARC_CHILDREN = frozenset({"leader", "controlfield", "datafield"})


@dataclass(frozen=True)
class MarcReadResult:
    """One record of a MARC file, read or not.

    ``record`` is None exactly when ``error`` says why; ``raw`` then holds the
    bytes to write to a reject file so that nothing a vendor sent is lost.
    ``warnings`` lists repairs the reader made on a record it did read.
    """

    index: int
    offset: int | None
    record: pymarc.Record | None
    raw: bytes
    error: str | None
    flavour: str
    encoding: str
    warnings: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        """True when the record was read."""
        return self.record is not None


class _RecordError(Exception):
    """A record cannot be read; the message is meant for a cataloguer."""


# --------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------


def read_marc(
    path: str | Path, *, format: str = "auto", encoding: str = "auto"
) -> Iterator[MarcReadResult]:
    """Yield every record of a MARC file, good or bad, in file order.

    ``format`` forces the flavour ("marc21", or "unimarc"/"cnmarc") when the
    detection is wrong; ``encoding`` forces the character set of every record
    ("utf-8", "marc-8" or "gb18030"). Neither a damaged record nor malformed
    XML raises: they come back as results with ``error`` set. Only a missing
    or unreadable file raises ``OSError``, and a bad option ``ValueError``.
    """
    flavour_override = _check_format(format)
    encoding_override = _check_encoding(encoding)
    container, flavour, _ = detect_file(path)
    if flavour_override:
        flavour = flavour_override
    if container == "marcxml":
        yield from _read_marcxml(Path(path), flavour)
    else:
        yield from _read_iso2709(Path(path), flavour, encoding_override)


def detect_file(path: str | Path) -> tuple[str, str, str]:
    """Guess (container, flavour, encoding) of a MARC file from its first records.

    Container is "iso2709" or "marcxml". Flavour is "unimarc" when the records
    carry CNMARC/UNIMARC's 100 field (36 characters of coded data) and 200 title
    field, otherwise "marc21". Encoding is the character set most of the first
    readable records use; for MARCXML it is the XML declaration's.
    """
    p = Path(path)
    with p.open("rb") as fh:
        head = fh.read(4096)
    if head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
        return "marcxml", _detect_xml_flavour(p), _xml_declared_encoding(head)
    flavour_votes = {"marc21": 0, "unimarc": 0}
    encodings: dict[str, int] = {}
    parsed: list[_Parsed] = []
    with p.open("rb") as fh:
        for n, (_, chunk, _) in enumerate(_split_iso2709(fh)):
            if n >= _DETECT_CHUNKS or len(parsed) >= _DETECT_RECORDS:
                break
            try:
                parsed.append(_parse_structure(chunk))
            except _RecordError:
                continue
    for rec in parsed:
        flavour_votes[_guess_flavour(rec)] += 1
    flavour = "unimarc" if flavour_votes["unimarc"] > flavour_votes["marc21"] else "marc21"
    for rec in parsed:
        try:
            enc, _ = _choose_encoding(rec, flavour)
        except _RecordError:
            continue
        encodings[enc] = encodings.get(enc, 0) + 1
    default = "utf-8" if flavour == "unimarc" else "marc-8"
    encoding = max(encodings, key=lambda e: encodings[e]) if encodings else default
    return "iso2709", flavour, encoding


# --------------------------------------------------------------------------
# Options
# --------------------------------------------------------------------------


def _check_format(value: str) -> str | None:
    v = value.strip().lower()
    if v == "auto":
        return None
    if v == "cnmarc":
        return "unimarc"
    if v in FLAVOURS:
        return v
    raise ValueError(f"format must be 'auto', 'marc21', 'unimarc' or 'cnmarc', not {value!r}")


def _check_encoding(value: str) -> str | None:
    v = value.strip().lower().replace("_", "-")
    aliases = {"utf8": "utf-8", "marc8": "marc-8", "gbk": "gb18030", "gb2312": "gb18030"}
    v = aliases.get(v, v)
    if v == "auto":
        return None
    if v in ENCODINGS:
        return v
    raise ValueError(f"encoding must be 'auto', 'utf-8', 'marc-8' or 'gb18030', not {value!r}")


# --------------------------------------------------------------------------
# ISO 2709: splitting
# --------------------------------------------------------------------------


def _split_iso2709(fh: BinaryIO) -> Iterator[tuple[int, bytes, str | None]]:
    """Yield (offset, bytes, note) for each record-sized chunk of the stream.

    Chunks end at a record terminator; the leader's length is used to see
    through a terminator byte inside a record, or to split two records when
    the first lost its terminator. ``note`` explains such a decision. Memory
    holds one read block plus one record at most.
    """
    buf = bytearray()
    start = 0  # file offset of buf[0]
    eof = False

    def fill() -> bool:
        nonlocal eof
        if eof:
            return False
        data = fh.read(_BLOCK)
        if not data:
            eof = True
            return False
        buf.extend(data)
        return True

    while True:
        skip = 0
        while True:
            while skip < len(buf) and buf[skip] in _JUNK:
                skip += 1
            if skip < len(buf) or not fill():
                break
        del buf[:skip]
        start += skip
        if not buf:
            return
        search = 0
        while (term := buf.find(RECORD_TERMINATOR, search)) < 0:
            search = len(buf)
            if search >= _MAX_CHUNK or not fill():
                break
        end = min(len(buf), _MAX_CHUNK) if term < 0 else term + 1
        note: str | None = None
        declared = int(buf[:5]) if buf[:5].isdigit() else 0
        if declared > _LEADER_LEN and declared != end:
            if declared > end:
                while len(buf) < declared and fill():
                    pass
                if len(buf) >= declared and buf[declared - 1] == RECORD_TERMINATOR:
                    note = (
                        "a record terminator byte (0x1D) occurs inside the record; "
                        "the leader's record length was used to find the real end"
                    )
                    end = declared
            else:
                # The leader's length counts a terminator that is missing (the
                # next leader starts one byte early) or replaced by another byte.
                for cut in (declared - 1, declared):
                    if (
                        buf[declared - 2] == FIELD_TERMINATOR
                        and _LEADER_START.match(buf, cut) is not None
                    ):
                        note = (
                            "the record has no record terminator (0x1D); it was split "
                            "from the next record using the leader's record length"
                        )
                        end = cut
                        break
        chunk = bytes(buf[:end])
        # Junk in front of a leader (a text header, a half record) is reported
        # on its own so that the record behind it is still read.
        if _LEADER_START.match(chunk) is None:
            m = _LEADER_AFTER_JUNK.search(chunk, 1)
            if m is not None:
                yield start, chunk[: m.start()], _JUNK_NOTE
                del buf[: m.start()]
                start += m.start()
                continue
        yield start, chunk, note
        del buf[:end]
        start += end


# --------------------------------------------------------------------------
# ISO 2709: structure
# --------------------------------------------------------------------------


@dataclass
class _RawField:
    tag: str
    data: bytes | None  # control field value
    indicators: tuple[str, str]
    subfields: list[tuple[str, bytes]]


@dataclass
class _Parsed:
    leader: str
    fields: list[_RawField]
    warnings: list[str]


def _parse_structure(chunk: bytes) -> _Parsed:
    """Cut a record into leader, directory and fields, still as bytes."""
    warnings: list[str] = []
    if len(chunk) < _LEADER_LEN + 2:
        raise _RecordError(f"only {len(chunk)} bytes: too short to be a MARC record")
    try:
        leader = chunk[:_LEADER_LEN].decode("ascii")
    except UnicodeDecodeError:
        raise _RecordError(
            "the leader (first 24 bytes) is not plain ASCII: this is not the start of "
            "an ISO 2709 record, or the record's beginning is damaged"
        ) from None
    has_terminator = chunk[-1] == RECORD_TERMINATOR
    declared = leader[:5]
    if not declared.isdigit():
        warnings.append(
            f"leader/00-04 (record length) is {declared!r}, not a number; "
            "the record was read up to its record terminator"
        )
    elif int(declared) != len(chunk) and has_terminator:
        warnings.append(
            f"leader says the record is {int(declared)} bytes long but it is "
            f"{len(chunk)}; the record was read up to its record terminator"
        )
    dir_end = chunk.find(FIELD_TERMINATOR, _LEADER_LEN)
    if dir_end < 0:
        raise _RecordError("the directory has no end (no field terminator after the leader)")
    directory = chunk[_LEADER_LEN:dir_end]
    if not directory:
        raise _RecordError("the directory is empty: the record has no fields")
    if len(directory) % _ENTRY_LEN:
        raise _RecordError(
            f"the directory is {len(directory)} bytes, not a multiple of 12: a directory "
            "entry is damaged (a lost byte, or a field longer than 9,999 bytes)"
        )
    base = dir_end + 1
    declared_base = leader[12:17]
    if not declared_base.isdigit() or int(declared_base) != base:
        warnings.append(
            f"leader/12-16 (base address of data) is {declared_base!r} but the directory "
            f"ends at byte {dir_end}; the fields were read from byte {base}"
        )
    entries: list[tuple[str, int, int]] = []
    for i in range(0, len(directory), _ENTRY_LEN):
        entry = directory[i : i + _ENTRY_LEN]
        tag_b, length_b, start_b = entry[:3], entry[3:7], entry[7:12]
        if not (length_b.isdigit() and start_b.isdigit()) or not _printable(tag_b):
            raise _RecordError(
                f"directory entry {i // _ENTRY_LEN + 1} ({entry.decode('latin-1')!r}) is "
                "damaged: expected a 3-character tag, a 4-digit length and a 5-digit start"
            )
        entries.append((tag_b.decode("ascii"), int(length_b), int(start_b)))
    data = chunk[base:-1] if has_terminator else chunk[base:]
    slices = _slice_by_directory(data, entries)
    if slices is None:
        slices = _slice_by_terminators(data, entries)
        if slices is None:
            if not has_terminator:
                raise _RecordError(
                    "the record is cut short: it has no record terminator and its fields "
                    "end before the directory says they should"
                )
            raise _RecordError(
                "the directory does not match the fields: lengths or starting positions "
                "point outside the record or across field boundaries, and the number of "
                "fields found does not match the directory either"
            )
        warnings.append(
            "the directory's field lengths or positions are wrong; the fields were "
            "read by their field terminators instead"
        )
    if not has_terminator:
        warnings.append("the record has no record terminator (0x1D)")
    fields = [_split_field(tag, raw, warnings) for tag, raw in slices]
    return _Parsed(leader=leader, fields=fields, warnings=warnings)


def _printable(b: bytes) -> bool:
    return all(0x20 < c < 0x7F for c in b)


def _slice_by_directory(
    data: bytes, entries: list[tuple[str, int, int]]
) -> list[tuple[str, bytes]] | None:
    out: list[tuple[str, bytes]] = []
    for tag, length, start in entries:
        end = start + length
        if length < 1 or end > len(data):
            return None
        raw = data[start:end]
        if raw[-1] != FIELD_TERMINATOR or FIELD_TERMINATOR in raw[:-1]:
            return None
        out.append((tag, raw[:-1]))
    return out


def _slice_by_terminators(
    data: bytes, entries: list[tuple[str, int, int]]
) -> list[tuple[str, bytes]] | None:
    """Pair directory tags with the fields in data order, if their counts agree.

    Used when a record is too long for the directory's 4- and 5-digit numbers,
    or its lengths were computed in characters instead of bytes.
    """
    if not data.endswith(bytes([FIELD_TERMINATOR])):
        return None  # the last field is cut off
    parts = data[:-1].split(bytes([FIELD_TERMINATOR]))
    if len(parts) != len(entries):
        return None
    return [(tag, part) for (tag, _, _), part in zip(entries, parts, strict=True)]


def _split_field(tag: str, raw: bytes, warnings: list[str]) -> _RawField:
    if tag < "010" and tag.isdigit():
        return _RawField(tag=tag, data=raw, indicators=(" ", " "), subfields=[])
    head, *subs = raw.split(bytes([SUBFIELD_DELIMITER]))
    ind = head.decode("latin-1")
    if len(ind) != 2:
        warnings.append(
            f"field {tag} has {len(ind)} indicator characters instead of 2 ({ind!r}); "
            "missing ones were set to blank" + (" and extra ones dropped" if len(ind) > 2 else "")
        )
        ind = (ind + "  ")[:2]
    subfields: list[tuple[str, bytes]] = []
    for sub in subs:
        if not sub:
            continue
        code_b = sub[:1]
        if not 0x20 < code_b[0] < 0x7F:
            warnings.append(f"field {tag} has a subfield code that is not a letter or digit")
        subfields.append((code_b.decode("latin-1"), sub[1:]))
    return _RawField(tag=tag, data=None, indicators=(ind[0], ind[1]), subfields=subfields)


def _guess_flavour(rec: _Parsed) -> str:
    tags = {f.tag for f in rec.fields}
    unimarc = 0
    marc21 = 0
    for f in rec.fields:
        if f.tag == "100" and f.data is None:
            a = next((v for c, v in f.subfields if c == "a"), b"")
            if len(a) >= 30 and a[:8].isdigit():
                unimarc += 2
    if "200" in tags:
        unimarc += 1
    if "245" in tags:
        marc21 += 2
    if "008" in tags:
        marc21 += 1
    return "unimarc" if unimarc > marc21 else "marc21"


# --------------------------------------------------------------------------
# ISO 2709: characters
# --------------------------------------------------------------------------


def _all_bytes(rec: _Parsed) -> bytes:
    parts: list[bytes] = []
    for f in rec.fields:
        if f.data is not None:
            parts.append(f.data)
        parts.extend(v for _, v in f.subfields)
    return b"\x1f".join(parts)


def _valid(data: bytes, encoding: str) -> bool:
    if encoding == "marc-8":
        return not decode_marc8(data)[1]
    try:
        data.decode(encoding)
    except UnicodeDecodeError:
        return False
    return True


def _unimarc_charset(rec: _Parsed) -> str | None:
    """The character set code of 100$a/26-29 (e.g. '50  ', '0120'), if present."""
    for f in rec.fields:
        if f.tag == "100" and f.data is None:
            for code, value in f.subfields:
                if code == "a" and len(value) >= 28:
                    return value[26:30].decode("latin-1")
    return None


# UNIMARC 100$a/26-29 character set codes of European sets (not read here).
_UNIMARC_OTHER_SETS = {
    "02": "ISO registration #37 (basic Cyrillic)",
    "03": "ISO 5426 (extended Latin)",
    "04": "ISO 5427 (extended Cyrillic)",
    "05": "ISO 5428 (Greek)",
    "06": "ISO 6438 (African)",
    "07": "ISO 10586 (Georgian)",
    "08": "ISO 8957 (Hebrew)",
    "09": "ISO 8957 (Hebrew)",
    "11": "ISO 5426-2 (Latin)",
}


def _choose_encoding(rec: _Parsed, flavour: str) -> tuple[str, str | None]:
    """Pick the record's character set; the note explains an override of its label."""
    data = _all_bytes(rec)
    ascii_only = data.isascii()
    if flavour == "marc21":
        if rec.leader[9] == "a":
            return "utf-8", None
        if not ascii_only and b"\x1b" not in data and _valid(data, "utf-8"):
            return "utf-8", (
                "leader/09 is blank (MARC-8) but the record is valid UTF-8; read as UTF-8"
            )
        return "marc-8", None
    charset = _unimarc_charset(rec)
    declared = None
    foreign = None
    if charset is not None:
        g0, g1 = charset[:2], charset[2:4]
        if "50" in (g0, g1):
            declared = "utf-8"
        elif "20" in (g0, g1):
            declared = "gb18030"
        else:
            foreign = next((g for g in (g0, g1) if g in _UNIMARC_OTHER_SETS), None)
    if ascii_only:
        return declared or "utf-8", None
    if declared and _valid(data, declared):
        return declared, None
    if foreign is not None:
        if _valid(data, "utf-8"):
            return "utf-8", (
                f"100$a/26-29 says {charset!r} ({_UNIMARC_OTHER_SETS[foreign]}) but the "
                "record is valid UTF-8; read as UTF-8"
            )
        raise _RecordError(
            f"100$a/26-29 says the record is in {_UNIMARC_OTHER_SETS[foreign]} "
            f"(code {foreign}), which Tongjie does not decode; export the record as "
            "UTF-8 (100$a/26-29 = '50  ') and import it again"
        )
    for candidate in ("utf-8", "gb18030"):
        if candidate != declared and _valid(data, candidate):
            if charset is None:
                return candidate, None
            return candidate, (
                f"100$a/26-29 says {charset!r} but the record is valid "
                f"{candidate.upper()}; read as {candidate.upper()}"
            )
    return declared or "utf-8", None


def _decode(value: bytes, encoding: str) -> str:
    if encoding == "marc-8":
        text, bad = decode_marc8(value)
        if bad:
            pos = bad[0]
            raise UnicodeDecodeError("marc-8", value, pos, pos + 1, "not a MARC-8 character")
        return text
    return value.decode(encoding)


def _suggest(value: bytes, tried: str) -> str:
    others = [e for e in ENCODINGS if e != tried and not value.isascii() and _valid(value, e)]
    if not others:
        return "the bytes are damaged; fix the record in the sending system and export it again"
    return (
        f"the bytes read cleanly as {others[0].upper()}: if the whole file is "
        f"{others[0].upper()}, import it again with that character set"
    )


def _context(value: bytes, pos: int) -> str:
    lo, hi = max(0, pos - 12), min(len(value), pos + 12)
    return value[lo:hi].decode("latin-1").encode("unicode_escape").decode("ascii")


def _build_record(rec: _Parsed, encoding: str) -> pymarc.Record:
    record = pymarc.Record(force_utf8=True)
    record.leader = pymarc.Leader(rec.leader)
    for f in rec.fields:
        where = f.tag
        try:
            if f.data is not None:
                record.add_field(pymarc.Field(tag=f.tag, data=_decode(f.data, encoding)))
                continue
            subfields = []
            for code, value in f.subfields:
                where = f"{f.tag}${code}"
                subfields.append(pymarc.Subfield(code=code, value=_decode(value, encoding)))
        except UnicodeDecodeError as exc:
            raw = exc.object if isinstance(exc.object, bytes) else b""
            raise _RecordError(
                f"field {where} is not valid {encoding.upper()} "
                f"(byte 0x{raw[exc.start]:02X} in '{_context(raw, exc.start)}'); "
                + _suggest(raw, encoding)
            ) from None
        record.add_field(
            pymarc.Field(
                tag=f.tag,
                indicators=pymarc.Indicators(*f.indicators),
                subfields=subfields,
            )
        )
    return record


# --------------------------------------------------------------------------
# ISO 2709: the fast path for well-formed records
# --------------------------------------------------------------------------

# A directory of whole entries: a printable 3-character tag and 9 digits each.
_DIRECTORY = re.compile(rb"(?:[\x21-\x7e]{3}[0-9]{9})+")
# A subfield delimiter followed by something other than a printable ASCII
# code (or by another delimiter: an empty subfield, which is dropped).
_ODD_CODE = re.compile("\x1f[^!-~\x1e\x1f]")
_FIELDS_SLOT = pymarc.Record.__dict__["fields"]  # pymarc.Record's own storage
_new_field = pymarc.Field.__new__
_new_tuple = tuple.__new__

# What a field was when first looked at: tag, control field?, data, indicators, subfields.
_FieldState = tuple[str, bool, str | None, pymarc.Indicators | None, list[pymarc.Subfield]]


class ReadRecord(pymarc.Record):
    """A ``pymarc.Record`` read by the fast path from a well-formed ISO 2709 record.

    To its users it is an ordinary record. Its ``pymarc.Field`` objects are
    only made when ``fields`` is first used: until then the record keeps its
    directory and its decoded field text, which ``mapping.normalise`` reads
    directly (an import never needs the objects, and making and holding them
    was most of the reader's time). It also remembers the record's bytes when
    they are UTF-8 and writing the record out again would give them back, so
    that ``mapping.to_utf8_iso2709`` can store them as they are, as long as
    nobody has changed the record.
    """

    __slots__ = ("_lazy", "_read_leader", "_read_state", "_read_utf8")
    _lazy: tuple[list[str], list[str]] | None  # tags and field texts until fields are made
    _read_leader: str
    _read_state: list[_FieldState] | None
    _read_utf8: bytes | None

    @property
    def fields(self) -> list[pymarc.Field]:
        lazy = getattr(self, "_lazy", None)
        if lazy is not None:
            fields = _make_fields(*lazy)
            _FIELDS_SLOT.__set__(self, fields)
            self._lazy = None
            if getattr(self, "_read_utf8", None) is not None:
                self._read_state = [
                    (f.tag, f.control_field, f.data, f._indicators, f.subfields.copy())
                    for f in fields
                ]
        result: list[pymarc.Field] = _FIELDS_SLOT.__get__(self, ReadRecord)
        return result

    @fields.setter
    def fields(self, value: list[pymarc.Field]) -> None:
        if getattr(self, "_lazy", None) is not None:
            self._lazy = None
            self._read_state = None
        _FIELDS_SLOT.__set__(self, value)

    def field_texts(self) -> Iterator[tuple[str, str]] | None:
        """(tag, field text as read) for every field, if ``fields`` was never used.

        A data field's text is its two indicators, then each subfield as the
        0x1F delimiter, the code and the value, all decoded; a subfield may be
        empty (no code, no value), and is then no subfield at all.
        """
        lazy = getattr(self, "_lazy", None)
        if lazy is None:
            return None
        return zip(*lazy, strict=False)

    def utf8_source(self) -> bytes | None:
        """The record's ISO 2709 bytes as read, if UTF-8 and the record is unchanged.

        The leader of the bytes is the one read; the caller sets what it
        writes itself (leader/09, 10-11 and 20-23).
        """
        raw = getattr(self, "_read_utf8", None)
        if raw is None or str(self.leader) != self._read_leader:
            return None
        if getattr(self, "_lazy", None) is not None:
            return raw
        saved = getattr(self, "_read_state", None)
        if saved is None:
            return None
        now = [(f.tag, f.control_field, f.data, f._indicators, f.subfields) for f in self.fields]
        return raw if now == saved else None


def _make_fields(tags: list[str], texts: list[str]) -> list[pymarc.Field]:
    """The pymarc fields of a record the fast path accepted (see _read_fast)."""
    fields: list[pymarc.Field] = []
    indicators: dict[str, pymarc.Indicators] = {}
    for tag, value in zip(tags, texts, strict=False):
        f = _new_field(pymarc.Field)
        f.tag = tag
        if tag < "010" and tag.isdigit():
            f.data = value
            f._indicators = None
            f.subfields = []
            f.control_field = True
        else:
            head, *subs = value.split("\x1f")
            ind = indicators.get(head)
            if ind is None:
                ind = indicators[head] = _new_tuple(pymarc.Indicators, (head[0], head[1]))
            f.data = None
            f._indicators = ind
            f.subfields = [_new_tuple(pymarc.Subfield, (s[0], s[1:])) for s in subs if s]
            f.control_field = False
        fields.append(f)
    return fields


def _fast_encoding(
    region: bytes, entries: str, parts: list[bytes], leader: str, flavour: str, forced: str | None
) -> str | None:
    """The record's character set, as _choose_encoding picks it without a note.

    None when only the full rules can tell, or they would add a warning.
    """
    if forced is not None:
        return forced
    if flavour == "marc21":
        return "utf-8" if leader[9] == "a" else "marc-8"
    charset = None
    for i in range(0, len(entries), _ENTRY_LEN):
        if entries[i : i + 3] == "100":
            for sub in parts[i // _ENTRY_LEN].split(b"\x1f")[1:]:
                if sub[:1] == b"a" and len(sub) >= 29:
                    charset = sub[27:31].decode("latin-1")
                    break
            if charset is not None:
                break
    declared = None
    if charset is not None:
        g0, g1 = charset[:2], charset[2:4]
        if "50" in (g0, g1):
            declared = "utf-8"
        elif "20" in (g0, g1):
            declared = "gb18030"
    if region.isascii():
        return declared or "utf-8"
    return declared


def _read_fast(chunk: bytes, flavour: str, forced: str | None) -> tuple[ReadRecord, str] | None:
    """Read a well-formed record quickly, or None to leave it to the full rules.

    Well-formed: the leader is ASCII and its record length and base address
    are right; the directory's entries are whole and describe the fields as
    they lie, one after the other; every data field has two indicators and
    subfield codes that are printable ASCII; and the characters decode in the
    record's character set with nothing to question. For such a record the
    full rules (_parse_structure, _choose_encoding, _build_record) give the
    same record with no warning; every other record, and so every record with
    something to report, goes to them.
    """
    size = len(chunk)
    if size < _LEADER_LEN + 2 or chunk.find(b"\x1d") != size - 1:
        return None
    head = chunk[:_LEADER_LEN]
    if not head.isascii() or not head[:5].isdigit() or int(head[:5]) != size:
        return None
    dir_end = chunk.find(b"\x1e", _LEADER_LEN)
    if dir_end < 0 or head[12:17] != b"%05d" % (dir_end + 1):
        return None
    directory = chunk[_LEADER_LEN:dir_end]
    if len(directory) % _ENTRY_LEN or _DIRECTORY.fullmatch(directory) is None:
        return None
    region = chunk[dir_end + 1 : -1]
    parts = region.split(b"\x1e")
    if len(parts) != len(directory) // _ENTRY_LEN + 1 or parts[-1]:
        return None
    entries = directory.decode("ascii")
    leader = head.decode("ascii")
    encoding = _fast_encoding(region, entries, parts, leader, flavour, forced)
    if encoding is None:
        return None
    codec = encoding
    if encoding == "marc-8":
        # MARC-8 text is plain ASCII while no escape sequence, no character
        # reference and no byte outside ASCII occurs; anything else goes to
        # decode_marc8, byte by byte.
        if not region.isascii() or b"\x1b" in region or b"&#x" in region:
            return None
        codec = "ascii"
    try:
        text = region.decode(codec)
    except UnicodeDecodeError:
        return None
    if _ODD_CODE.search(text) is not None:
        return None
    # Writing the fields out again gives these very bytes, unless a subfield is
    # empty (it is dropped) or a control field holds a delimiter (refused).
    exact = codec != "gb18030" and "\x1f\x1f" not in text and "\x1f\x1e" not in text
    texts = text.split("\x1e")
    tags: list[str] = []
    offset = 0
    j = 0
    for part, value in zip(parts[:-1], texts, strict=False):
        length = len(part) + 1
        if entries[j + 3 : j + 12] != f"{length:04d}{offset:05d}":
            return None
        tag = entries[j : j + 3]
        tags.append(tag)
        if tag < "010" and tag.isdigit():
            if "\x1f" in value:
                exact = False
        else:
            ind = value[:2]
            if len(ind) != 2 or not ind.isascii() or "\x1f" in ind or value[2:3] not in "\x1f":
                return None  # not exactly two indicators
        offset += length
        j += _ENTRY_LEN
    record = ReadRecord.__new__(ReadRecord)
    # What pymarc.Record(force_utf8=True) sets, with the leader read (as
    # _build_record has it) and the fields to be made when first used.
    record.leader = pymarc.Leader(leader)
    texts.pop()  # the empty text after the last field terminator
    record._lazy = (tags, texts)
    record.pos = 0
    setattr(record, "_Record__pos", 0)  # noqa: B010 (pymarc's private iterator position)
    record.force_utf8 = True
    record.to_unicode = True
    record._read_leader = leader
    record._read_state = None
    record._read_utf8 = chunk if exact else None
    return record, encoding


def _read_iso2709(
    path: Path, flavour: str, encoding_override: str | None
) -> Iterator[MarcReadResult]:
    index = 0
    with path.open("rb") as fh:
        for offset, chunk, note in _split_iso2709(fh):
            index += 1
            if note is None and (fast := _read_fast(chunk, flavour, encoding_override)):
                yield MarcReadResult(
                    index=index,
                    offset=offset,
                    record=fast[0],
                    raw=chunk,
                    error=None,
                    flavour=flavour,
                    encoding=fast[1],
                )
                continue
            encoding = encoding_override or ("utf-8" if flavour == "unimarc" else "marc-8")
            if note == _JUNK_NOTE:
                preview = chunk[:20].decode("latin-1").encode("unicode_escape").decode()
                yield MarcReadResult(
                    index=index,
                    offset=offset,
                    record=None,
                    raw=chunk,
                    error=(
                        f"{len(chunk)} bytes that are not a MARC record ('{preview}...') "
                        "stand before the next record"
                    ),
                    flavour=flavour,
                    encoding=encoding,
                )
                continue
            try:
                parsed = _parse_structure(chunk)
                warnings = parsed.warnings
                if note:
                    warnings = [note] + [w for w in warnings if "no record terminator" not in w]
                if encoding_override is None:
                    encoding, why = _choose_encoding(parsed, flavour)
                    if why:
                        warnings.append(why)
                record = _build_record(parsed, encoding)
            except _RecordError as exc:
                yield MarcReadResult(
                    index=index,
                    offset=offset,
                    record=None,
                    raw=chunk,
                    error=str(exc),
                    flavour=flavour,
                    encoding=encoding,
                )
                continue
            yield MarcReadResult(
                index=index,
                offset=offset,
                record=record,
                raw=chunk,
                error=None,
                flavour=flavour,
                encoding=encoding,
                warnings=tuple(warnings),
            )


# --------------------------------------------------------------------------
# MARC-8
# --------------------------------------------------------------------------

_MARC8_ASCII = 0x42
_MARC8_ANSEL = 0x45
_MARC8_EACC = 0x31
# Technique 1 escapes: ESC followed by one of these final bytes sets G0.
_MARC8_SHORT = {0x67: 0x67, 0x62: 0x62, 0x70: 0x70, 0x73: _MARC8_ASCII}
# C1 controls with a meaning in MARC-8 (non-sort begin/end, joiners).
_MARC8_C1 = {0x88: "\u0098", 0x89: "\u009c", 0x8D: "\u200d", 0x8E: "\u200c"}


def decode_marc8(data: bytes) -> tuple[str, list[int]]:
    """Decode one MARC-8 string; return the text and the byte positions that failed.

    MARC-8 switches character sets with escape sequences (ISO 2022), writes
    CJK as three bytes per character (EACC), and puts combining diacritics
    before their letter, where Unicode puts them after. Failed positions come
    out as U+FFFD so a caller can show where the damage is; the reader itself
    refuses such a record rather than import the damage.
    """
    codesets = marc8_mapping.CODESETS
    g0, g1 = _MARC8_ASCII, _MARC8_ANSEL
    out: list[str] = []
    pending: list[str] = []  # diacritics waiting for their base letter
    bad: list[int] = []
    i, n = 0, len(data)

    def emit(ch: str, combining: bool) -> None:
        if combining:
            pending.append(ch)
        else:
            out.append(ch)
            out.extend(pending)
            pending.clear()

    while i < n:
        b = data[i]
        if b == 0x1B:
            j = i + 1
            nxt = data[j] if j < n else -1
            if nxt in _MARC8_SHORT:
                g0 = _MARC8_SHORT[nxt]
                i = j + 1
                continue
            if nxt == 0x24:  # multibyte designation
                j += 1
                nxt = data[j] if j < n else -1
            target = 0
            if nxt in (0x28, 0x2C):
                j += 1
            elif nxt in (0x29, 0x2D):
                target = 1
                j += 1
            if j < n and data[j] == 0x21:  # intermediate byte, as in ESC ) ! E
                j += 1
            final = data[j] if j < n else -1
            if final in codesets:
                if target == 0:
                    g0 = final
                else:
                    g1 = final
                i = j + 1
                continue
            bad.append(i)
            out.append("\ufffd")
            i += 1
            continue
        if b in _MARC8_C1:
            out.append(_MARC8_C1[b])
            i += 1
            continue
        if b < 0x20 or b == 0x7F or 0x80 <= b < 0xA0:
            out.append(chr(b))
            i += 1
            continue
        if b == 0x20:
            emit(" ", False)
            i += 1
            continue
        multibyte = (g0 if b < 0x80 else g1) == _MARC8_EACC
        if multibyte:
            code = int.from_bytes(data[i : i + 3], "big") & 0x7F7F7F
            hit = codesets[_MARC8_EACC].get(code) if i + 3 <= n else None
            odd = marc8_mapping.ODD_MAP.get(code) if hit is None and i + 3 <= n else None
            if hit is not None:
                emit(chr(hit[0]), bool(hit[1]))
            elif odd is not None:
                emit(chr(odd), False)
            else:
                bad.append(i)
                out.append("\ufffd")
            i += 3
            continue
        table = codesets[g0 if b < 0x80 else g1]
        hit = table.get(b)
        if hit is None:
            hit = table.get(b ^ 0x80)
        if hit is None:
            bad.append(i)
            out.append("\ufffd")
        else:
            emit(chr(hit[0]), bool(hit[1]))
        i += 1
    out.extend(pending)
    text = "".join(out)
    if "&#x" in text:
        text = _NCR.sub(_ncr_char, text)
    return unicodedata.normalize("NFC", text), bad


# MARC-8 records carry characters outside MARC-8 as numeric character
# references (LC's lossless conversion convention), e.g. "&#x8ECA;" for 車.
_NCR = re.compile(r"&#x([0-9A-Fa-f]{2,6});")


def _ncr_char(m: re.Match[str]) -> str:
    cp = int(m.group(1), 16)
    if cp > 0x10FFFF or 0xD800 <= cp <= 0xDFFF or cp < 0x20:
        return m.group(0)
    return chr(cp)


# --------------------------------------------------------------------------
# MARCXML
# --------------------------------------------------------------------------


def _local(tag: str) -> tuple[str, str]:
    if tag.startswith("{"):
        ns, _, name = tag[1:].partition("}")
        return ns, name
    return "", tag


def _xml_declared_encoding(head: bytes) -> str:
    m = re.search(rb"""encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""", head[:200])
    if m and m.group(1).lower().replace(b"-", b"") in (b"gbk", b"gb2312", b"gb18030", b"cp936"):
        return "gb18030"
    return "utf-8"


_XmlItem = tuple[ET.Element | None, str, str | None]


def _iter_xml_records(path: Path) -> Generator[_XmlItem, None, None]:
    """Yield (record element, namespace, error) and free each record after use."""
    stack: list[ET.Element] = []
    with path.open("rb") as fh:
        yield from _iter_xml_stream(fh, stack)


def _iter_xml_stream(fh: BinaryIO, stack: list[ET.Element]) -> Iterator[_XmlItem]:
    try:
        for event, elem in ET.iterparse(fh, events=("start", "end")):
            if event == "start":
                stack.append(elem)
                continue
            stack.pop()
            parent = stack[-1] if stack else None
            ns, name = _local(elem.tag)
            if name == "record" and any(_local(c.tag)[1] in _MARC_CHILDREN for c in elem):
                yield elem, ns, None
                if parent is not None:
                    parent.remove(elem)
            elif name not in _MARC_CHILDREN and name != "subfield" and parent is not None:
                parent.remove(elem)
    except ET.ParseError as exc:
        line, col = exc.position
        yield (
            None,
            "",
            f"the XML is not well-formed at line {line}, column {col + 1} ({exc}); "
            "nothing after that point can be read",
        )


def _detect_xml_flavour(path: Path) -> str:
    votes = {"marc21": 0, "unimarc": 0}
    records = _iter_xml_records(path)
    for seen, (elem, ns, error) in enumerate(records, start=1):
        if error is not None or elem is None:
            break
        fmt = (elem.get("format") or elem.get("type") or "").lower()
        hint = _XML_NAMESPACES.get(ns)
        if "unimarc" in fmt or "cnmarc" in fmt:
            hint = "unimarc"
        elif "marc21" in fmt:
            hint = "marc21"
        tags = {c.get("tag") for c in elem}
        score_u = (2 if "100" in tags and "200" in tags else 0) + (1 if hint == "unimarc" else 0)
        score_m = (2 if "245" in tags else 0) + (1 if "008" in tags else 0)
        score_m += 1 if hint == "marc21" else 0
        votes["unimarc" if score_u > score_m else "marc21"] += 1
        if seen >= _DETECT_RECORDS:
            break
    records.close()
    return "unimarc" if votes["unimarc"] > votes["marc21"] else "marc21"


def _xml_to_record(elem: ET.Element) -> tuple[pymarc.Record, list[str]]:
    warnings: list[str] = []
    leader: str | None = None
    record = pymarc.Record(force_utf8=True)
    fields: list[pymarc.Field] = []
    for child in elem:
        _, name = _local(child.tag)
        if name == "leader":
            leader = child.text or ""
        elif name == "controlfield":
            tag = (child.get("tag") or "").strip()
            if not tag:
                raise _RecordError("a controlfield has no tag attribute")
            fields.append(pymarc.Field(tag=tag, data=child.text or ""))
        elif name == "datafield":
            tag = (child.get("tag") or "").strip()
            if not tag:
                raise _RecordError("a datafield has no tag attribute")
            ind1 = (child.get("ind1") or " ")[:1] or " "
            ind2 = (child.get("ind2") or " ")[:1] or " "
            subfields = []
            for sub in child:
                if _local(sub.tag)[1] != "subfield":
                    continue
                code = sub.get("code") or ""
                if len(code) != 1:
                    raise _RecordError(f"field {tag} has a subfield with code {code!r}")
                subfields.append(pymarc.Subfield(code=code, value=sub.text or ""))
            fields.append(
                pymarc.Field(tag=tag, indicators=pymarc.Indicators(ind1, ind2), subfields=subfields)
            )
    if not fields:
        raise _RecordError("the record has no fields")
    if leader is None:
        warnings.append("the record has no leader; a blank one was used")
        leader = " " * _LEADER_LEN
    elif len(leader) != _LEADER_LEN:
        warnings.append(f"the leader is {len(leader)} characters long instead of 24")
        leader = (leader + " " * _LEADER_LEN)[:_LEADER_LEN]
    record.leader = pymarc.Leader(leader)
    record.fields = list(fields)
    return record, warnings


def _xml_raw(elem: ET.Element, ns: str) -> bytes:
    tail, elem.tail = elem.tail, None
    try:
        if ns:
            try:
                return ET.tostring(elem, encoding="utf-8", default_namespace=ns)
            except ValueError:
                pass
        return ET.tostring(elem, encoding="utf-8")
    finally:
        elem.tail = tail


def _read_marcxml(path: Path, flavour: str) -> Iterator[MarcReadResult]:
    with path.open("rb") as fh:
        encoding = _xml_declared_encoding(fh.read(200))
    index = 0
    for elem, ns, error in _iter_xml_records(path):
        index += 1
        if elem is None:
            yield MarcReadResult(
                index=index,
                offset=None,
                record=None,
                raw=b"",
                error=error,
                flavour=flavour,
                encoding=encoding,
            )
            return
        raw = _xml_raw(elem, ns)
        try:
            record, warnings = _xml_to_record(elem)
        except _RecordError as exc:
            yield MarcReadResult(
                index=index,
                offset=None,
                record=None,
                raw=raw,
                error=str(exc),
                flavour=flavour,
                encoding=encoding,
            )
            continue
        yield MarcReadResult(
            index=index,
            offset=None,
            record=record,
            raw=raw,
            error=None,
            flavour=flavour,
            encoding=encoding,
            warnings=tuple(warnings),
        )
