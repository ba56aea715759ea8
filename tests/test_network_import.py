"""`tongjie network import FILE`: all or nothing, line-numbered errors, idempotent upsert."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from app.db import get_session
from catalog.network import ServicePoint, all_points
from tests.conftest import DATA


def run(app, *args: str):
    return app.test_cli_runner().invoke(args=list(args), catch_exceptions=False)


def snapshot(app) -> list[tuple]:
    with app.app_context():
        return [
            (
                p.code,
                p.name,
                p.kind,
                p.parent.code if p.parent else None,
                p.region_code,
                p.population,
                p.address,
                p.opening_days,
                p.updated_at,
            )
            for p in all_points(get_session())
        ]


def test_csv_import_builds_the_tree(app):
    result = run(app, "network", "import", str(DATA / "network.csv"))
    assert result.exit_code == 0, result.output
    assert "5 created, 0 updated, 0 unchanged" in result.output
    with app.app_context():
        session = get_session()
        village = session.scalar(select(ServicePoint).where(ServicePoint.code == "QX01V01"))
        assert village.parent.code == "QX01"
        assert village.parent.parent.code == "QX"
        assert village.kind == "village_bookshop"
        assert village.population == 1200
        assert village.opening_days == "67"
        assert village.address == "白沙村村委会"


def test_reimport_changes_nothing(app):
    run(app, "network", "import", str(DATA / "network.csv"))
    before = snapshot(app)
    result = run(app, "network", "import", str(DATA / "network.csv"))
    assert result.exit_code == 0
    assert "0 created, 0 updated, 5 unchanged" in result.output
    assert snapshot(app) == before


def test_yaml_with_children_before_parents(app):
    result = run(app, "network", "import", str(DATA / "network.yaml"))
    assert result.exit_code == 0, result.output
    assert "3 created" in result.output
    codes = {row[0]: row[3] for row in snapshot(app)}
    assert codes == {"QX": None, "QX01": "QX", "QX01V01": "QX01"}


def test_changed_row_is_updated(app, tmp_path: Path):
    run(app, "network", "import", str(DATA / "network.csv"))
    changed = (DATA / "network.csv").read_text(encoding="utf-8").replace("1200", "1350")
    (tmp_path / "network.csv").write_text(changed, encoding="utf-8")
    result = run(app, "network", "import", str(tmp_path / "network.csv"))
    assert "0 created, 1 updated, 4 unchanged" in result.output


def test_bad_file_refused_with_three_line_numbered_errors(app):
    run(app, "network", "import", str(DATA / "network.csv"))
    before = snapshot(app)
    result = run_capture(app, DATA / "network-bad.csv")
    assert result.exit_code != 0
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert errors == [
        "error: network-bad.csv:4: parent: no point with code QX09 in this file or the database",
        "error: network-bad.csv:5: code: duplicate code QX01 (first on line 3)",
        "error: network-bad.csv:6: population: -40 is negative; give the residents served, 0 or more",
    ]
    assert "nothing was imported" in result.stderr
    assert snapshot(app) == before


def run_capture(app, path: Path):
    return app.test_cli_runner().invoke(args=["network", "import", str(path)])


def test_bad_file_on_empty_database_imports_nothing(app):
    result = run_capture(app, DATA / "network-bad.csv")
    assert result.exit_code == 1
    assert snapshot(app) == []


def test_cycle_and_missing_parent_for_non_central(app, tmp_path: Path):
    bad = tmp_path / "cycle.csv"
    bad.write_text(
        "code,name,kind,parent,region,population\n"
        "A,甲,branch,B,431199100,10\n"
        "B,乙,branch,A,431199101,10\n"
        "C,丙,village_bookshop,,431199100201,10\n"
        "D,丁,library,QX,4311,x\n",
        encoding="utf-8",
    )
    result = run_capture(app, bad)
    assert result.exit_code == 1
    assert "cycle.csv:2: parent: A would be its own ancestor" in result.stderr
    assert "cycle.csv:3: parent: B would be its own ancestor" in result.stderr
    assert "cycle.csv:4: parent: required for every kind but central" in result.stderr
    assert "cycle.csv:5: kind: 'library' is not one of" in result.stderr
    assert "cycle.csv:5: region: '4311' is not a 6, 9 or 12 digit region code" in result.stderr
    assert "cycle.csv:5: population: 'x' is not a whole number" in result.stderr


def test_wrong_header_is_refused(app, tmp_path: Path):
    bad = tmp_path / "header.csv"
    bad.write_text("code,name,type\nQX,清溪,central\n", encoding="utf-8")
    result = run_capture(app, bad)
    assert result.exit_code == 1
    assert "header.csv:1: header: must start with code,name,kind,parent,region,population" in (
        result.stderr
    )
