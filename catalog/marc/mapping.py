"""Turn a MARC record (MARC21 or CNMARC/UNIMARC) into Tongjie's normalised fields.

Which tag and subfield feeds which field is not written here but in
``fieldmap.yaml`` (字段对照表), so that a cataloguer can read it side by side
for both flavours and extend it (a vendor's own holdings field, say) without
touching Python. This module only knows how to read that table and how to
tidy a value: ISBD punctuation, non-sort markers, whitespace.

It also writes the storage form of a record: ISO 2709 in UTF-8, the one form
the union catalogue keeps so that what a vendor sent can always be rebuilt.
Everything here is a pure function of its input; nothing touches a database.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, fields
from functools import lru_cache
from pathlib import Path
from typing import Any

import pymarc
import yaml

__all__ = [
    "DEFAULT_FIELD_MAP",
    "NO_TITLE",
    "FieldMap",
    "Holding",
    "NormalisedRecord",
    "load_field_map",
    "normalise",
    "strip_isbd",
    "to_utf8_iso2709",
]

DEFAULT_FIELD_MAP = Path(__file__).with_name("fieldmap.yaml")
NO_TITLE = "[无题名]"
_FLAVOURS = ("marc21", "unimarc")


@dataclass
class Holding:
    """One copy (单册) found in a record's local holdings field."""

    barcode: str | None
    home: str | None  # home point / library code
    current: str | None  # current point code if given
    call_number: str | None
    item_type: str | None
    price: str | None


@dataclass
class NormalisedRecord:
    """The fields pages, search, deduplication and figures read from a record."""

    title: str
    title_pinyin: str | None = None
    other_title: str | None = None
    responsibility: str | None = None
    authors: list[str] = field(default_factory=list)
    authors_pinyin: list[str] = field(default_factory=list)
    edition: str | None = None
    publisher: str | None = None
    pub_place: str | None = None
    pub_year: str | None = None
    extent: str | None = None
    series: str | None = None
    summary: str | None = None
    subjects: list[str] = field(default_factory=list)
    clc: str | None = None
    language: str | None = None
    isbns: list[str] = field(default_factory=list)
    price: str | None = None
    holdings: list[Holding] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


_LIST_FIELDS = frozenset({"authors", "authors_pinyin", "subjects", "isbns"})
_TEXT_FIELDS = frozenset(
    f.name for f in fields(NormalisedRecord) if f.name not in {"holdings", "warnings"}
)
_HOLDING_ATTRS = tuple(f.name for f in fields(Holding))
_CLEANERS = ("text", "note", "year", "language", "price")


# --------------------------------------------------------------------------
# The field map
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Condition:
    kind: str  # "subfield", "no_subfield", "ind1", "ind2", "language"
    code: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class _Source:
    spec: str
    tags: tuple[str, ...]
    codes: str | None
    start: int | None
    end: int | None
    join: str
    conditions: tuple[_Condition, ...]


@dataclass(frozen=True)
class _FieldRule:
    name: str
    sources: dict[str, tuple[_Source, ...]]
    repeat: bool
    repeat_join: str
    clean: str


@dataclass(frozen=True)
class _HoldingRule:
    tag: str
    values: dict[str, tuple[str, ...]]
    lends_defaults: bool


@dataclass(frozen=True)
class FieldMap:
    """A loaded field map: rules per normalised field and holdings rules per flavour."""

    fields: dict[str, _FieldRule]
    holdings: dict[str, tuple[_HoldingRule, ...]]
    path: str


_SOURCE_RE = re.compile(
    r"""^\s*
    (?P<tags>[0-9A-Za-z]{3}(?:\s*,\s*[0-9A-Za-z]{3})*)
    (?:\$(?P<codes>[0-9A-Za-z]+))?
    (?:/(?P<start>\d+)(?:-(?P<end>\d+))?)?
    (?:\s+if\s+(?P<cond>.+?))?
    \s*$""",
    re.VERBOSE,
)
_COND_SUBFIELD = re.compile(r"^\$([0-9A-Za-z])\s*=\s*(.+)$")
_COND_NO_SUBFIELD = re.compile(r"^no\s+\$([0-9A-Za-z])$")
_COND_IND = re.compile(r"^ind([12])\s*=\s*(.)$")
_COND_LANGUAGE = re.compile(r"^language\s*=\s*(.+)$")
_PLACEHOLDER = re.compile(r"\$([0-9A-Za-z])")


