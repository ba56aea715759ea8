"""`tongjie catalog import` / `export` on the real MARC files in ../shared/data.

Every record is either imported or reported; duplicates merge into one union
record; re-importing creates nothing; export then import gives the same records.
"""

from __future__ import annotations

import re
from pathlib import Path

import pymarc
import pytest
from sqlalchemy import func, select

from app import create_app
from app.db import get_session
from app.migrate import upgrade
from catalog.network_import import import_network
from catalog.records import Copy, Record, RecordSource
from tests.conftest import DATA, scratch_postgres_database

SUMMARY = re.compile(
    r"(?P<read>\d+) read, (?P<created>\d+) created, (?P<merged>\d+) merged, "
    r"(?P<unchanged>\d+) unchanged, (?P<copies_added>\d+) copies added, "
    r"(?P<copies_present>\d+) copies already present, (?P<rejected>\d+) rejected, "
    r"(?P<copies_rejected>\d+) copies rejected"
)


def run_import(app, *args: str, report_dir: Path):
    result = app.test_cli_runner().invoke(
        args=["catalog", "import", *args, "--report-dir", str(report_dir)]
    )
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    summaries = [
        {k: int(v) for k, v in m.groupdict().items()} for m in SUMMARY.finditer(result.output)
    ]
    return result, summaries


def count(app, model) -> int:
    with app.app_context():
        return get_session().scalar(select(func.count()).select_from(model)) or 0


def records(app) -> list[Record]:
    with app.app_context():
        return list(get_session().scalars(select(Record).order_by(Record.id)))


def test_cnmarc_gbk_crlf_imports_chinese_text_and_pinyin(app, network, shared, tmp_path):
    _, [summary] = run_import(
        app, str(shared / "cnmarc-dp2-sample-gbk-crlf.iso"), "--location", "QX", report_dir=tmp_path
    )
    assert summary["read"] == 10 and summary["rejected"] == 0
    assert summary["created"] + summary["merged"] == 10
    report = [r for r in records(app) if "中国发展报告" in r.title]
    assert report, [r.title for r in records(app)]
    assert "国家统计局" in (report[0].responsibility or "")
    assert report[0].title_pinyin
    assert all(r.marc_flavour == "unimarc" for r in records(app))


def test_three_cnmarc_encodings_merge_into_the_same_records(app, network, shared, tmp_path):
    files = [
        "cnmarc-dp2-sample.xml",
        "cnmarc-dp2-sample-gbk-crlf.iso",
        "cnmarc-dp2-sample-utf8.iso",
    ]
    _, summaries = run_import(app, *(str(shared / f) for f in files), "--location", "QX",
                                   report_dir=tmp_path)  # fmt: skip
    first = summaries[0]["created"]
    assert first >= 1
    assert [s["created"] for s in summaries[1:]] == [0, 0]
    assert len(records(app)) == first


def test_reimport_creates_nothing(app, network, shared, tmp_path):
    path = str(shared / "cnmarc-dp2-sample.xml")
    _, [first] = run_import(app, path, "--location", "QX", report_dir=tmp_path)
    before = (count(app, Record), count(app, Copy), count(app, RecordSource))
    _, [second] = run_import(app, path, "--location", "QX", report_dir=tmp_path)
    assert second["created"] == 0 and second["copies_added"] == 0
    assert second["unchanged"] == first["created"] + first["merged"]
    assert (count(app, Record), count(app, Copy), count(app, RecordSource)) == before


def test_errors_file_keeps_the_good_and_reports_each_bad_one(app, network, shared, tmp_path):
    result, [summary] = run_import(
        app, str(shared / "marc21-with-errors.mrc"), "--location", "QX", report_dir=tmp_path
    )
    assert result.exit_code == 2
    assert (
        summary["read"]
        == summary["rejected"] + summary["created"] + summary["merged"] + (summary["unchanged"])
    )
    assert summary["rejected"] == 85
    assert summary["created"] + summary["merged"] + summary["unchanged"] == 298
    report = (tmp_path / "marc21-with-errors.mrc.report.txt").read_text(encoding="utf-8")
    rejected_lines = [line for line in report.splitlines() if line.startswith("rejected record")]
    assert len(rejected_lines) == 85
    assert all(" at byte " in line for line in rejected_lines)
    rejects = tmp_path / "marc21-with-errors.mrc.rejects.mrc"
    assert rejects.stat().st_size > 0


