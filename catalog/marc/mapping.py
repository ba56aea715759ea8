"""Turn a MARC record (MARC21 or CNMARC/UNIMARC) into Tongjie's normalised fields.

Which tag and subfield feeds which field is not written here but in
``fieldmap.yaml`` (字段对照表), so that a cataloguer can read it side by side
for both flavours and extend it (a vendor's own holdings field, say) without
touching Python. This module only knows how to read that table and how to
tidy a value: ISBD punctuation, non-sort markers, whitespace.

It also writes the storage form of a record: ISO 2709 in UTF-8, the one form
the union catalogue keeps so that what a vendor sent can always be rebuilt.
Everything here is a pure function of its input; nothing touches a database.

Both work on any ``pymarc.Record``. For the reader's ``ReadRecord`` (a
well-formed ISO 2709 record) they take a shortcut with the same result:
``normalise`` reads the decoded field text without making pymarc fields, and
``to_utf8_iso2709`` gives the bytes as read, relabelled, while the record is
unchanged and those bytes are what it would write.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from functools import lru_cache
from pathlib import Path
from typing import Any

import pymarc
import yaml

from catalog.marc.reader import ReadRecord

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
    # The map made ready per flavour on first use (see _plan); like the rest of
    # a FieldMap, not to be changed once loaded.
    _plans: dict[str, _Plan] = field(default_factory=dict, compare=False, repr=False)


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
    tags = tuple(dict.fromkeys(t.strip() for t in m.group("tags").split(",")))
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
_YEAR = re.compile(r"(?<!\d)(1[4-9]\d\d|20\d\d)(?!\d)")
_LANGUAGE = re.compile(r"^[a-z]{3}")


def _tidy(value: str) -> str:
    # NFC, controls dropped (tab and line feed become spaces), runs of
    # whitespace made one space, ends stripped; a step is skipped when it cannot
    # change the value (ASCII is its own NFC; printable text has no controls).
    # tests/marc/test_fast_path.py checks it against the regular expressions.
    if not value.isascii():
        value = unicodedata.normalize("NFC", value)
    if not value.isprintable():
        value = _CONTROL.sub("", value.replace("\t", " ").replace("\n", " "))
    return " ".join(value.split())


def strip_isbd(value: str) -> str:
    """Remove ISBD punctuation a cataloguer typed at the end of a subfield.

    " /", " :", " ;", " =" and "," go; a final "." goes unless it ends an
    initial ("Tolkien, J. R. R.") or an ellipsis.
    """
    while True:
        value = value.rstrip()
        before = value
        if value and value[-1] in "/:;=,":
            value = value[:-1].rstrip()  # re.sub(r"\s*[/:;=,]$", "", value)
        if value.endswith(".") and not value.endswith("...") and not _initial_stop(value):
            value = value[:-1]
        if value == before:
            return value


def _initial_stop(value: str) -> bool:
    r"""re.search(r"(?:^|[\s.])\w\.$", value): "J." or "R. R." but not "p.".

    Only asked of a value that ends in "." and no whitespace.
    """
    if len(value) < 2:
        return False
    letter = value[-2]
    if not (letter.isalnum() or letter == "_"):  # \w
        return False
    return len(value) == 2 or value[-3].isspace() or value[-3] == "."


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

# A field as the map reads it: its position in the record, control field?,
# data (control fields), indicators and (code, value) subfields (data fields).
_View = tuple[int, bool, str, str, str, list[tuple[str, str]]]


# One source made ready: tags, codes, one code?, slice start and stop, join,
# conditions, clean, keep punctuation between subfields?
_Step = tuple[
    tuple[str, ...],
    str | None,
    bool,
    int | None,
    int | None,
    str,
    tuple[_Condition, ...],
    str,
    bool,
]


@dataclass(frozen=True)
class _Plan:
    """A field map made ready for one flavour: the tags it reads and its rules.

    ``rules`` holds, in the map's order, each field's name, whether it takes
    every value, what joins them, and its sources as _Step tuples.
    """

    tags: frozenset[str]
    language: tuple[str, bool, str, tuple[_Step, ...]] | None
    rules: tuple[tuple[str, bool, str, tuple[_Step, ...]], ...]
    holdings: tuple[_HoldingRule, ...]


def _step(src: _Source, clean: str) -> _Step:
    stop = None
    if src.start is not None:
        stop = (src.end if src.end is not None else src.start) + 1
    one = src.codes is not None and len(src.codes) == 1
    keep_punct = clean in ("note", "year", "language")
    return (src.tags, src.codes, one, src.start, stop, src.join, src.conditions, clean, keep_punct)


def _plan(fm: FieldMap, flavour: str) -> _Plan:
    plan = fm._plans.get(flavour)
    if plan is None:
        tags = {t for rule in fm.fields.values() for s in rule.sources[flavour] for t in s.tags}
        tags.update(rule.tag for rule in fm.holdings[flavour])
        rules = tuple(
            (name, rule.repeat, rule.repeat_join, tuple(_step(s, rule.clean) for s in sources))
            for name, rule in fm.fields.items()
            for sources in (rule.sources[flavour],)
        )
        language = next((r for r in rules if r[0] == "language"), None)
        plan = _Plan(frozenset(tags), language, rules, fm.holdings[flavour])
        fm._plans[flavour] = plan
    return plan


def _views(record: pymarc.Record, tags: frozenset[str]) -> dict[str, list[_View]]:
    """The fields the map reads, by tag, in record order."""
    by_tag: dict[str, list[_View]] = {}
    view: _View
    texts = record.field_texts() if isinstance(record, ReadRecord) else None
    if texts is not None:
        # Straight from the text the reader decoded: no pymarc.Field is made.
        for pos, (tag, text) in enumerate(texts):
            if tag not in tags:
                continue
            if tag < "010" and tag.isdigit():
                view = (pos, True, text, "", "", [])
            else:
                subs = [(s[0], s[1:]) for s in text.split("\x1f")[1:] if s]
                view = (pos, False, "", text[0], text[1], subs)
            if (found := by_tag.get(tag)) is None:
                by_tag[tag] = [view]
            else:
                found.append(view)
        return by_tag
    for pos, f in enumerate(record.fields):
        tag = f.tag
        if tag not in tags:
            continue
        if f.is_control_field():
            view = (pos, True, f.data or "", "", "", [])
        else:
            subs = [(sf.code, sf.value or "") for sf in f.subfields]
            view = (pos, False, "", f.indicator1 or " ", f.indicator2 or " ", subs)
        if (found := by_tag.get(tag)) is None:
            by_tag[tag] = [view]
        else:
            found.append(view)
    return by_tag


def _select(by_tag: dict[str, list[_View]], tags: tuple[str, ...]) -> list[_View] | None:
    """The fields with any of these tags, in record order (as Record.get_fields)."""
    if len(tags) == 1:
        return by_tag.get(tags[0])
    found = [views for t in tags if (views := by_tag.get(t))]
    if len(found) < 2:
        return found[0] if found else None
    return sorted((v for views in found for v in views), key=_position)


def _position(view: _View) -> int:
    return view[0]


def _matches(view: _View, conditions: tuple[_Condition, ...], language: str | None) -> bool:
    _, control, _, ind1, ind2, subs = view
    for cond in conditions:
        if cond.kind == "language":
            if (language or "") not in cond.values:
                return False
            continue
        if control:
            return False
        if cond.kind in ("ind1", "ind2"):
            if (ind1 if cond.kind == "ind1" else ind2) not in cond.values:
                return False
        elif cond.kind == "no_subfield":
            if any(code == cond.code for code, _ in subs):
                return False
        else:
            wanted = {v.lower() for v in cond.values}
            found = [v.strip().lower() for code, v in subs if code == cond.code]
            if not any(v in wanted for v in found):
                return False
    return True


def _apply(
    by_tag: dict[str, list[_View]],
    steps: tuple[_Step, ...],
    repeat: bool,
    language: str | None,
) -> list[str]:
    """The values of a field's sources, in order, without repeats.

    A source naming one subfield code gives one value per occurrence; naming
    several gives one value per field, its subfields joined. Without
    ``repeat`` the first source that gives a value gives the only one.
    """
    values: list[str] = []
    for tags, codes, one, start, stop, join, conditions, clean, keep_punct in steps:
        views = by_tag.get(tags[0]) if len(tags) == 1 else _select(by_tag, tags)
        if not views:
            continue
        for view in views:
            if conditions and not _matches(view, conditions, language):
                continue
            if view[1]:
                raw = view[2] if start is None else view[2][start:stop]
                value = _clean(raw, clean) if raw.strip() else None
                if value and value not in values:
                    values.append(value)
                continue
            if codes is None:
                parts = [v for _, v in view[5]]
            else:
                parts = [v for code, v in view[5] if code in codes]
            if start is not None:
                parts = [v[start:stop] for v in parts]
            if one:
                for part in parts:
                    value = _clean(part, clean)
                    if value and value not in values:
                        values.append(value)
                continue
            tidied = [_tidy(p) if keep_punct else strip_isbd(_tidy(p)) for p in parts]
            value = _clean(_join(tidied, join), clean)
            if value and value not in values:
                values.append(value)
        if values and not repeat:
            return values[:1]
    return values


def _fill(template: str, subs: list[tuple[str, str]]) -> str | None:
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


def _holding_from(subs: list[tuple[str, str]], rule: _HoldingRule) -> Holding:
    got: dict[str, str | None] = {}
    for attr in _HOLDING_ATTRS:
        got[attr] = next(
            (v for t in rule.values[attr] if (v := _fill(t, subs)) is not None),
            None,
        )
    price = got["price"]
    if price is not None and not any(ch.isdigit() for ch in price):
        got["price"] = None
    return Holding(**got)


def _holdings(
    by_tag: dict[str, list[_View]], rules: tuple[_HoldingRule, ...], warnings: list[str]
) -> list[Holding]:
    copies: list[Holding] = []
    defaults: list[Holding] = []
    for rule in rules:
        for view in by_tag.get(rule.tag, ()):
            if view[1]:
                continue
            h = _holding_from(view[5], rule)
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
    plan = _plan(fm, flavour)
    by_tag = _views(record, plan.tags)
    warnings: list[str] = []
    out: dict[str, Any] = {}
    language: str | None = None
    if plan.language is not None:
        _, repeat, _, steps = plan.language
        found = _apply(by_tag, steps, repeat, None)
        language = found[0] if found else None
    for name, repeat, repeat_join, steps in plan.rules:
        if name == "language":
            values = [language] if language else []
        else:
            values = _apply(by_tag, steps, repeat, language)
        if name in _LIST_FIELDS:
            out[name] = values
        elif repeat:
            out[name] = repeat_join.join(values) or None
        else:
            out[name] = values[0] if values else None
    if not out.get("title"):
        title_rule = fm.fields.get("title")
        where = ", ".join(s.spec for s in title_rule.sources[flavour]) if title_rule else "-"
        warnings.append(f"the record has no title ({where}); it was given the title {NO_TITLE}")
        out["title"] = NO_TITLE
    out["holdings"] = _holdings(by_tag, plan.holdings, warnings)
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
    if isinstance(record, ReadRecord) and (stored := _stored_as_read(record, flavour)):
        return stored
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


def _stored_as_read(record: ReadRecord, flavour: str) -> bytes | None:
    """The bytes the reader read, relabelled, when they are what the code below writes.

    That is when the reader kept them (well-formed UTF-8 that writing the
    fields out gives back byte for byte) and nothing in the record changed
    since; for UNIMARC also only when 100$a/26-29 already says '50  ' (or the
    record has no 100$a), since rewriting it can change the field's length.
    """
    raw = record.utf8_source()
    if raw is None:
        return None
    if flavour == "unimarc":
        first = _first_100a(record)
        if first is not None and (len(first) < 36 or first[26:30] != "50  "):
            return None
    leader = record._read_leader
    head = leader[:9] + ("a" if flavour == "marc21" else leader[9]) + "22" + leader[12:20] + "4500"
    return head.encode("ascii") + raw[24:]


def _first_100a(record: ReadRecord) -> str | None:
    """The first $a of a 100 field, the one to_utf8_iso2709 relabels for UNIMARC."""
    texts = record.field_texts()
    if texts is None:
        for f in record.fields:
            if f.tag == "100" and not f.is_control_field():
                for sf in f.subfields:
                    if sf.code == "a":
                        return str(sf.value or "")
        return None
    for tag, text in texts:
        if tag == "100":
            for sub in text.split("\x1f")[1:]:
                if sub[:1] == "a":
                    return sub[1:]
    return None