class FieldMapError(ValueError):
    """The field map file has a mistake; the message says where."""


def _parse_condition(text: str, where: str) -> _Condition:
    text = text.strip()
    if m := _COND_SUBFIELD.match(text):
        values = tuple(v.strip() for v in m.group(2).split("|"))
        return _Condition("subfield", m.group(1), values)
    if m := _COND_NO_SUBFIELD.match(text):
        return _Condition("no_subfield", m.group(1), ())
    if m := _COND_IND.match(text):
        value = " " if m.group(2) == "#" else m.group(2)
        return _Condition("ind" + m.group(1), "", (value,))
    if m := _COND_LANGUAGE.match(text):
        values = tuple(v.strip().lower() for v in m.group(1).split("|"))
        return _Condition("language", "", values)
    raise FieldMapError(f"{where}: cannot understand the condition {text!r}")


def _parse_source(item: Any, default_join: str, where: str) -> _Source:
    join = default_join
    if isinstance(item, dict):
        unknown = set(item) - {"from", "join"}
        if unknown or "from" not in item:
            raise FieldMapError(f"{where}: a source written as a mapping needs 'from' (and 'join')")
        join = str(item.get("join", default_join))
        item = item["from"]
    if not isinstance(item, str):
        raise FieldMapError(f'{where}: a source must be text like "245$a", not {item!r}')
    m = _SOURCE_RE.match(item)
    if m is None:
        raise FieldMapError(f"{where}: cannot understand the source {item!r}")
    tags = tuple(t.strip() for t in m.group("tags").split(","))
    start = int(m.group("start")) if m.group("start") is not None else None
    end = int(m.group("end")) if m.group("end") is not None else start
    conditions: tuple[_Condition, ...] = ()
    if m.group("cond"):
        parts = re.split(r"\s+and\s+", m.group("cond"))
        conditions = tuple(_parse_condition(p, where) for p in parts)
    return _Source(item, tags, m.group("codes"), start, end, join, conditions)


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _parse_field_rule(name: str, body: Any) -> _FieldRule:
    where = f"field {name!r}"
    if name not in _TEXT_FIELDS:
        raise FieldMapError(f"{where}: Tongjie has no such normalised field")
    if not isinstance(body, dict):
        raise FieldMapError(f"{where}: expected a mapping with marc21/unimarc sources")
    unknown = set(body) - {"marc21", "unimarc", "join", "repeat", "repeat_join", "clean"}
    if unknown:
        raise FieldMapError(f"{where}: unknown option(s) {sorted(unknown)}")
    join = str(body.get("join", " "))
    clean = str(body.get("clean", "text"))
    if clean not in _CLEANERS:
        raise FieldMapError(f"{where}: clean must be one of {', '.join(_CLEANERS)}")
    repeat = bool(body.get("repeat", name in _LIST_FIELDS))
    if name in _LIST_FIELDS and not repeat:
        raise FieldMapError(f"{where}: a list field always takes every value (repeat: true)")
    sources = {
        flavour: tuple(
            _parse_source(item, join, f"{where}, {flavour}") for item in _as_list(body.get(flavour))
        )
        for flavour in _FLAVOURS
    }
    return _FieldRule(name, sources, repeat, str(body.get("repeat_join", " ; ")), clean)


def _parse_holding_rule(body: Any, where: str) -> _HoldingRule:
    if not isinstance(body, dict) or "field" not in body:
        raise FieldMapError(f"{where}: a holdings rule needs 'field' (the tag)")
    unknown = set(body) - {"field", "without_barcode", *_HOLDING_ATTRS}
    if unknown:
        raise FieldMapError(f"{where}: unknown option(s) {sorted(unknown)}")
    tag = str(body["field"])
    mode = str(body.get("without_barcode", "keep"))
    if mode not in ("keep", "defaults"):
        raise FieldMapError(f"{where}: without_barcode must be 'keep' or 'defaults'")
    values: dict[str, tuple[str, ...]] = {}
    for attr in _HOLDING_ATTRS:
        templates = tuple(str(t) for t in _as_list(body.get(attr)))
        for t in templates:
            if not _PLACEHOLDER.search(t):
                raise FieldMapError(f"{where}, {attr}: {t!r} names no subfield ($a, $b, ...)")
        values[attr] = templates
    return _HoldingRule(tag, values, mode == "defaults")