@pytest.mark.parametrize(
    "name",
    [
        "bad-marc4j-bad_leaders_10_11.mrc",
        "bad-marc4j-bad_oversize_field_bad_directory.mrc",
        "bad-marc4j-bad_too_long_plus_2.mrc",
        "bad-marc4j-unordered-directory-entries.mrc",
        "marc21-marc8-chinese.mrc",
        "unimarc-pymarc-test.dat",
    ],
)
def test_broken_files_are_reported_not_crashed_on(app, network, shared, tmp_path, name):
    result, [summary] = run_import(app, str(shared / name), "--location", "QX", report_dir=tmp_path)
    assert result.exit_code in (0, 2), result.output
    assert (
        summary["read"]
        == summary["rejected"] + summary["created"] + summary["merged"] + (summary["unchanged"])
    )
    assert (result.exit_code == 2) == (summary["rejected"] + summary["copies_rejected"] > 0)


def test_location_copies_get_scheme_barcodes_once(app, network, shared, tmp_path):
    path = str(shared / "marc21-eg-jazz_1k.mrc")
    result, [summary] = run_import(app, path, "--location", "QX01", report_dir=tmp_path)
    assert result.exit_code == 0, result.output
    assert summary["copies_added"] == summary["created"] + summary["merged"]
    with app.app_context():
        barcodes = list(get_session().scalars(select(Copy.barcode)))
    assert len(set(barcodes)) == len(barcodes) == summary["copies_added"]
    _, [again] = run_import(app, path, "--location", "QX01", report_dir=tmp_path)
    assert again["copies_added"] == 0 and again["created"] == 0


def test_holdings_with_unknown_points_need_a_location(app, network, shared, tmp_path):
    result, [summary] = run_import(app, str(shared / "cnmarc-dp2-sample.xml"), report_dir=tmp_path)
    assert summary["copies_rejected"] > 0 and summary["copies_added"] == 0
    assert summary["created"] >= 1  # the records themselves are imported
    assert result.exit_code == 2
    assert "give --location CODE" in result.output + result.stderr


def test_barcode_in_use_rejects_only_that_copy(app, network, tmp_path):
    first = tmp_path / "a.mrc"
    second = tmp_path / "b.mrc"
    first.write_bytes(_marc21("水稻栽培", "9787109000001", barcode="3100000009"))
    second.write_bytes(_marc21("果树修剪", "9787111547426", barcode="3100000009"))
    run_import(app, str(first), report_dir=tmp_path)
    result, [summary] = run_import(app, str(second), report_dir=tmp_path)
    assert summary["created"] == 1 and summary["copies_rejected"] == 1
    assert result.exit_code == 2
    assert "barcode already used by a copy of record" in result.output + result.stderr
    assert len(records(app)) == 2


def test_same_isbn_merges_copies_under_one_record(app, network, tmp_path):
    path = tmp_path / "two.mrc"
    path.write_bytes(
        _marc21("水稻栽培技术", "978-7-109-00000-1", barcode="3100000001", home="QX01")
        + _marc21(
            "水稻栽培技术 :", "9787109000001", barcode="3100000002", home="QX02", extra="新版"
        )
    )
    result, [summary] = run_import(app, str(path), report_dir=tmp_path)
    assert summary["created"] == 1 and summary["merged"] == 1, result.output
    [record] = records(app)
    with app.app_context():
        session = get_session()
        homes = sorted(c.home_point.code for c in session.scalars(select(Copy)))
        assert homes == ["QX01", "QX02"]
        assert len(session.get(Record, record.id).sources) == 2


def test_export_then_import_gives_the_same_records(app, network, shared, tmp_path, second_app):
    run_import(app, str(shared / "cnmarc-dp2-sample.xml"), "--location", "QX", report_dir=tmp_path)
    for fmt, suffix in (("iso2709", "iso"), ("marcxml", "xml")):
        out = tmp_path / f"export.{suffix}"
        result = app.test_cli_runner().invoke(
            args=["catalog", "export", "--format", fmt, "--output", str(out)]
        )
        assert result.exit_code == 0, result.output
        target = second_app()
        _, [summary] = run_import(target, str(out), report_dir=tmp_path / fmt)
        assert summary["rejected"] == summary["copies_rejected"] == 0
        assert _comparable(records(target)) == _comparable(records(app))
        assert _copies(target) == _copies(app)


def test_export_converts_flavour(app, network, shared, tmp_path, second_app):
    run_import(app, str(shared / "cnmarc-dp2-sample.xml"), "--location", "QX", report_dir=tmp_path)
    out = tmp_path / "as-marc21.mrc"
    app.test_cli_runner().invoke(
        args=["catalog", "export", "--flavour", "marc21", "--output", str(out)]
    )
    first = next(iter(pymarc.MARCReader(out.open("rb"), to_unicode=True, force_utf8=True)))
    assert first["245"] is not None and first["952"] is not None
    target = second_app()
    run_import(target, str(out), report_dir=tmp_path / "conv")
    assert [(r.title, r.isbn13, r.clc) for r in records(target)] == [
        (r.title, r.isbn13, r.clc) for r in records(app)
    ]


