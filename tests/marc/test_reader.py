"""Reading real vendor files: every record comes back, read or explained.

Most tests read the third-party files in ../shared/data (see SOURCES.md
there). They skip with the reason when that directory is absent, and fail
instead under CI=true, where the data must be present. Tests that build their
own files in tmp_path always run.
"""

from __future__ import annotations

import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pymarc
import pytest

from catalog.marc.mapping import to_utf8_iso2709
from catalog.marc.reader import MarcReadResult, decode_marc8, detect_file, read_marc


def results(path: Path, **kwargs: str) -> list[MarcReadResult]:
    return list(read_marc(path, **kwargs))


def counts(path: Path, **kwargs: str) -> tuple[int, int]:
    rs = results(path, **kwargs)
    good = sum(1 for r in rs if r.record is not None)
    return good, len(rs) - good


# (good, reported) per file. pymarc 5.4's default MARCReader gives the same
# numbers where it does not garble or lose records; see docs/marc.md for the
# files where these differ from it and why.
EXPECTED = {
    "marc21-with-errors.mrc": (298, 85),
    "marc21-eg-jazz_1k.mrc": (1000, 0),
    "marc21-eg-lul_fre_500.mrc": (500, 0),
    "marc21-eg-nepali.marc": (96, 0),
    "marc21-eg-hebrew.marc": (20, 0),
    "marc21-marc8-chinese.mrc": (3, 1),
    "marc21-marc8-cjk1.marc": (1, 0),
    "marc21-dp2-sample.xml": (10, 0),
    "cnmarc-dp2-sample.xml": (10, 0),
    "cnmarc-dp2-sample-gbk-crlf.iso": (10, 0),
    "cnmarc-dp2-sample-utf8.iso": (10, 0),
    "unimarc-dp2-sample.xml": (10, 0),
    "unimarc-pymarc-test.dat": (1, 0),
    "bad-marc4j-bad_leaders_10_11.mrc": (1, 0),
    "bad-marc4j-bad_oversize_field_bad_directory.mrc": (4, 1),
    "bad-marc4j-bad_too_long_plus_2.mrc": (3, 0),
    "bad-marc4j-unordered-directory-entries.mrc": (1, 0),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_counts_per_file(data: Path, name: str) -> None:
    assert counts(data / name) == EXPECTED[name]


def test_every_bad_marc4j_file_is_covered(data: Path) -> None:
    for path in data.glob("bad-marc4j-*.mrc"):
        assert path.name in EXPECTED, f"add {path.name} to EXPECTED"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_results_are_complete_and_point_into_the_file(data: Path, name: str) -> None:
    path = data / name
    content = path.read_bytes()
    rs = results(path)
    assert [r.index for r in rs] == list(range(1, len(rs) + 1))
    for r in rs:
        assert (r.record is None) == (r.error is not None)
        assert r.flavour in ("marc21", "unimarc")
        assert r.encoding in ("utf-8", "marc-8", "gb18030")
        assert r.raw
        if r.error is not None:
            assert len(r.error) > 20  # a sentence, not an exception name
        if name.endswith(".xml"):
            assert r.offset is None
            assert r.raw.lstrip().startswith(b"<")
        else:
            assert r.offset is not None
            assert content[r.offset : r.offset + len(r.raw)] == r.raw


def test_no_record_pymarc_reads_is_lost(data: Path) -> None:
    """Every record the default pymarc reader reads, we read with the same fields."""
    path = data / "marc21-with-errors.mrc"
    with path.open("rb") as fh:
        theirs = list(pymarc.MARCReader(fh, hide_utf8_warnings=True))
    ours = results(path)
    assert len(ours) == len(theirs)
    for mine, other in zip(ours, theirs, strict=True):
        if other is not None:
            assert mine.record is not None, mine.error
            assert [str(f) for f in mine.record.fields] == [str(f) for f in other.fields]


def test_errors_say_what_is_wrong(data: Path) -> None:
    errors = [r.error or "" for r in results(data / "marc21-with-errors.mrc") if r.error]
    directory = [e for e in errors if "directory" in e]
    charset = [e for e in errors if "is not valid UTF-8" in e]
    assert len(directory) == 16
    assert len(charset) == 69
    # Mislabelled MARC-8 records: the message says what would read them.
    assert any("read cleanly as MARC-8" in e for e in charset)


def test_detect_file(data: Path) -> None:
    assert detect_file(data / "marc21-eg-jazz_1k.mrc") == ("iso2709", "marc21", "marc-8")
    assert detect_file(data / "marc21-eg-nepali.marc") == ("iso2709", "marc21", "utf-8")
    assert detect_file(data / "cnmarc-dp2-sample-gbk-crlf.iso") == (
        "iso2709",
        "unimarc",
        "gb18030",
    )
    assert detect_file(data / "cnmarc-dp2-sample-utf8.iso") == ("iso2709", "unimarc", "utf-8")
    assert detect_file(data / "unimarc-pymarc-test.dat") == ("iso2709", "unimarc", "utf-8")
    assert detect_file(data / "cnmarc-dp2-sample.xml") == ("marcxml", "unimarc", "utf-8")
    assert detect_file(data / "unimarc-dp2-sample.xml") == ("marcxml", "unimarc", "utf-8")
    assert detect_file(data / "marc21-dp2-sample.xml") == ("marcxml", "marc21", "utf-8")


def titles(rs: list[MarcReadResult], tag: str = "200") -> list[str]:
    out = []
    for r in rs:
        assert r.record is not None
        out.append(r.record.get_fields(tag)[0].get_subfields("a")[0])
    return out


def test_gbk_with_crlf_between_records(data: Path) -> None:
    rs = results(data / "cnmarc-dp2-sample-gbk-crlf.iso")
    assert {r.encoding for r in rs} == {"gb18030"}
    assert titles(rs)[0] == "'94中国发展报告"
    assert all(not r.warnings for r in rs)


def test_utf8_with_blank_leader_09(data: Path) -> None:
    rs = results(data / "cnmarc-dp2-sample-utf8.iso")
    assert {r.encoding for r in rs} == {"utf-8"}
    assert rs[0].raw[9:10] == b" "
    assert titles(rs) == titles(results(data / "cnmarc-dp2-sample.xml"))


def test_forced_encoding_reports_instead_of_garbling(data: Path) -> None:
    rs = results(data / "cnmarc-dp2-sample-gbk-crlf.iso", encoding="utf-8")
    assert all(r.record is None for r in rs)
    assert "GB18030" in (rs[0].error or "")


def test_forced_format(data: Path) -> None:
    rs = results(data / "cnmarc-dp2-sample-utf8.iso", format="marc21")
    assert {r.flavour for r in rs} == {"marc21"}
    with pytest.raises(ValueError):
        results(data / "cnmarc-dp2-sample-utf8.iso", format="mods")
    with pytest.raises(ValueError):
        results(data / "cnmarc-dp2-sample-utf8.iso", encoding="latin-1")


def test_unimarc_pymarc_sample(data: Path) -> None:
    """pymarc's default reader decodes it as MARC-8 and reports the trailing LF as a record.

    It is UTF-8 (100$a/26-29 = '50'), with the UNIMARC non-sort markers
    NSB/NSE (U+0088/U+0089) around the article, and ends with a line feed.
    """
    (r,) = results(data / "unimarc-pymarc-test.dat")
    assert r.record is not None and r.encoding == "utf-8" and r.flavour == "unimarc"
    title = r.record.get_fields("200")[0].get_subfields("a")[0]
    assert title == "\x88L'\x89altra faccia della spirale"


def test_eacc_cjk_is_decoded_to_han(data: Path) -> None:
    (r,) = results(data / "marc21-marc8-cjk1.marc")
    assert r.record is not None and r.encoding == "marc-8"
    vernacular = " ".join(f.value() for f in r.record.get_fields("880"))
    assert "金田一 京助 と アイヌ語" in vernacular
    assert "東京 : 三一 書房" in vernacular


def test_mangled_multibyte_loses_only_its_record(data: Path) -> None:
    rs = results(data / "marc21-marc8-chinese.mrc")
    assert [r.record is not None for r in rs] == [False, True, True, True]
    assert "880$a" in (rs[0].error or "") and "MARC-8" in (rs[0].error or "")
    for r in rs[1:]:
        assert r.record is not None
        title = r.record.get_fields("880")[0].get_subfields("a")[0]
        # Record 3 carries its Han characters as &#x...; references.
        assert title.startswith("車輪滾滾")


def test_too_long_record_is_read_by_field_terminators(data: Path) -> None:
    rs = results(data / "bad-marc4j-bad_too_long_plus_2.mrc")
    first = rs[0]
    assert first.record is not None
    assert len(first.raw) == 123375
    assert any("field terminators" in w for w in first.warnings)
    assert first.record["245"] is not None


def test_bad_directory_is_reported(data: Path) -> None:
    rs = results(data / "bad-marc4j-bad_oversize_field_bad_directory.mrc")
    bad = [r for r in rs if r.record is None]
    assert len(bad) == 1 and bad[0].index == 2
    assert "9,999" in (bad[0].error or "")


# --------------------------------------------------------------------------
# Synthetic files
# --------------------------------------------------------------------------


def make_record(title: str, *, leader09: str = "a", control: str = "1") -> bytes:
    record = pymarc.Record()
    record.leader = pymarc.Leader("00000nam a2200000 a 4500")
    record.add_field(pymarc.Field(tag="001", data=control))
    record.add_field(
        pymarc.Field(
            tag="245",
            indicators=pymarc.Indicators("0", "0"),
            subfields=[pymarc.Subfield("a", title)],
        )
    )
    data = to_utf8_iso2709(record, "marc21")
    return data[:9] + leader09.encode() + data[10:]


def write(tmp_path: Path, data: bytes, name: str = "f.mrc") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_junk_between_records_is_skipped(tmp_path: Path) -> None:
    a, b, c = make_record("A"), make_record("B"), make_record("C")
    path = write(tmp_path, b"\r\n" + a + b"\r\n\r\n" + b + b"\x00\x1a \n" + c + b"\r\n")
    rs = results(path)
    assert [r.record["245"]["a"] for r in rs if r.record] == ["A", "B", "C"]
    assert [r.offset for r in rs] == [2, 2 + len(a) + 4, 2 + len(a) + 4 + len(b) + 4]


def test_text_in_front_of_a_record_is_reported_separately(tmp_path: Path) -> None:
    a, b = make_record("A"), make_record("B")
    path = write(tmp_path, a + b"Exported by Vendor 2.0\r\n" + b)
    rs = results(path)
    assert [r.record is not None for r in rs] == [True, False, True]
    assert rs[1].raw == b"Exported by Vendor 2.0\r\n"
    assert "not a MARC record" in (rs[1].error or "")
    assert rs[2].record is not None and rs[2].record["245"]["a"] == "B"


def test_truncated_last_record(tmp_path: Path) -> None:
    a, b = make_record("A"), make_record("B" * 40)
    path = write(tmp_path, a + b[:-20])
    rs = results(path)
    assert rs[0].record is not None
    assert rs[1].record is None and "cut short" in (rs[1].error or "")
    assert rs[1].offset == len(a)


def test_record_without_terminator_is_split_by_leader_length(tmp_path: Path) -> None:
    a, b = make_record("A"), make_record("B")
    path = write(tmp_path, a[:-1] + b)
    rs = results(path)
    assert [r.record["245"]["a"] for r in rs if r.record] == ["A", "B"]
    assert any("no record terminator" in w for w in rs[0].warnings)


def test_bad_leader_does_not_stop_the_file(tmp_path: Path) -> None:
    a, b, c = make_record("A"), make_record("B"), make_record("C")
    broken = b"\xff\xfe" + b[2:]
    rs = results(write(tmp_path, a + broken + c))
    assert [r.record is not None for r in rs] == [True, False, True]
    assert "leader" in (rs[1].error or "")


def test_wrong_base_address_is_repaired(tmp_path: Path) -> None:
    a = make_record("A")
    wrong = a[:12] + b"%05d" % (int(a[12:17]) - 1) + a[17:]
    (r,) = results(write(tmp_path, wrong))
    assert r.record is not None and r.record["245"]["a"] == "A"
    assert any("base address" in w for w in r.warnings)


def test_blank_leader_utf8_trap_in_marc21(tmp_path: Path) -> None:
    path = write(tmp_path, make_record("中国发展报告", leader09=" "))
    (r,) = results(path)
    assert r.encoding == "utf-8"
    assert r.record is not None and r.record["245"]["a"] == "中国发展报告"
    assert any("leader/09" in w for w in r.warnings)


def test_marc8_decoding() -> None:
    # ANSEL acute before its letter; EACC; technique-1 subscript; NCR.
    assert decode_marc8(b"Caf\xe2e") == ("Café", [])
    assert decode_marc8(b"\x1b$1!04K7o\x1b(B x") == ("中国 x", [])
    assert decode_marc8(b"H\x1bb2\x1bsO") == ("H₂O", [])
    assert decode_marc8(b"&#x8ECA;") == ("車", [])
    text, bad = decode_marc8(b"\x1b$1!04K7")  # the last character lost a byte
    assert bad == [6] and text == "中\ufffd"


def big_iso2709(tmp_path: Path, target: int) -> Path:
    record = make_record("x" * 9000)
    path = tmp_path / "big.mrc"
    with path.open("wb") as fh:
        size = 0
        while size < target:
            fh.write(record + b"\r\n")
            size += len(record) + 2
    return path


def peak_bytes(it: Iterator[MarcReadResult]) -> tuple[int, int]:
    tracemalloc.start()
    try:
        n = sum(1 for r in it if r.record is not None)
        return n, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_iso2709_memory_is_flat(tmp_path: Path) -> None:
    path = big_iso2709(tmp_path, 12_000_000)
    n, peak = peak_bytes(read_marc(path))
    assert n > 1000
    assert peak < 4_000_000, f"peak {peak} bytes for a {path.stat().st_size} byte file"


def test_marcxml_memory_is_flat(tmp_path: Path) -> None:
    one = (
        '<record><leader>00000nam a2200000 a 4500</leader><controlfield tag="001">1'
        '</controlfield><datafield tag="245" ind1="0" ind2="0"><subfield code="a">'
        + "x" * 9000
        + "</subfield></datafield></record>\n"
    )
    path = tmp_path / "big.xml"
    with path.open("w", encoding="utf-8") as fh:
        fh.write('<?xml version="1.0"?>\n<collection xmlns="http://www.loc.gov/MARC21/slim">\n')
        for _ in range(1300):
            fh.write(one)
        fh.write("</collection>\n")
    n, peak = peak_bytes(read_marc(path))
    assert n == 1300
    assert peak < 4_000_000, f"peak {peak} bytes for a {path.stat().st_size} byte file"


def test_malformed_xml_ends_with_an_error_not_an_exception(tmp_path: Path) -> None:
    text = (
        '<collection xmlns="http://www.loc.gov/MARC21/slim">'
        "<record><leader>00000nam a2200000 a 4500</leader>"
        '<datafield tag="245" ind1="0" ind2="0"><subfield code="a">A</subfield></datafield>'
        "</record><record><leader>00000nam a2200000 a 4500</leader><datafield"
    )
    path = tmp_path / "broken.xml"
    path.write_text(text, encoding="utf-8")
    rs = results(path)
    assert rs[0].record is not None and rs[0].record["245"]["a"] == "A"
    assert rs[-1].record is None and "not well-formed" in (rs[-1].error or "")


def test_xml_record_without_fields_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "empty.xml"
    path.write_text(
        '<collection xmlns="http://www.loc.gov/MARC21/slim"><record>'
        "<leader>00000nam a2200000 a 4500</leader></record></collection>",
        encoding="utf-8",
    )
    (r,) = results(path)
    assert r.record is None and "no fields" in (r.error or "")
    assert b"<leader>" in r.raw
