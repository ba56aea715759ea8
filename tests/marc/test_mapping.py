"""The field map: the same book gives the same normalised record in every flavour and encoding.

Tests on the files of ../shared/data skip with the reason when it is absent,
and fail under CI=true. Tests on records built here always run.
"""

from __future__ import annotations

import re
from pathlib import Path

import pymarc
import pytest

from catalog.marc.mapping import (
    NO_TITLE,
    FieldMapError,
    Holding,
    NormalisedRecord,
    load_field_map,
    normalise,
    strip_isbd,
    to_utf8_iso2709,
)
from catalog.marc.reader import read_marc

CATALOG_MARC = Path(__file__).resolve().parents[2] / "catalog" / "marc"


def records(path: Path) -> list[tuple[pymarc.Record, str]]:
    out = []
    for r in read_marc(path):
        assert r.record is not None, r.error
        out.append((r.record, r.flavour))
    return out


def normalised(path: Path) -> list[NormalisedRecord]:
    return [normalise(rec, flavour) for rec, flavour in records(path)]


def field(tag: str, *subfields: str, ind: str = "  ") -> pymarc.Field:
    """Build a data field from "a:value" strings."""
    subs = [pymarc.Subfield(s[0], s[2:]) for s in subfields]
    return pymarc.Field(tag=tag, indicators=pymarc.Indicators(ind[0], ind[1]), subfields=subs)


def make(leader: str, *fields: pymarc.Field) -> pymarc.Record:
    rec = pymarc.Record()
    rec.leader = pymarc.Leader(leader)
    for f in fields:
        rec.add_field(f)
    return rec


# --------------------------------------------------------------------------
# CNMARC: one book, three encodings
# --------------------------------------------------------------------------

CNMARC_FILES = (
    "cnmarc-dp2-sample.xml",
    "cnmarc-dp2-sample-gbk-crlf.iso",
    "cnmarc-dp2-sample-utf8.iso",
    "unimarc-dp2-sample.xml",
)


def test_cnmarc_encodings_give_identical_records(data: Path) -> None:
    reference = normalised(data / CNMARC_FILES[0])
    assert len(reference) == 10
    for name in CNMARC_FILES[1:]:
        assert normalised(data / name) == reference, name


@pytest.mark.parametrize("name", CNMARC_FILES)
def test_cnmarc_first_record(data: Path, name: str) -> None:
    n = normalised(data / name)[0]
    assert n.title == "'94中国发展报告"
    assert n.title_pinyin == "'94Zhong Guo Fa Zhan Bao Gao"
    assert n.responsibility == "国家统计局编"
    assert n.authors == ["叶震", "李强", "国家统计局"]
    assert n.authors_pinyin == ["Xie Zhen", "Li Qiang", "Guo Jia Tong Ji Ju"]
    assert (n.publisher, n.pub_place, n.pub_year) == ("中国统计出版社", "北京", "1994")
    assert n.extent == "320页"
    # 606 $a $x $y(place) $z(period), kept in field order
    assert n.subjects == ["经济发展--概况--中国--1994"]
    assert n.clc == "F124"
    assert n.language == "chi"
    assert n.isbns == ["7-5037-1744-0"]
    assert n.price == "CNY68.00"
    assert n.warnings == []


def test_cnmarc_other_fields(data: Path) -> None:
    ns = normalised(data / "cnmarc-dp2-sample.xml")
    assert ns[2].other_title == "中国的“八五”"
    assert ns[9].title == "1999 年中国发展状况与趋势"
    assert ns[9].series == "中国发展报告书"
    assert ns[9].authors == ["季野", "张西明", "曲克敏"]
    assert ns[9].subjects == ["社会发展--概况--中国", "社会发展--预测--中国", "经济发展趋势--中国"]
    assert ns[6].clc == "F124"  # first of two 690 fields


