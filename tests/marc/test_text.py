"""The MARC view's text form: every real record round-trips; bad text is refused line by line."""

from __future__ import annotations

from pathlib import Path

import pymarc
import pytest

from catalog.marc.mapping import to_utf8_iso2709
from catalog.marc.reader import read_marc
from catalog.marc.text import MarcTextError, marc_from_text, marc_to_text

SUFFIXES = (".mrc", ".marc", ".iso", ".xml", ".dat")


def test_every_shared_record_round_trips_through_text(data: Path):
    checked = 0
    for path in sorted(p for p in data.iterdir() if p.suffix in SUFFIXES):
        for result in read_marc(path):
            if result.record is None:
                continue
            try:
                stored = to_utf8_iso2709(result.record, result.flavour)
            except ValueError:  # cannot be stored at all: the import rejects it
                continue
            record = pymarc.Record(data=stored, force_utf8=True)
            back = marc_from_text(marc_to_text(record))
            assert to_utf8_iso2709(back, result.flavour) == to_utf8_iso2709(
                record, result.flavour
            ), f"{path.name} record {result.index}"
            checked += 1
    assert checked > 1900  # every readable record of every file


def test_text_form_escapes_what_would_be_ambiguous():
    record = pymarc.Record(force_utf8=True)
    record.leader = pymarc.Leader("00000nam  2200000   4500")
    record.add_field(pymarc.Field(tag="001", data="IT\\ICCU 1"))
    record.add_field(pymarc.Field(
        tag="020", indicators=pymarc.Indicators(" ", " "),
        subfields=[pymarc.Subfield("a", "0198526636"), pymarc.Subfield("c", "$12.00 ")],
    ))  # fmt: skip
    text = marc_to_text(record)
    assert text.splitlines() == [
        "=LDR  00000nam\\\\2200000\\\\\\4500",
        "=001  IT{bsol}ICCU\\1",
        "=020  \\\\$a0198526636$c{dollar}12.00 ",
    ]
    back = marc_from_text(text)
    assert back["001"].data == "IT\\ICCU 1"
    assert back["020"]["c"] == "$12.00 "  # the trailing space of a value is kept
    assert str(back.leader) == "00000nam  2200000   4500"


def test_chinese_cnmarc_text_is_read():
    text = (
        "=LDR  00000nam0\\2200000\\\\\\450\\\n"
        "\n"
        "=001  012000000123\r\n"
        "=200  1\\$a中国发展报告$Azhong guo fa zhan bao gao$f国家统计局编\n"
    )
    record = marc_from_text(text)
    assert record["200"]["a"] == "中国发展报告"
    assert record["200"]["A"] == "zhong guo fa zhan bao gao"
    assert record["200"].indicators == pymarc.Indicators("1", " ")


def test_every_bad_line_is_reported_with_its_number():
    text = "\n".join([
        "=LDR  00000nam",  # 1: leader too short
        "=001  abc",
        "245  10$aNo equals sign",  # 3
        "=245  10aNo dollar",  # 4
        "=260  1$aOne indicator",  # 5: "1$" are not indicators, and no $ follows them
        "=300  \\\\$",  # 6: $ without a code
        "=001  again",  # 7: second 001
        "=008  \\\\",  # 8: empty control field
    ])  # fmt: skip
    with pytest.raises(MarcTextError) as caught:
        marc_from_text(text)
    lines = [p.line for p in caught.value.problems]
    assert lines == [1, 3, 4, 5, 5, 6, 7, 8]
    error = caught.value
    assert "line 1: the leader must be 24 characters, not 8" in error.message_en
    assert "第 3 行" in error.message_zh
    assert error.details["problems"][1] == {
        "line": 3,
        "en": "a line must start with = and a three-character tag, e.g. =245",
        "zh": "每行应以 = 和三位字段号开头，例如 =245",
    }


def test_a_record_needs_a_leader_and_fields():
    with pytest.raises(MarcTextError) as caught:
        marc_from_text("\n\n")
    assert [p.en for p in caught.value.problems] == [
        "the leader line (=LDR) is missing",
        "the record has no fields",
    ]