def test_export_location_and_stdout(app, network, tmp_path):
    path = tmp_path / "two.mrc"
    path.write_bytes(
        _marc21("水稻栽培技术", "9787109000001", barcode="3100000001", home="QX01")
        + _marc21("果树修剪", "9787111547426", barcode="3100000002", home="QX02")
    )
    run_import(app, str(path), report_dir=tmp_path)
    result = app.test_cli_runner().invoke(args=["catalog", "export", "--location", "QX02"])
    exported = list(pymarc.MARCReader(result.stdout_bytes, to_unicode=True, force_utf8=True))
    assert [r["245"]["a"] for r in exported] == ["果树修剪"]
    assert [f["p"] for f in exported[0].get_fields("952")] == ["3100000002"]


# --- helpers ---------------------------------------------------------------------------


def _marc21(title: str, isbn: str, *, barcode: str, home: str = "QX", extra: str = "") -> bytes:
    record = pymarc.Record(force_utf8=True, leader="     nam a22     4i 4500")
    record.add_field(
        pymarc.Field(tag="008", data="250101s2020    ch            000 0 chi d"),
        pymarc.Field(tag="020", indicators=pymarc.Indicators(" ", " "),
                     subfields=[pymarc.Subfield("a", isbn)]),
        pymarc.Field(tag="100", indicators=pymarc.Indicators("1", " "),
                     subfields=[pymarc.Subfield("a", "李明")]),
        pymarc.Field(tag="245", indicators=pymarc.Indicators("1", "0"),
                     subfields=[pymarc.Subfield("a", title), pymarc.Subfield("c", "李明著")]),
        pymarc.Field(tag="264", indicators=pymarc.Indicators(" ", "1"),
                     subfields=[pymarc.Subfield("a", "北京"), pymarc.Subfield("b", "中国农业出版社"),
                                pymarc.Subfield("c", "2020")]),
        pymarc.Field(tag="952", indicators=pymarc.Indicators(" ", " "),
                     subfields=[pymarc.Subfield("a", home), pymarc.Subfield("p", barcode),
                                pymarc.Subfield("o", "S511/12")]),
    )  # fmt: skip
    if extra:
        record.add_field(
            pymarc.Field(tag="500", indicators=pymarc.Indicators(" ", " "),
                         subfields=[pymarc.Subfield("a", extra)])
        )  # fmt: skip
    return record.as_marc()


def _comparable(rows: list[Record]) -> list[tuple]:
    return [
        (r.title, r.title_pinyin, r.responsibility, tuple(r.authors), r.publisher, r.pub_year,
         r.isbn13, r.clc, tuple(r.subjects), r.language)
        for r in rows
    ]  # fmt: skip


def _copies(app) -> list[tuple]:
    with app.app_context():
        return sorted(
            (c.barcode, c.record.title, c.home_point.code, c.call_number)
            for c in get_session().scalars(select(Copy))
        )


@pytest.fixture
def second_app(migrated_database, tmp_path):
    """Factory: another app on an empty database of the same kind, with the same small network."""
    made = []

    def factory():
        if migrated_database.startswith("sqlite"):
            url = f"sqlite:///{tmp_path / f'second-{len(made)}.db'}"
            drop = None
        else:
            url, drop = scratch_postgres_database(migrated_database)
        upgrade(url)
        other = create_app({"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": "x"})
        with other.app_context():
            import_network(get_session(), DATA / "network.csv")
            get_session().commit()
        made.append((other, drop))
        return other

    yield factory
    for other, drop in made:
        other.extensions["tongjie.engine"].dispose()
        if drop:
            drop()


# Every file in ../shared/data: (records read, records rejected). The readable counts are
# SOURCES.md's (pymarc 5.4.0's good records) except where docs/marc.md explains a difference:
# marc21-marc8-chinese.mrc record 1 has lost bytes inside its CJK text and is reported, not
# imported garbled; bad_oversize_field has a fifth, broken record pymarc does not yield;
# bad_too_long_plus_2's first record (123,375 bytes) cannot be stored as ISO 2709 (limit 99,999).
EVERY_FILE = {
    "cnmarc-dp2-sample.xml": (10, 0),
    "cnmarc-dp2-sample-gbk-crlf.iso": (10, 0),
    "cnmarc-dp2-sample-utf8.iso": (10, 0),
    "unimarc-dp2-sample.xml": (10, 0),
    "marc21-dp2-sample.xml": (10, 0),
    "unimarc-pymarc-test.dat": (1, 0),
    "marc21-eg-jazz_1k.mrc": (1000, 0),
    "marc21-eg-lul_fre_500.mrc": (500, 0),
    "marc21-eg-nepali.marc": (96, 0),
    "marc21-eg-hebrew.marc": (20, 0),
    "marc21-marc8-chinese.mrc": (4, 1),
    "marc21-marc8-cjk1.marc": (1, 0),
    "marc21-with-errors.mrc": (383, 85),
    "bad-marc4j-bad_leaders_10_11.mrc": (1, 0),
    "bad-marc4j-bad_oversize_field_bad_directory.mrc": (5, 1),
    "bad-marc4j-bad_too_long_plus_2.mrc": (3, 1),
    "bad-marc4j-unordered-directory-entries.mrc": (1, 0),
}


