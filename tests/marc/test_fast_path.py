"""The fast path for well-formed records gives exactly what the full rules give.

The reader takes a shortcut for records whose structure is sound (see
docs/marc.md, "Fast path"): no repair machinery, pymarc fields made only when
used, and the record's own bytes stored when they are already what
to_utf8_iso2709 would write. These tests read the same files with the
shortcut switched off and compare everything a caller can see.
"""

from __future__ import annotations

import copy
import pickle
import random
import re
import unicodedata
from pathlib import Path
from typing import Any

import pymarc
import pytest

from catalog.marc import reader
from catalog.marc.mapping import normalise, strip_isbd, to_utf8_iso2709
from catalog.marc.reader import MarcReadResult, ReadRecord, read_marc


def slow(path: Path, monkeypatch: pytest.MonkeyPatch, **kwargs: str) -> list[MarcReadResult]:
    with monkeypatch.context() as m:
        m.setattr(reader, "_read_fast", lambda *a: None)
        return list(read_marc(path, **kwargs))


def outcome(fn: Any, *args: Any) -> Any:
    try:
        return fn(*args)
    except ValueError as exc:
        return f"ValueError: {exc}"


def same_results(path: Path, monkeypatch: pytest.MonkeyPatch, **kwargs: str) -> int:
    """Compare the fast and the full reading of a file; return how many took the fast path."""
    full = slow(path, monkeypatch, **kwargs)
    fast = list(read_marc(path, **kwargs))
    assert len(fast) == len(full)
    taken = 0
    for a, b in zip(fast, full, strict=True):
        assert (a.index, a.offset, a.raw, a.error) == (b.index, b.offset, b.raw, b.error)
        assert (a.flavour, a.encoding, a.warnings) == (b.flavour, b.encoding, b.warnings)
        if b.record is None:
            assert a.record is None
            continue
        assert a.record is not None
        taken += isinstance(a.record, ReadRecord)
        for flavour in ("marc21", "unimarc"):
            # Before the pymarc fields are made (what an import does) ...
            assert normalise(a.record, flavour) == normalise(b.record, flavour)
            assert outcome(to_utf8_iso2709, a.record, flavour) == outcome(
                to_utf8_iso2709, b.record, flavour
            )
        # ... the fields themselves ...
        assert str(a.record.leader) == str(b.record.leader)
        assert [str(f) for f in a.record.fields] == [str(f) for f in b.record.fields]
        assert [f.control_field for f in a.record.fields] == [
            f.control_field for f in b.record.fields
        ]
        # ... and after.
        for flavour in ("marc21", "unimarc"):
            assert normalise(a.record, flavour) == normalise(b.record, flavour)
            assert outcome(to_utf8_iso2709, a.record, flavour) == outcome(
                to_utf8_iso2709, b.record, flavour
            )
    return taken


FILES = (
    "marc21-with-errors.mrc",
    "marc21-eg-jazz_1k.mrc",
    "marc21-eg-lul_fre_500.mrc",
    "marc21-eg-nepali.marc",
    "marc21-eg-hebrew.marc",
    "marc21-marc8-chinese.mrc",
    "marc21-marc8-cjk1.marc",
    "cnmarc-dp2-sample-gbk-crlf.iso",
    "cnmarc-dp2-sample-utf8.iso",
    "unimarc-pymarc-test.dat",
    "bad-marc4j-bad_leaders_10_11.mrc",
    "bad-marc4j-bad_oversize_field_bad_directory.mrc",
    "bad-marc4j-bad_too_long_plus_2.mrc",
    "bad-marc4j-unordered-directory-entries.mrc",
)