def _build_field_map(data: Any, path: str) -> FieldMap:
    if not isinstance(data, dict) or not isinstance(data.get("fields"), dict):
        raise FieldMapError(f"{path}: expected a 'fields:' section")
    rules = {name: _parse_field_rule(name, body) for name, body in data["fields"].items()}
    holdings_data = data.get("holdings") or {}
    if not isinstance(holdings_data, dict):
        raise FieldMapError(f"{path}: 'holdings:' must map marc21/unimarc to lists of rules")
    holdings = {
        flavour: tuple(
            _parse_holding_rule(body, f"holdings, {flavour}, rule {i + 1}")
            for i, body in enumerate(_as_list(holdings_data.get(flavour)))
        )
        for flavour in _FLAVOURS
    }
    return FieldMap(rules, holdings, path)


def load_field_map(path: str | Path | None = None) -> FieldMap:
    """Load and check a field map; the default one is read once per process."""
    if path is None or Path(path) == DEFAULT_FIELD_MAP:
        return _default_field_map()
    return _load(Path(path))


@lru_cache(maxsize=1)
def _default_field_map() -> FieldMap:
    return _load(DEFAULT_FIELD_MAP)


def _load(path: Path) -> FieldMap:
    with path.open(encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    return _build_field_map(data, str(path))


# --------------------------------------------------------------------------
# Tidying values
# --------------------------------------------------------------------------

# Controls never wanted in a displayed value, including UNIMARC's non-sort
# markers (NSB/NSE: U+0088/U+0089, or U+0098/U+009C as MARC-8 maps them).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_SPACE = re.compile(r"\s+")
_TRAILING_MARK = re.compile(r"\s*[/:;=,]$")
_INITIAL_STOP = re.compile(r"(?:^|[\s.])\w\.$")
_YEAR = re.compile(r"(?<!\d)(1[4-9]\d\d|20\d\d)(?!\d)")
_LANGUAGE = re.compile(r"^[a-z]{3}")


def _tidy(value: str) -> str:
    value = unicodedata.normalize("NFC", value)
    value = _CONTROL.sub("", value.replace("\t", " ").replace("\n", " "))
    return _SPACE.sub(" ", value).strip()


def strip_isbd(value: str) -> str:
    """Remove ISBD punctuation a cataloguer typed at the end of a subfield.

    " /", " :", " ;", " =" and "," go; a final "." goes unless it ends an
    initial ("Tolkien, J. R. R.") or an ellipsis.
    """
    while True:
        value = value.rstrip()
        before = value
        value = _TRAILING_MARK.sub("", value)
        if value.endswith(".") and not value.endswith("...") and not _INITIAL_STOP.search(value):
            value = value[:-1]
        if value == before:
            return value


def _is_cjk(ch: str) -> bool:
    cp = ord(ch)
    return (
        0x3040 <= cp <= 0x30FF
        or 0x3400 <= cp <= 0x9FFF
        or 0xF900 <= cp <= 0xFAFF
        or 0x20000 <= cp <= 0x3134F
    )


def _join(parts: Iterable[str], sep: str) -> str:
    out = ""
    for part in parts:
        if not part:
            continue
        if not out:
            out = part
        elif part[0] in ",.;:":
            out += part
        elif not sep.strip() and _is_cjk(out[-1]) and _is_cjk(part[0]):
            out += part  # no spaces between Chinese characters
        else:
            out += sep + part
    return out


def _clean(value: str, how: str) -> str | None:
    value = _tidy(value)
    if how == "note":
        return value or None
    if how == "year":
        m = _YEAR.search(value)
        return m.group(1) if m else None
    if how == "language":
        m = _LANGUAGE.match(value.lower())
        return m.group(0) if m else None
    value = strip_isbd(value)
    if how == "price" and not any(ch.isdigit() for ch in value):
        return None
    return value or None


# --------------------------------------------------------------------------
# Applying the map
# --------------------------------------------------------------------------


def _subfields(f: pymarc.Field) -> list[tuple[str, str]]:
    return [(sf.code, sf.value or "") for sf in f.subfields]


def _matches(f: pymarc.Field, src: _Source, language: str | None) -> bool:
    for cond in src.conditions:
        if cond.kind == "language":
            if (language or "") not in cond.values:
                return False
            continue
        if f.is_control_field():
            return False
        if cond.kind in ("ind1", "ind2"):
            ind = (f.indicator1 if cond.kind == "ind1" else f.indicator2) or " "
            if ind not in cond.values:
                return False
        elif cond.kind == "no_subfield":
            if any(code == cond.code for code, _ in _subfields(f)):
                return False
        else:
            wanted = {v.lower() for v in cond.values}
            found = [v.strip().lower() for code, v in _subfields(f) if code == cond.code]
            if not any(v in wanted for v in found):
                return False
    return True


def _slice(value: str, src: _Source) -> str:
    if src.start is None:
        return value
    end = src.end if src.end is not None else src.start
    return value[src.start : end + 1]


def _extract(
    record: pymarc.Record, src: _Source, language: str | None, clean: str
) -> Iterator[str]:
    """Values of one source, in record order.

    A source naming one subfield code gives one value per occurrence; naming
    several gives one value per field, its subfields joined.
    """
    for f in record.get_fields(*src.tags):
        if not _matches(f, src, language):
            continue
        if f.is_control_field():
            raw = _slice(f.data or "", src)
            value = _clean(raw, clean) if raw.strip() else None
            if value:
                yield value
            continue
        parts = [
            _slice(v, src) for code, v in _subfields(f) if src.codes is None or code in src.codes
        ]
        if src.codes is not None and len(src.codes) == 1:
            for part in parts:
                value = _clean(part, clean)
                if value:
                    yield value
            continue
        keep_punct = clean in ("note", "year", "language")
        tidied = [_tidy(p) if keep_punct else strip_isbd(_tidy(p)) for p in parts]
        value = _clean(_join(tidied, src.join), clean)
        if value:
            yield value


def _apply(
    record: pymarc.Record, rule: _FieldRule, flavour: str, language: str | None
) -> list[str]:
    values: list[str] = []
    for src in rule.sources[flavour]:
        for value in _extract(record, src, language, rule.clean):
            if value not in values:
                values.append(value)
        if values and not rule.repeat:
            break
    if not rule.repeat:
        return values[:1]
    return values


def _fill(template: str, f: pymarc.Field) -> str | None:
    subs = _subfields(f)
    missing = False

    def value(m: re.Match[str]) -> str:
        nonlocal missing
        found = next((_tidy(v) for code, v in subs if code == m.group(1) and _tidy(v)), None)
        if found is None:
            missing = True
            return ""
        return found

    text = _PLACEHOLDER.sub(value, template)
    return None if missing else (_tidy(text) or None)


def _holding_from(f: pymarc.Field, rule: _HoldingRule) -> Holding:
    got: dict[str, str | None] = {}
    for attr in _HOLDING_ATTRS:
        got[attr] = next(
            (v for t in rule.values[attr] if (v := _fill(t, f)) is not None),
            None,
        )
    price = got["price"]
    if price is not None and not any(ch.isdigit() for ch in price):
        got["price"] = None
    return Holding(**got)


def _holdings(
    record: pymarc.Record, rules: tuple[_HoldingRule, ...], warnings: list[str]
) -> list[Holding]:
    copies: list[Holding] = []
    defaults: list[Holding] = []
    for rule in rules:
        for f in record.get_fields(rule.tag):
            if f.is_control_field():
                continue
            h = _holding_from(f, rule)
            if rule.lends_defaults and h.barcode is None:
                defaults.append(h)
            elif h.barcode or h.home or h.call_number:
                copies.append(h)
    if not copies:
        for h in defaults:
            warnings.append(
                "a holdings field has no barcode; the copy was kept without one "
                f"(home {h.home or '?'}, call number {h.call_number or '?'})"
            )
        return defaults
    if defaults:
        base = defaults[0]
        for h in copies:
            for attr in _HOLDING_ATTRS:
                if getattr(h, attr) is None:
                    setattr(h, attr, getattr(base, attr))
    seen: set[str] = set()
    unique: list[Holding] = []
    for h in copies:
        if h.barcode is not None:
            if h.barcode in seen:
                warnings.append(f"barcode {h.barcode} appears twice in the record; kept once")
                continue
            seen.add(h.barcode)
        else:
            warnings.append(
                f"a copy has no barcode (home {h.home or '?'}, call number {h.call_number or '?'})"
            )
        unique.append(h)
    return unique


def _flavour(flavour: str) -> str:
    f = flavour.strip().lower()
    if f == "cnmarc":
        return "unimarc"
    if f not in _FLAVOURS:
        raise ValueError(f"flavour must be 'marc21' or 'unimarc', not {flavour!r}")
    return f


def normalise(
    record: pymarc.Record, flavour: str, *, field_map: FieldMap | None = None
) -> NormalisedRecord:
    """Read the normalised fields out of a record according to the field map.

    ``flavour`` is the reader's ("marc21" or "unimarc"/"cnmarc"); the MARC21
    helpers of pymarc (record.title and friends) are not used because they
    read MARC21 tags whatever the record is.
    """
    flavour = _flavour(flavour)
    fm = field_map or load_field_map()
    warnings: list[str] = []
    out: dict[str, Any] = {}
    language: str | None = None
    lang_rule = fm.fields.get("language")
    if lang_rule is not None:
        found = _apply(record, lang_rule, flavour, None)
        language = found[0] if found else None
    for name, rule in fm.fields.items():
        if name == "language":
            values = [language] if language else []
        else:
            values = _apply(record, rule, flavour, language)
        if name in _LIST_FIELDS:
            out[name] = values
        elif rule.repeat:
            out[name] = rule.repeat_join.join(values) or None
        else:
            out[name] = values[0] if values else None
    if not out.get("title"):
        title_rule = fm.fields.get("title")
        where = ", ".join(s.spec for s in title_rule.sources[flavour]) if title_rule else "-"
        warnings.append(f"the record has no title ({where}); it was given the title {NO_TITLE}")
        out["title"] = NO_TITLE
    out["holdings"] = _holdings(record, fm.holdings[flavour], warnings)
    out["warnings"] = warnings
    return NormalisedRecord(**out)


# --------------------------------------------------------------------------
# Storage form
# --------------------------------------------------------------------------

_MAX_RECORD = 99999
_MAX_FIELD = 9999


def _utf8(value: str | bytes | None) -> bytes:
    if value is None:
        return b""
    return value if isinstance(value, bytes) else value.encode("utf-8")


def to_utf8_iso2709(record: pymarc.Record, flavour: str) -> bytes:
    """The record as ISO 2709 in UTF-8, labelled as UTF-8 for its flavour.

    MARC21 gets leader/09 = 'a'; UNIMARC gets 100$a/26-29 = '50  ' (the 100
    field is not invented when missing). The record passed in is not changed.
    Raises ValueError when the record cannot be ISO 2709: a field over 9,999
    bytes, a record over 99,999 bytes, or a value holding a MARC delimiter.
    """
    flavour = _flavour(flavour)
    leader = list((str(record.leader) + " " * 24)[:24])
    leader[10:12] = ["2", "2"]
    leader[20:24] = list("4500")
    if flavour == "marc21":
        leader[9] = "a"
    body: list[bytes] = []
    directory: list[bytes] = []
    offset = 0
    charset_done = False
    for f in record.fields:
        tag = str(f.tag)
        if len(tag) != 3:
            raise ValueError(f"tag {tag!r} is not three characters")
        if f.is_control_field():
            data = _utf8(f.data)
        else:
            ind1 = (f.indicator1 or " ")[:1]
            ind2 = (f.indicator2 or " ")[:1]
            chunks = [(ind1 + ind2).encode("utf-8")]
            for sf in f.subfields:
                value = sf.value
                if flavour == "unimarc" and tag == "100" and sf.code == "a" and not charset_done:
                    text = value.decode("utf-8") if isinstance(value, bytes) else (value or "")
                    text = text.ljust(36)
                    value = text[:26] + "50  " + text[30:]
                    charset_done = True
                chunks.append(b"\x1f" + sf.code.encode("utf-8") + _utf8(value))
            data = b"".join(chunks)
        if any(b in data for b in (b"\x1d", b"\x1e")) or (f.is_control_field() and b"\x1f" in data):
            raise ValueError(f"field {tag} contains a MARC delimiter character")
        data += b"\x1e"
        if len(data) > _MAX_FIELD:
            raise ValueError(
                f"field {tag} is {len(data)} bytes; ISO 2709 allows {_MAX_FIELD} per field"
            )
        directory.append(f"{tag}{len(data):04d}{offset:05d}".encode("ascii"))
        body.append(data)
        offset += len(data)
    base = 24 + 12 * len(directory) + 1
    total = base + offset + 1
    if total > _MAX_RECORD or offset > _MAX_RECORD:
        raise ValueError(f"the record is {total} bytes; ISO 2709 allows {_MAX_RECORD}")
    leader[0:5] = list(f"{total:05d}")
    leader[12:17] = list(f"{base:05d}")
    head = "".join(leader).encode("ascii", errors="replace")
    return head + b"".join(directory) + b"\x1e" + b"".join(body) + b"\x1d"