def test_cnmarc_holdings(data: Path) -> None:
    ns = normalised(data / "cnmarc-dp2-sample.xml")
    # Record 1: a 905 summary and three 906 copies.
    assert ns[0].holdings == [
        Holding(f"168301{i}", "211260", None, "F124/26", None, None) for i in (1, 2, 3)
    ]
    # Record 2: 906 $r carries the copy's price.
    assert ns[1].holdings == [Holding("1708903", "211260", None, "F124/26", None, "CNY80.00")]
    # Record 3: only a 905 without barcode: one copy, with a warning.
    assert ns[2].holdings == [Holding(None, "BNU", None, "F124/26", None, None)]
    assert any("no barcode" in w for w in ns[2].warnings)
    # Record 9: 906 copies and a 986 copy, which takes the 905's call number.
    assert [h.barcode for h in ns[8].holdings] == ["1667201", "1667202", "1667203", "B1276046"]
    assert ns[8].holdings[3] == Holding("B1276046", "001", None, "F124/26", None, None)
    # Record 4 (an e-book) has no holdings fields at all.
    assert ns[3].holdings == []


def test_unimarc_non_sort_markers_and_names(data: Path) -> None:
    (n,) = normalised(data / "unimarc-pymarc-test.dat")
    assert n.title == "L'altra faccia della spirale"
    assert n.authors == ["Asimov, Isaac", "Fruttero, Carlo", "Lucentini, Franco", "Scaglia, Cesare"]
    assert n.responsibility == (
        "Isaac Asimov ; traduzione di Cesare Scaglia ; introduzione di Fruttero & Lucentini"
    )
    assert (n.language, n.pub_year, n.isbns) == ("ita", "1996", ["88-04-40682-8"])
    assert n.series == "Bestsellers"


# --------------------------------------------------------------------------
# MARC21
# --------------------------------------------------------------------------


def test_marc21_dp2(data: Path) -> None:
    ns = normalised(data / "marc21-dp2-sample.xml")
    n = ns[1]
    assert n.title == "'08中国改革跟踪报告"
    assert n.responsibility == "国家发展和改革委员会经济体制与管理研究所课题组编"
    assert n.isbns == ["978-7-04-024765-7"]
    assert n.price == "CNY29.00"
    assert (n.publisher, n.pub_place, n.pub_year, n.language) == (
        "高等教育出版社",
        "北京",
        "2008",
        "chi",
    )
    assert ns[7].authors == ["朱威烈", "金应忠"]
    assert ns[7].pub_year == "1992"  # from "1992.8"
    assert ns[0].title == "·附录· “中国近代史上的民族主义”国际学术研讨会综述"


def test_marc21_loc_style_record(data: Path) -> None:
    (n,) = normalised(data / "marc21-marc8-cjk1.marc")
    assert n.title == "Kindaichi Kyōsuke to Ainugo"
    assert n.responsibility == "Ōtomo Yukio"
    assert n.authors == ["Taishō, Tomizō"]
    assert n.isbns == ["4380012115"]
    assert (n.language, n.pub_year, n.edition) == ("jpn", "2001", "Dai 1-han")
    assert n.subjects[1] == "Philologists--Japan--Biography"


def test_marc21_with_errors_file_classification(data: Path) -> None:
    """A Swedish 084 without $2 is not taken for a CLC number."""
    ns = normalised(data / "marc21-eg-jazz_1k.mrc")
    assert ns[0].title == "Friendly fire"
    assert ns[0].authors[:2] == ["Lovano, Joe", "Osby, Greg"]
    for r in read_marc(data / "marc21-with-errors.mrc"):
        if r.record is not None and r.record.get_fields("084"):
            assert normalise(r.record, r.flavour).clc is None


def loc_chinese(*extra: pymarc.Field, lang: str = "chi") -> pymarc.Record:
    return make(
        "00000cam a2200000 a 4500",
        pymarc.Field(tag="008", data="100622s2008    ch a          000 0 " + lang + " d"),
        field("020", "a:9787020024759 (pbk.) :", "c:CNY25.00"),
        *extra,
        field("100", "a:Cao, Xueqin,", "d:approximately 1717-1763.", ind="1 "),
        field("245", "6:880-01", "a:Hong lou meng /", "c:Cao Xueqin zhu.", ind="10"),
        field("700", "a:Gao, E,", "d:approximately 1738-approximately 1815.", ind="1 "),
        field("880", "6:245-01/$1", "a:红楼梦 /", "c:曹雪芹著.", ind="10"),
    )