@pytest.mark.parametrize("name", FILES)
def test_fast_path_gives_what_the_full_rules_give(
    data: Path, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    same_results(data / name, monkeypatch)


@pytest.mark.parametrize(
    "options",
    [{"encoding": "utf-8"}, {"encoding": "marc-8"}, {"encoding": "gb18030"}, {"format": "unimarc"}],
)
def test_fast_path_with_forced_options(
    data: Path, options: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in (
        "marc21-with-errors.mrc",
        "cnmarc-dp2-sample-gbk-crlf.iso",
        "marc21-eg-nepali.marc",
    ):
        same_results(data / name, monkeypatch, **options)


def test_fast_path_is_taken(data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert same_results(data / "marc21-eg-nepali.marc", monkeypatch) == 95  # UTF-8
    assert same_results(data / "marc21-eg-jazz_1k.mrc", monkeypatch) == 905  # plain-ASCII MARC-8
    assert same_results(data / "cnmarc-dp2-sample-gbk-crlf.iso", monkeypatch) == 10  # GB18030


# --------------------------------------------------------------------------
# Synthetic records: the edges of "well-formed"
# --------------------------------------------------------------------------


def iso(leader: str, *fields: tuple[str, bytes]) -> bytes:
    """An ISO 2709 record from raw field bytes (without field terminators)."""
    body = b""
    directory = b""
    for tag, value in fields:
        data = value + b"\x1e"
        directory += f"{tag}{len(data):04d}{len(body):05d}".encode()
        body += data
    base = 24 + len(directory) + 1
    total = base + len(body) + 1
    head = f"{total:05d}{leader[5:12]}{base:05d}{leader[17:24]}".encode()
    return head + directory + b"\x1e" + body + b"\x1d"


MARC21 = "00000nam a2200000 a 4500"
UNIMARC = "00000nam0 2200000   450 "
CN100 = b"  \x1fa20240101d2024    em y0chiy50      ea"


def title(text: str) -> tuple[str, bytes]:
    return ("245", b"10\x1fa" + text.encode() + b" /\x1fcsomeone.")


EDGES = {
    "plain": iso(MARC21, ("001", b"1"), ("008", b"x" * 40), title("Tongjie")),
    "utf-8": iso(MARC21, ("001", b"1"), title("红楼梦")),
    "blank leader/09, UTF-8": iso(MARC21[:9] + " " + MARC21[10:], ("001", b"1"), title("红楼梦")),
    "blank leader/09, ASCII": iso(MARC21[:9] + " " + MARC21[10:], ("001", b"1"), title("Ab")),
    "MARC-8 escape": iso(MARC21[:9] + " " + MARC21[10:], title("H\x1bb2\x1bsO")),
    "MARC-8 reference": iso(MARC21[:9] + " " + MARC21[10:], title("&#x8ECA;")),
    "bad UTF-8": iso(MARC21, ("001", b"1"), ("245", b"10\x1faab\xe4\x1fbc")),
    "lone lead byte": iso(MARC21, ("245", b"10\x1fa\xe4\xb8")),
    "empty subfield": iso(MARC21, ("001", b"1"), ("245", b"10\x1f\x1faA\x1f")),
    "delimiter in control field": iso(MARC21, ("001", b"1\x1fa2"), title("A")),
    "one indicator": iso(MARC21, ("001", b"1"), ("245", b"1\x1faA")),
    "three indicators": iso(MARC21, ("001", b"1"), ("245", b"100\x1faA")),
    "no indicators": iso(MARC21, ("001", b"1"), ("245", b"")),
    "indicators only": iso(MARC21, ("001", b"1"), ("245", b"10"), title("A")),
    "non-ASCII indicator": iso(MARC21, ("245", "é\x1faA".encode())),
    "non-ASCII code": iso(MARC21, ("245", "10\x1féA".encode())),
    "control code": iso(MARC21, ("245", b"10\x1f\x01A")),
    "space code": iso(MARC21, ("245", b"10\x1f A")),
    "odd tag": iso(MARC21, ("00A", b"10\x1faA"), ("A01", b"x"), title("A")),
    "unimarc utf-8 50": iso(UNIMARC, ("100", CN100), ("200", "1 \x1fa三体".encode())),
    "unimarc gbk 20": iso(
        UNIMARC, ("100", CN100.replace(b"y50 ", b"y20 ")), ("200", "1 \x1fa三体".encode("gbk"))
    ),
    "unimarc label says 50, bytes are GBK": iso(
        UNIMARC, ("100", CN100), ("200", "1 \x1fa三体".encode("gbk"))
    ),
    "unimarc no charset": iso(UNIMARC, ("200", "1 \x1fa三体".encode())),
    "unimarc short 100": iso(UNIMARC, ("100", b"  \x1fa2024"), ("200", "1 \x1fa三体".encode())),
    "unimarc Cyrillic set": iso(
        UNIMARC, ("100", CN100.replace(b"y50 ", b"y02 ")), ("200", "1 \x1faМир".encode())
    ),
}


def mutate(chunk: bytes, at: int, value: bytes) -> bytes:
    return chunk[:at] + value + chunk[at + len(value) :]


STRUCTURE = {
    "wrong base address": mutate(EDGES["plain"], 12, b"%05d" % (int(EDGES["plain"][12:17]) - 1)),
    "wrong length": mutate(EDGES["plain"], 0, b"%05d" % (int(EDGES["plain"][:5]) + 3)),
    "letters in length": mutate(EDGES["plain"], 0, b"0O1x2"),
    "wrong field length": mutate(EDGES["plain"], 27, b"0003"),
    "wrong field start": mutate(EDGES["plain"], 24 + 12 + 7, b"00001"),
    "letters in directory": mutate(EDGES["plain"], 24 + 3, b"00x2"),
    "no record terminator": EDGES["plain"][:-1],
}


@pytest.mark.parametrize("name", sorted(EDGES) + sorted(STRUCTURE))
def test_edges_of_well_formed(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    chunk = EDGES.get(name) or STRUCTURE[name]
    path = tmp_path / "edge.mrc"
    path.write_bytes(chunk + b"\r\n" + EDGES["plain"])
    same_results(path, monkeypatch)
    for flavour in ("marc21", "unimarc"):
        same_results(path, monkeypatch, format=flavour)
        for encoding in ("utf-8", "marc-8", "gb18030"):
            same_results(path, monkeypatch, format=flavour, encoding=encoding)


def test_unimarc_record_already_labelled_utf8_is_stored_as_read(tmp_path: Path) -> None:
    path = tmp_path / "cn.iso"
    path.write_bytes(EDGES["unimarc utf-8 50"])
    (r,) = read_marc(path)
    assert isinstance(r.record, ReadRecord) and r.flavour == "unimarc"
    leader = r.raw[:10] + b"22" + r.raw[12:20] + b"4500"
    assert to_utf8_iso2709(r.record, "unimarc") == leader + r.raw[24:]


# --------------------------------------------------------------------------
# A record changed after reading is stored as it is now
# --------------------------------------------------------------------------


def fresh(tmp_path: Path) -> pymarc.Record:
    path = tmp_path / "one.mrc"
    path.write_bytes(EDGES["utf-8"])
    (r,) = read_marc(path)
    assert isinstance(r.record, ReadRecord)
    return r.record


def stored_fields(data: bytes) -> list[str]:
    return [str(f) for f in pymarc.Record(data=data, force_utf8=True).fields]


def test_changed_subfield(tmp_path: Path) -> None:
    rec = fresh(tmp_path)
    rec["245"]["a"] = "石头记 /"
    assert "=245  10$a石头记 /$csomeone." in stored_fields(to_utf8_iso2709(rec, "marc21"))
    assert normalise(rec, "marc21").title == "石头记"


def test_added_and_removed_fields(tmp_path: Path) -> None:
    rec = fresh(tmp_path)
    rec.add_field(pymarc.Field(tag="500", indicators=pymarc.Indicators(" ", " "),
                               subfields=[pymarc.Subfield("a", "Note.")]))  # fmt: skip
    assert stored_fields(to_utf8_iso2709(rec, "marc21"))[-1] == "=500  \\\\$aNote."
    rec.remove_fields("001")
    assert [s[:4] for s in stored_fields(to_utf8_iso2709(rec, "marc21"))] == ["=245", "=500"]


def test_fields_replaced_before_use(tmp_path: Path) -> None:
    rec = fresh(tmp_path)
    rec.fields = [pymarc.Field(tag="001", data="x")]
    assert stored_fields(to_utf8_iso2709(rec, "marc21")) == ["=001  x"]
    assert normalise(rec, "marc21").title == "[无题名]"


def test_changed_leader(tmp_path: Path) -> None:
    rec = fresh(tmp_path)
    rec.leader[5] = "d"
    assert to_utf8_iso2709(rec, "marc21")[5:6] == b"d"


def test_changed_indicator_and_control_field(tmp_path: Path) -> None:
    rec = fresh(tmp_path)
    rec["245"].indicator2 = "4"
    rec["001"].data = "2"
    assert stored_fields(to_utf8_iso2709(rec, "marc21"))[:2] == [
        "=001  2",
        "=245  14$a红楼梦 /$csomeone.",
    ]


def test_read_record_is_an_ordinary_record(tmp_path: Path) -> None:
    rec = fresh(tmp_path)
    assert isinstance(rec, pymarc.Record)
    stored = to_utf8_iso2709(rec, "marc21")
    for other in (copy.copy(rec), copy.deepcopy(rec), pickle.loads(pickle.dumps(rec))):
        assert [str(f) for f in other.fields] == [str(f) for f in rec.fields]
        assert to_utf8_iso2709(other, "marc21") == stored
    plain = pymarc.Record(data=stored, force_utf8=True)
    assert rec.as_marc() == plain.as_marc()
    assert rec.title == plain.title and rec.isbn == plain.isbn


# --------------------------------------------------------------------------
# Tidying without regular expressions gives the same text
# --------------------------------------------------------------------------

_TRAILING_MARK = re.compile(r"\s*[/:;=,]$")
_INITIAL_STOP = re.compile(r"(?:^|[\s.])\w\.$")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_SPACE = re.compile(r"\s+")


def strip_isbd_reference(value: str) -> str:
    while True:
        value = value.rstrip()
        before = value
        value = _TRAILING_MARK.sub("", value)
        if value.endswith(".") and not value.endswith("...") and not _INITIAL_STOP.search(value):
            value = value[:-1]
        if value == before:
            return value


def tidy_reference(value: str) -> str:
    value = unicodedata.normalize("NFC", value)
    value = _CONTROL.sub("", value.replace("\t", " ").replace("\n", " "))
    return _SPACE.sub(" ", value).strip()


def samples() -> list[str]:
    rnd = random.Random(2709)
    alphabet = "ab J.R_é9 \t\n\r\x0b\x1c\x85\xa0\u3000/:;=,..红\u0301\x88\x89"
    out = ["", ".", "J.", " J.", "p.", "a .", "... .", "Tolkien, J. R. R.", "张弢...", "_.", "1."]
    for _ in range(20000):
        out.append("".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 12))))
    return out


def test_strip_isbd_and_tidy_match_their_regular_expressions() -> None:
    from catalog.marc.mapping import _tidy

    for value in samples():
        assert strip_isbd(value) == strip_isbd_reference(value), repr(value)
        assert _tidy(value) == tidy_reference(value), repr(value)
