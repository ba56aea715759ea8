"""Figures as tables for the annual assessment (台账): CSV and XLSX.

FIG-14 The first column is the unit's code (a point code, a branch group's lead point,
a region code, or ``network``); one header row names each figure in Chinese and English
with its period (or the day a stock figure is counted at) and, for loan figures, the
attribution; then one row per unit. XLSX holds the same table in a sheet named after the
period, numbers as numbers.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Sequence

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from catalog.network import POINT_KIND_NAMES_ZH
from circulation.figures.compute import Figures

ATTRIBUTION_NAMES = {
    "point": ("按办理地点", "where it happened"),
    "copy_home": ("按图书所属馆", "by the copy's home point"),
    "patron_home": ("按读者所属馆", "by the patron's home point"),
}

# (field, Chinese, English, what the period is: "period", "end", or "" for none)
COLUMNS: tuple[tuple[str, str, str, str], ...] = (
    ("code", "代码", "Code", ""),
    ("name", "名称", "Name", ""),
    ("unit", "类型", "Kind", ""),
    ("population", "常住人口", "Residents", ""),
    ("copies_held", "藏书量（册）", "Copies held", "end"),
    ("holdings_per_capita", "人均藏书（册/人）", "Holdings per capita", "end"),
    ("copies_added", "新增藏书（册）", "Copies added", "period"),
    ("new_per_capita", "人均新增藏书（册/人）", "New copies per capita", "period"),
    ("checkouts", "借出（册次）", "Checkouts", "loans"),
    ("renewals", "续借（册次）", "Renewals", "loans"),
    ("loans", "书刊文献外借册次（借出＋续借）", "Loans (checkouts + renewals)", "loans"),
    ("returns", "还书（册次）", "Returns", "loans"),
    ("own_copies_loans", "本馆藏书外借册次", "Loans of own copies (wherever lent)", "period"),
    ("lendable_copies", "可外借藏书（册）", "Lendable copies", "end"),
    ("turnover", "流通率（外借册次/可外借藏书）", "Turnover (loans / lendable copies)", "loans"),
    ("registered_patrons", "持证读者", "Registered patrons (valid cards)", "end"),
    ("through_share", "通借通还占比", "Through-borrowing share", "period"),
    ("through_events", "通借通还借还册次", "Loans and returns of other points' copies", "period"),
    ("all_events", "借还册次", "Loans and returns", "period"),
    ("village_bookshops", "农家书屋数", "Village bookshops", ""),
    ("bookshops_meeting_baseline", "达标农家书屋数（≥1500册、≥500种）",
     "Village bookshops meeting the baseline (1,500 volumes, 500 titles)", "end"),
    ("titles", "藏书品种", "Titles held", "end"),
    ("meets_baseline", "农家书屋达标", "Meets the village bookshop baseline", "end"),
)  # fmt: skip


def headers(start: dt.date, end: dt.date, attribution: str) -> list[str]:
    zh_by, en_by = ATTRIBUTION_NAMES[attribution]
    span = f"{start.isoformat()}–{end.isoformat()}"
    out = []
    for _field, zh, en, when in COLUMNS:
        if when == "end":
            out.append(f"{zh} {en} ({end.isoformat()})")
        elif when == "period":
            out.append(f"{zh} {en} ({span})")
        elif when == "loans":
            out.append(f"{zh} {en} ({span}, {zh_by} {en_by})")
        else:
            out.append(f"{zh} {en}")
    return out


UNIT_NAMES = {
    **{str(kind): name for kind, name in POINT_KIND_NAMES_ZH.items()},
    "branch_group": "分馆片区",
    "region": "行政区划",
    "network": "全网",
}


def rows(figures: Sequence[Figures]) -> list[list[object]]:
    out = []
    for row in figures:
        values = row.as_dict()
        values["unit"] = UNIT_NAMES.get(row.unit, row.unit)
        out.append([_plain(values[name]) for name, *_ in COLUMNS])
    return out


def _plain(value: object) -> object:
    if isinstance(value, bool):
        return "是" if value else "否"
    return "" if value is None else value


def to_csv(figures: Sequence[Figures], start: dt.date, end: dt.date, attribution: str) -> bytes:
    """UTF-8 with a byte-order mark, so that Excel opens the Chinese correctly."""
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(headers(start, end, attribution))
    writer.writerows(rows(figures))
    return ("\ufeff" + text.getvalue()).encode("utf-8")


def to_xlsx(figures: Sequence[Figures], start: dt.date, end: dt.date, attribution: str) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = f"{start.isoformat()}~{end.isoformat()}"[:31]
    sheet.append(headers(start, end, attribution))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for values in rows(figures):
        sheet.append(values)
    sheet.freeze_panes = "B2"
    for column, width in zip("ABC", (14, 24, 16), strict=True):
        sheet.column_dimensions[column].width = width
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
