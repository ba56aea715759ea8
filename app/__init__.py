"""Tongjie's web application: the app factory that wires configuration, database and views."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask_wtf.csrf import CSRFProtect
from werkzeug.routing import IntegerConverter

from app import api, auth, db, errors, i18n, labels, search
from app.auth import current_principal


class DatabaseIntConverter(IntegerConverter):
    """``<int:...>`` in URLs: a number beyond 64 bits matches no route (404), never an overflow."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", 2**63 - 1)
        super().__init__(map, *args, **kwargs)


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    """Build the app from the environment (TONGJIE_*), then apply ``overrides`` (tests)."""
    from app.config import from_environment, instance_secret, static_settings

    app = Flask(__name__, instance_relative_config=True)
    app.url_map.converters["int"] = DatabaseIntConverter
    app.config.update(static_settings())
    app.config.update(from_environment(app.instance_path))
    app.config.update(overrides or {})
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = instance_secret(app.instance_path)
    db.init_app(app)
    search.init_app(app)
    i18n.init_app(app)
    errors.init_app(app)
    auth.init_app(app)

    from app import (
        cli,
        counter,
        health,
        kiosk,
        opac,
        pages,
        search_admin,
        staff_catalog,
        staff_figures,
        staff_policies,
        staff_rotation,
    )

    csrf = CSRFProtect(app)
    app.register_blueprint(pages.bp)
    app.register_blueprint(staff_catalog.bp)
    app.register_blueprint(counter.bp)
    app.register_blueprint(staff_policies.bp)
    app.register_blueprint(staff_figures.bp)
    app.register_blueprint(staff_rotation.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(labels.bp)
    app.register_blueprint(opac.bp)
    app.register_blueprint(search_admin.bp)
    app.register_blueprint(kiosk.bp)
    csrf.exempt(health.bp)
    for name in api.init_app(app):
        csrf.exempt(app.blueprints[name])
    cli.init_app(app)
    app.cli.add_command(labels.barcodes_group)

    @app.context_processor
    def inject_principal() -> dict[str, Any]:
        return {"principal": current_principal()}

    return app
