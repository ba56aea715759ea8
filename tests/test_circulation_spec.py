"""docs/circulation.md, docs/figures.md and the tests agree: every numbered case has a test.

A case **CHECKIN-2.1** is tested by a test whose name contains ``checkin_2_1`` (one test may
name several cases: ``test_checkout_1_2_transit_5_...``);
a case with sub-cases (CHECKIN-2 has 2.1 to 2.5) is covered by its sub-cases.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CASE = re.compile(r"\*\*([A-Z]+)-(\d+(?:\.\d+)?)\*\*")


SPECS = ("circulation.md", "figures.md")


def cases() -> list[str]:
    text = "".join((ROOT / "docs" / name).read_text(encoding="utf-8") for name in SPECS)
    return [f"{area}-{number}" for area, number in CASE.findall(text)]


def names_of_tests() -> set[str]:
    names: set[str] = set()
    for path in (ROOT / "tests").rglob("test_*.py"):
        names.update(re.findall(r"def (test_\w+)", path.read_text(encoding="utf-8")))
    return names


def test_every_numbered_case_has_a_test_named_after_it():
    found = cases()
    assert len(found) > 50
    names = names_of_tests()
    missing = []
    for case in found:
        stem = case.lower().replace("-", "_").replace(".", "_")
        subcases = [c for c in found if c.startswith(case + ".")]
        if subcases:
            continue
        if not any(re.search(rf"(^test_|_){stem}(_|$)", name) for name in names):
            missing.append(case)
    assert missing == []