def test_marc21_clc_with_source_code() -> None:
    n = normalise(loc_chinese(field("084", "a:I242.47", "2:clc")), "marc21")
    assert n.clc == "I242.47"
    assert n.title == "Hong lou meng"
    assert n.authors == ["Cao, Xueqin", "Gao, E"]
    assert n.isbns == ["9787020024759 (pbk.)"]
    assert n.price == "CNY25.00"
    assert n.language == "chi"


def test_marc21_clc_without_source_only_in_chinese_records() -> None:
    assert normalise(loc_chinese(field("084", "a:I242.47")), "marc21").clc == "I242.47"
    assert normalise(loc_chinese(field("084", "a:I242.47"), lang="eng"), "marc21").clc is None
    other = field("084", "a:810", "2:rvk")
    assert normalise(loc_chinese(other), "marc21").clc is None


def test_marc21_koha_items() -> None:
    rec = loc_chinese(
        field("952", "a:ZX", "b:XC01", "o:I242.47/12", "p:30001234", "y:BK", "g:25.00"),
        field("952", "a:ZX", "p:30001235"),
        field("952", "a:ZX", "p:30001235"),
    )
    n = normalise(rec, "marc21")
    assert n.holdings == [
        Holding("30001234", "ZX", "XC01", "I242.47/12", "BK", "25.00"),
        Holding("30001235", "ZX", None, None, None, None),
    ]
    assert any("appears twice" in w for w in n.warnings)


def test_unimarc_koha_items() -> None:
    rec = make(
        "00000nam0 2200000   450 ",
        field("100", "a:20240101d2024    em y0chiy50      ea"),
        field("200", "a:三体", "f:刘慈欣著", ind="1 "),
        field("995", "b:ZX", "c:XC01", "f:30005678", "k:I247.55/12", "r:BK", "p:23.00"),
        field("995", "a:I247.55/12"),  # a dp2 call-number note, not a copy
    )
    n = normalise(rec, "cnmarc")
    assert n.holdings == [Holding("30005678", "ZX", "XC01", "I247.55/12", "BK", "23.00")]


def test_pymarc_title_helpers_are_not_used() -> None:
    """A stray 245 in a UNIMARC record is not its title."""
    rec = make(
        "00000nam0 2200000   450 ",
        field("200", "a:三体", ind="1 "),
        field("245", "a:Wrong title"),
    )
    assert normalise(rec, "unimarc").title == "三体"


def test_missing_title() -> None:
    n = normalise(make("00000nam a2200000 a 4500", field("020", "a:7-5037-1744-0")), "marc21")
    assert n.title == NO_TITLE
    assert any("no title" in w for w in n.warnings)


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("Hong lou meng /", "Hong lou meng"),
        ("Title :", "Title"),
        ("Title ;", "Title"),
        ("Parallel =", "Parallel"),
        ("Austen, Jane,", "Austen, Jane"),
        ("New York.", "New York"),
        ("Tolkien, J. R. R.", "Tolkien, J. R. R."),
        ("张弢...", "张弢..."),
        ("本书由叶震主编。", "本书由叶震主编。"),
        ("Title / :", "Title"),
    ],
)
def test_strip_isbd(raw: str, clean: str) -> None:
    assert strip_isbd(raw) == clean


# --------------------------------------------------------------------------
# Storage form
# --------------------------------------------------------------------------


def comparable(record: pymarc.Record) -> list[str]:
    return [str(f) for f in record.fields]


ROUND_TRIP_FILES = (
    "cnmarc-dp2-sample.xml",
    "cnmarc-dp2-sample-gbk-crlf.iso",
    "unimarc-pymarc-test.dat",
    "marc21-dp2-sample.xml",
    "marc21-eg-jazz_1k.mrc",
    "marc21-eg-hebrew.marc",
    "marc21-marc8-cjk1.marc",
    "marc21-with-errors.mrc",
)