def test_every_shared_file_is_listed(shared):
    names = {
        p.name for p in shared.iterdir() if p.suffix in (".mrc", ".marc", ".iso", ".xml", ".dat")
    }
    assert names == set(EVERY_FILE)


@pytest.mark.parametrize(("name", "expected"), sorted(EVERY_FILE.items()))
def test_every_shared_file_imports_as_documented(app, network, shared, tmp_path, name, expected):
    result, [summary] = run_import(app, str(shared / name), "--location", "QX", report_dir=tmp_path)
    assert (summary["read"], summary["rejected"]) == expected, result.output
    imported = summary["created"] + summary["merged"] + summary["unchanged"]
    assert imported == expected[0] - expected[1]
    assert result.exit_code == (2 if expected[1] else 0)


@pytest.mark.parametrize(
    ("text", "price"),
    [("CNY12.00 (2册)", "12.00"), ("Kčs 25.00", "25.00"), ("8070213515 : Kčs 25.00", "25.00"),
     ("CNY", None), ("", None), ("￥36.5", "36.50")],
)  # fmt: skip
def test_price_is_the_first_plausible_amount(text, price):
    from decimal import Decimal

    from catalog.imports import parse_price

    assert parse_price(text) == (Decimal(price) if price else None)


# Two processes (--jobs 2: read and map in a second process) must import exactly what one does.
JOBS_FILES = [
    "marc21-with-errors.mrc",  # rejects, reject file, warnings
    "cnmarc-dp2-sample-gbk-crlf.iso",  # GBK CNMARC with holdings
    "cnmarc-dp2-sample.xml",  # MARCXML
    "marc21-eg-jazz_1k.mrc",  # several batches
]


@pytest.mark.parametrize("name", JOBS_FILES)
def test_two_processes_import_exactly_what_one_does(
    app, network, shared, tmp_path, second_app, name
):
    other = second_app()
    outcomes = []
    for target, jobs in ((app, "1"), (other, "2")):
        out = tmp_path / f"jobs-{jobs}"
        result, [summary] = run_import(
            target, str(shared / name), "--location", "QX", "--jobs", jobs, report_dir=out
        )
        rejects = sorted(out.glob("*.rejects.*"))
        outcomes.append(
            (
                result.exit_code,
                summary,
                (out / f"{name}.report.txt").read_text(encoding="utf-8"),
                [p.read_bytes() for p in rejects],
                _comparable(records(target)),
                [r.marc for r in records(target)],
                _copies(target),
            )
        )
    one, two = outcomes
    assert one[1]["read"] > 0
    assert two == one


def test_a_failing_reading_process_is_reported(shared):
    from catalog.import_reader import prepared_batches

    with pytest.raises(RuntimeError, match=r"reading process .* failed: ValueError: format must"):
        list(prepared_batches(shared / "marc21-eg-jazz_1k.mrc", format="marc99",
                              encoding="auto", batch_size=100, jobs=2))  # fmt: skip
    with pytest.raises(ValueError, match="jobs must be"):
        list(prepared_batches(shared / "marc21-eg-jazz_1k.mrc", format="auto",
                              encoding="auto", batch_size=100, jobs=3))  # fmt: skip


def _child_pids() -> set[int]:
    pids: set[int] = set()
    for task in Path("/proc/self/task").iterdir():
        pids.update(int(p) for p in (task / "children").read_text().split())
    return pids


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux /proc")
def test_reading_process_stops_when_the_writer_stops(shared):
    from catalog.import_reader import prepared_batches

    before = _child_pids()
    batches = prepared_batches(shared / "marc21-eg-jazz_1k.mrc", format="auto",
                               encoding="auto", batch_size=10, jobs=2)  # fmt: skip
    first = next(batches)
    assert [p.number for p in first] == list(range(1, 11))
    assert _child_pids() - before, "the reader should run in a second process"
    batches.close()  # what import_file does when a write fails
    assert _child_pids() == before
