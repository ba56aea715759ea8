"""docs/sip2.md and the tests agree: every numbered rule (SIP-CHECKIN-2, PIN-3, KIOSK-1) has a
test named after it (``test_sip_checkin_2_...``, one test may name several), and every rule the
code names is in the document."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RULE = re.compile(r"\*\*((?:[A-Z]+-)+\d+)\*\*")


def rules() -> list[str]:
    return RULE.findall((ROOT / "docs" / "sip2.md").read_text(encoding="utf-8"))


def test_every_rule_in_docs_sip2_has_a_test_named_after_it():
    found = rules()
    assert len(found) > 40
    names = set()
    for path in (ROOT / "tests").rglob("test_*.py"):
        names.update(re.findall(r"def (test_\w+)", path.read_text(encoding="utf-8")))
    missing = [
        rule
        for rule in found
        if not any(re.search(rf"(^test_|_){rule.lower().replace('-', '_')}(_|$)", n) for n in names)
    ]
    assert missing == []


def test_every_rule_the_code_names_is_written_down():
    written = set(rules())
    named = set()
    for folder in ("circulation/sip2", "circulation/pins.py", "app/kiosk"):
        path = ROOT / folder
        for source in [path] if path.is_file() else path.rglob("*.py"):
            named.update(re.findall(r"\b((?:SIP-[A-Z]+|PIN|KIOSK)-\d+)\b", source.read_text()))
    assert named - written == set()