@pytest.mark.parametrize("name", ROUND_TRIP_FILES)
def test_to_utf8_iso2709_round_trips(data: Path, name: str, tmp_path: Path) -> None:
    stored = []
    for r in read_marc(data / name):
        if r.record is None:
            continue
        raw = to_utf8_iso2709(r.record, r.flavour)
        stored.append(raw)
        back = pymarc.Record(data=raw, force_utf8=True)
        assert int(raw[:5]) == len(raw)
        if r.flavour == "marc21":
            assert raw[9:10] == b"a"
            assert comparable(back) == comparable(r.record)
        else:
            charset = back.get_fields("100")[0].get_subfields("a")[0][26:30]
            assert charset == "50  "
            strip = re.compile(r"^(=100  ..\$a.{26}).{4}")
            assert [strip.sub(r"\1", s) for s in comparable(back)] == [
                strip.sub(r"\1", s) for s in comparable(r.record)
            ]
        assert r.record.leader[9] == str(r.record.leader)[9]  # input untouched
    # Stored records read back through the reader give the same normalised records.
    path = tmp_path / "stored.mrc"
    path.write_bytes(b"".join(stored))
    again = [normalise(x.record, x.flavour) for x in read_marc(path) if x.record is not None]
    first = [normalise(x.record, x.flavour) for x in read_marc(data / name) if x.record is not None]
    assert again == first
    assert {x.encoding for x in read_marc(path)} == {"utf-8"}


def test_input_record_is_not_changed(data: Path) -> None:
    rec, flavour = records(data / "cnmarc-dp2-sample-gbk-crlf.iso")[0]
    before = comparable(rec)
    to_utf8_iso2709(rec, flavour)
    assert comparable(rec) == before


def test_too_long_for_iso2709(data: Path) -> None:
    first = next(iter(read_marc(data / "bad-marc4j-bad_too_long_plus_2.mrc")))
    assert first.record is not None
    with pytest.raises(ValueError, match="99999"):
        to_utf8_iso2709(first.record, first.flavour)


# --------------------------------------------------------------------------
# The field map file
# --------------------------------------------------------------------------


def test_field_map_covers_every_field_for_both_flavours() -> None:
    fm = load_field_map()
    for name in ("title", "authors", "isbns", "clc", "language", "pub_year"):
        assert fm.fields[name].sources["marc21"], name
        assert fm.fields[name].sources["unimarc"], name
    assert [r.tag for r in fm.holdings["unimarc"]] == ["905", "906", "986", "995"]
    assert [r.tag for r in fm.holdings["marc21"]] == ["952"]


def test_custom_field_map(tmp_path: Path) -> None:
    path = tmp_path / "map.yaml"
    path.write_text(
        """
fields:
  title: {unimarc: "200$a", marc21: "245$a"}
  series: {unimarc: ["225$a", "461$a"]}
holdings:
  unimarc:
    - field: "949"
      barcode: "$a"
      home: "$b"
      call_number: ["$c/$d"]
""",
        encoding="utf-8",
    )
    fm = load_field_map(path)
    rec = make(
        "00000nam0 2200000   450 ",
        field("200", "a:三体", ind="1 "),
        field("461", "a:地球往事"),
        field("949", "a:0001", "b:XC", "c:I247.55", "d:12"),
    )
    n = normalise(rec, "unimarc", field_map=fm)
    assert (n.title, n.series) == ("三体", "地球往事")
    assert n.holdings == [Holding("0001", "XC", None, "I247.55/12", None, None)]


@pytest.mark.parametrize(
    "body",
    [
        'fields: {title: {marc21: "24$a"}}',
        'fields: {title: {marc21: "245$a if $2 ~ x"}}',
        'fields: {nonsense: {marc21: "245$a"}}',
        'fields: {authors: {marc21: "100$a", repeat: false}}',
        'fields: {title: {marc21: "245$a", clean: shout}}',
        'fields: {title: {marc21: "245$a"}}\nholdings: {marc21: [{field: "952", barcode: "p"}]}',
    ],
)
def test_field_map_mistakes_are_explained(tmp_path: Path, body: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(FieldMapError):
        load_field_map(path)


def test_catalog_marc_is_pure() -> None:
    """No web application, circulation or database code in the reader and the mapping."""
    forbidden = re.compile(
        r"^\s*(from|import)\s+(app|circulation|sqlalchemy|psycopg|catalog\.db)\b", re.M
    )
    for name in ("__init__.py", "reader.py", "mapping.py"):
        text = (CATALOG_MARC / name).read_text(encoding="utf-8")
        assert not forbidden.search(text), name
