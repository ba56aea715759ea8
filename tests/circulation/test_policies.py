"""POLICY-1..5: rules per point x patron category x item type, most specific first."""

from __future__ import annotations

from decimal import Decimal

import pytest

from catalog.errors import Conflict
from catalog.network import point_by_code
from circulation.errors import InvalidCirculationInput
from circulation.policies import delete_rule, network_default, resolve
from circulation.resolved import resolved_table
from circulation.tree import NetworkTree
from tests.circulation.conftest import set_rule


def resolved(circ, code: str, category: str | None, item_type: str | None):
    tree = NetworkTree.load(circ.db)
    return resolve(tree, point_by_code(circ.db, code).id, category, item_type)


def test_policy_1_network_default_sets_everything_and_stays(circ):
    default = network_default(circ.db)
    policy = resolved(circ, "QX01V01", "adult", "book")
    assert (policy.loan_days, policy.max_renewals, policy.max_loans, policy.max_holds) == (
        30,
        1,
        10,
        5,
    )
    assert policy.fine_per_day == Decimal("0") and policy.overdue_block_items == 1
    assert set(policy.sources.values()) == {default.id}
    with pytest.raises(Conflict):
        delete_rule(circ.db, default)
    with pytest.raises(InvalidCirculationInput):
        set_rule(circ.db, loan_days=None)


def test_policy_2_one_rule_per_scope_and_settings_inherit(circ):
    set_rule(circ.db, point="QX01", loan_days=45)
    with pytest.raises(Conflict):
        from circulation.policies import save_rule

        save_rule(circ.db, {"point_id": point_by_code(circ.db, "QX01").id, "max_loans": 3})
    policy = resolved(circ, "QX01V01", "adult", "book")  # the subtree of QX01
    assert policy.loan_days == 45 and policy.max_loans == 10
    assert resolved(circ, "QX02", "adult", "book").loan_days == 30


def test_policy_3_nearest_point_then_category_then_item_type(circ):
    set_rule(circ.db, item_type="children", loan_days=21)
    set_rule(circ.db, patron_category="child", loan_days=14, max_loans=5)
    set_rule(circ.db, patron_category="child", item_type="children", max_loans=8)
    set_rule(circ.db, point="QX01", loan_days=60)
    set_rule(circ.db, point="QX01V01", patron_category="institution", max_loans=500)
    network_child_book = resolved(circ, "QX02", "child", "children")
    assert (network_child_book.loan_days, network_child_book.max_loans) == (14, 8)
    assert resolved(circ, "QX02", "adult", "children").loan_days == 21
    assert resolved(circ, "QX01V01", "child", "children").loan_days == 60  # nearest point wins
    assert resolved(circ, "QX01V01", "child", "children").max_loans == 8
    assert resolved(circ, "QX01V01", "institution", "book").max_loans == 500
    assert resolved(circ, "QX01", "institution", "book").max_loans == 10


def test_policy_5_resolved_table_names_the_rule_behind_each_setting(circ):
    rule = set_rule(circ.db, point="QX01", patron_category="child", loan_days=20)
    table = resolved_table(circ.db, point_by_code(circ.db, "QX01V01"))
    row = next(r for r in table["rows"] if r["patron_category"] == "child")
    assert row["loan_days"] == 20 and row["sources"]["loan_days"] == rule.id
    assert row["sources"]["max_loans"] == network_default(circ.db).id
    network = resolved_table(circ.db, None)
    assert next(r for r in network["rows"] if r["patron_category"] == "child")["loan_days"] == 30
