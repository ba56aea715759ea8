"""The JSON API under /api/v1/, documented at /api/v1/openapi.json from the schemas."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask_smorest import Api

from app.errors import handle_http_exception


class TongjieApi(Api):  # type: ignore[misc]
    """flask-smorest's Api, answering errors in Tongjie's one error shape."""

    def handle_http_exception(self, error: Any) -> Any:
        return handle_http_exception(error)


def init_app(app: Flask) -> list[str]:
    """Register every API blueprint; returns their names (the API takes no CSRF token:
    writes need a bearer token, see app/auth.py)."""
    from app.api import (
        circulation,
        figures,
        holds,
        me,
        patrons,
        points,
        policies,
        records,
        rotation,
    )

    api = TongjieApi(app)
    api.spec.components.security_scheme(
        "bearerAuth", {"type": "http", "scheme": "bearer", "description": "tongjie tokens create"}
    )
    modules = (points, records, patrons, me, circulation, holds, policies, figures, rotation)
    for module in modules:
        api.register_blueprint(module.blp, url_prefix="/api/v1")
    app.extensions["tongjie.public_endpoints"].add("api-docs.openapi_json")
    return [module.blp.name for module in modules] + ["api-docs"]
