"""/api/v1/figures: the assessment figures (JSON, CSV or XLSX) for any period and unit.

A network administrator sees the whole network; a branch librarian the units inside the
subtree they run.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Response
from flask_smorest import Blueprint
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from app.accounts import Role
from app.auth import allow, current_principal
from app.db import get_session
from circulation.figures.compute import ATTRIBUTIONS, BY, compute
from circulation.figures.export import COLUMNS, to_csv, to_xlsx

blp = Blueprint("figures", __name__, description="Figures for the annual assessment (统计)")

MAX_DAYS = 366 * 10
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class FiguresQuerySchema(Schema):
    from_ = fields.Date(required=True, data_key="from")
    to = fields.Date(required=True)
    by = fields.String(load_default="point", validate=validate.OneOf(BY))
    attribution = fields.String(load_default="point", validate=validate.OneOf(ATTRIBUTIONS))
    format = fields.String(load_default="json", validate=validate.OneOf(["json", "csv", "xlsx"]))

    @validates_schema
    def _period(self, data: dict[str, Any], **_: Any) -> None:
        if data["to"] < data["from_"]:
            raise ValidationError({"to": ["must not be before from"]})
        if (data["to"] - data["from_"]).days > MAX_DAYS:
            raise ValidationError({"to": [f"a period of at most {MAX_DAYS} days"]})


class FigureRowSchema(Schema):
    class Meta:
        fields = tuple(name for name, *_ in COLUMNS)


class FiguresSchema(Schema):
    from_ = fields.Date(data_key="from")
    to = fields.Date()
    by = fields.String()
    attribution = fields.String()
    rows = fields.List(fields.Dict(), metadata={"description": "one object per unit"})


def _within() -> int | None:
    principal = current_principal()
    assert principal is not None
    return principal.scope_point_id if principal.role == Role.BRANCH_LIBRARIAN else None


@blp.route("/figures", methods=["GET"])
@blp.arguments(FiguresQuerySchema, location="query")
@blp.response(200, FiguresSchema)
@allow(Role.NETWORK_ADMIN, Role.BRANCH_LIBRARIAN)
def show_figures(query: dict[str, Any]) -> Any:
    """The figures of docs/figures.md per point, branch group, region or the network."""
    start: dt.date = query["from_"]
    end: dt.date = query["to"]
    table = compute(get_session(), start, end, by=query["by"], attribution=query["attribution"],
                    within=_within())  # fmt: skip
    if query["format"] in ("csv", "xlsx"):
        xlsx = query["format"] == "xlsx"
        data = (to_xlsx if xlsx else to_csv)(table, start, end, query["attribution"])
        name = f"figures-{query['by']}-{start.isoformat()}-{end.isoformat()}.{query['format']}"
        disposition = {"Content-Disposition": f'attachment; filename="{name}"'}
        return Response(data, mimetype=XLSX if xlsx else "text/csv; charset=utf-8",
                        headers=disposition)  # fmt: skip
    return {"from_": start, "to": end, "by": query["by"], "attribution": query["attribution"],
            "rows": [row.as_dict() for row in table]}  # fmt: skip
