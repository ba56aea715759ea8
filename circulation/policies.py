"""Circulation rules (流通规则): resolved per point × patron category × item type.

POLICY-1 The network default rule sets every setting and cannot be deleted.
POLICY-2 A rule names a point (and so its whole subtree), a patron category
         and an item type, each or none ("any"). Each setting left empty in a
         rule is inherited.
POLICY-3 For each setting, the most specific rule that sets it wins: the
         nearest point first (the acting point, then its parent, up to the
         network), then a rule naming the patron category before one that
         does not, then one naming the item type before one that does not.
POLICY-4 Due dates skip the lending point's closed days (closed weekdays and
         closed dates), moving forward to its next open day.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog.errors import Conflict, NotFound
from circulation.errors import InvalidCirculationInput
from circulation.models import Policy
from circulation.patrons import PATRON_CATEGORIES
from circulation.tree import NetworkTree

SETTINGS = (
    "loan_days",
    "max_renewals",
    "max_loans",
    "max_holds",
    "hold_shelf_days",
    "fine_per_day",
    "fine_cap",
    "overdue_block_items",
    "fine_block_amount",
    "lendable",
)
SETTING_NAMES_ZH = {
    "loan_days": "借期（天）",
    "max_renewals": "可续借次数",
    "max_loans": "最多借书册数",
    "max_holds": "最多预约数",
    "hold_shelf_days": "预约保留天数",
    "fine_per_day": "逾期每天费用（元）",
    "fine_cap": "每册逾期费上限（元）",
    "overdue_block_items": "逾期几册即停借（0 不停借）",
    "fine_block_amount": "欠款达多少元停借（0 不停借）",
    "lendable": "可外借",
}
MAX_CLOSED_RUN = 400  # a point closed for more than a year in a row is a data error


@dataclass(frozen=True)
class ResolvedPolicy:
    """Every setting for one case, and the id of the rule that supplied each (for the table)."""

    loan_days: int
    max_renewals: int
    max_loans: int
    max_holds: int
    hold_shelf_days: int
    fine_per_day: Decimal
    fine_cap: Decimal
    overdue_block_items: int
    fine_block_amount: Decimal
    lendable: bool
    sources: dict[str, int]
    max_loans_item_type: str | None  # set when max_loans came from a rule naming an item type


def _specificity(rule: Any, lineage: list[int]) -> tuple[int, int, int]:
    depth = lineage.index(rule.point_id) if rule.point_id is not None else len(lineage)
    return (depth, rule.patron_category is None, rule.item_type is None)


def resolve(
    tree: NetworkTree, point_id: int, category: str | None, item_type: str | None
) -> ResolvedPolicy:
    """The settings that apply at ``point_id`` to a patron category and item type (POLICY-3).

    The rules come with the tree (read together, kept while unchanged), so this asks
    the database nothing.
    """
    lineage = tree.lineage(point_id)
    rules = [
        r
        for r in tree.rules
        if (r.point_id is None or r.point_id in lineage)
        and r.patron_category in (None, category)
        and r.item_type in (None, item_type)
    ]
    return resolve_from(rules, lineage)


def resolve_from(rules: list[Any], lineage: list[int]) -> ResolvedPolicy:
    """Resolve from rules already known to match (used for whole tables without more queries)."""
    ordered = sorted(rules, key=lambda r: _specificity(r, lineage))
    values: dict[str, Any] = {}
    sources: dict[str, int] = {}
    max_loans_type = None
    for name in SETTINGS:
        for rule in ordered:
            value = getattr(rule, name)
            if value is not None:
                values[name], sources[name] = value, rule.id
                if name == "max_loans":
                    max_loans_type = rule.item_type
                break
    missing = [name for name in SETTINGS if name not in values]
    if missing:  # only if someone emptied the default by hand in the database
        raise Conflict(
            f"the network default rule has no value for {', '.join(missing)}",
            f"网络默认流通规则缺少设置：{', '.join(missing)}",
        )
    return ResolvedPolicy(**values, sources=sources, max_loans_item_type=max_loans_type)


def due_date(tree: NetworkTree, point_id: int, start: dt.date, days: int) -> dt.date:
    """``start`` + ``days``, moved forward past the point's closed days (POLICY-4)."""
    point = tree[point_id]
    due = start + dt.timedelta(days=days)
    for _ in range(MAX_CLOSED_RUN):
        if point.is_open_on(due):
            return due
        due += dt.timedelta(days=1)
    return start + dt.timedelta(days=days)  # never open: the plain date, rather than none


def network_default(session: Session) -> Policy:
    rule = session.scalar(
        select(Policy).where(
            Policy.point_id.is_(None), Policy.patron_category.is_(None), Policy.item_type.is_(None)
        )
    )
    if rule is None:
        raise Conflict("the network default rule is missing", "缺少网络默认流通规则")
    return rule


def check_rule_values(values: dict[str, Any], *, is_default: bool) -> None:
    """Refuse impossible settings with the reason, before the database would."""
    category = values.get("patron_category")
    if category is not None and category not in PATRON_CATEGORIES:
        allowed = ", ".join(PATRON_CATEGORIES)
        raise InvalidCirculationInput(
            f"patron category must be one of {allowed}", f"读者类型必须是：{allowed}"
        )
    if is_default and any(values.get(name) is None for name in SETTINGS if name in values):
        raise InvalidCirculationInput(
            "the network default must keep a value for every setting",
            "网络默认规则的每一项设置都必须有值",
        )


def save_rule(session: Session, values: dict[str, Any], rule: Policy | None = None) -> Policy:
    """Create a rule, or change one; the scope (point, category, item type) is unique."""
    is_default = rule is not None and (
        rule.point_id is None and rule.patron_category is None and rule.item_type is None
    )
    if is_default and {"point_id", "patron_category", "item_type"} & {
        k for k, v in values.items() if v is not None
    }:
        raise InvalidCirculationInput(
            "the network default applies to everything; make a new rule for a narrower scope",
            "网络默认规则适用于全部范围；如需更具体的规则请新建",
        )
    check_rule_values(values, is_default=is_default)
    scope = {
        key: values.get(key, getattr(rule, key) if rule is not None else None)
        for key in ("point_id", "patron_category", "item_type")
    }
    if rule is None and not any(scope.values()):
        raise Conflict(
            "the network default exists already: change it", "网络默认规则已存在，请直接修改"
        )
    duplicate = session.scalar(
        select(Policy.id).where(
            *(getattr(Policy, key).is_(None) if value is None else getattr(Policy, key) == value
              for key, value in scope.items()),
            Policy.id != (rule.id if rule is not None else 0),
        )
    )  # fmt: skip
    if duplicate is not None:
        raise Conflict(
            f"a rule for this point, category and item type exists already (rule {duplicate})",
            f"该服务点、读者类型和文献类型的规则已存在（规则 {duplicate}）",
            rule=duplicate,
        )
    target = rule or Policy()
    for key, value in values.items():
        setattr(target, key, value)
    session.add(target)
    session.flush()
    return target


def delete_rule(session: Session, rule: Policy) -> None:
    if rule.point_id is None and rule.patron_category is None and rule.item_type is None:
        raise Conflict(
            "the network default rule cannot be deleted (POLICY-1)", "网络默认规则不能删除"
        )
    session.delete(rule)
    session.flush()


def get_rule(session: Session, rule_id: int) -> Policy:
    rule = session.get(Policy, rule_id)
    if rule is None:
        raise NotFound(f"no circulation rule {rule_id}", f"没有编号为 {rule_id} 的流通规则")
    return rule
