"""No endpoint is born open: every one declares who may call it, and anonymous callers get nothing."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select

from app.accounts import ApiToken
from app.auth import PUBLIC, access_rule
from app.db import get_session
from tests.conftest import bearer, login

# The endpoints meant for anonymous callers: the OPAC-side reads, sign-in, health, the API docs.
EXPECTED_PUBLIC = {
    "static",
    "pages.index",
    "pages.login",
    "health.healthz",
    "api-docs.openapi_json",
    "points.list_points",
    "points.show_point",
    "records.show_record",
    "records.show_marc",
    "opac.search_page",
    "opac.record_page",
    "search.search",
    "search.suggest",
    "kiosk.enrol",
}


def sample_url(rule) -> str:
    """Fill each URL variable with a value that exists in the test network where it matters."""
    values = {
        "code": "QX01",
        "card": "2000000001",
        "barcode": "3100000001",
        "record_id": "1",
        "filename": "tongjie.css",
    }
    return re.sub(r"<(?:[^:>]+:)?([^>]+)>", lambda m: values.get(m.group(1), "1"), rule.rule)


def test_every_endpoint_declares_an_access_rule(app):
    undeclared = [
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if access_rule(app, rule.endpoint) is None
    ]
    assert undeclared == [], f"endpoints without an access rule: {undeclared}"


def test_public_endpoints_are_exactly_the_intended_ones(app):
    public = {
        r.endpoint for r in app.url_map.iter_rules() if access_rule(app, r.endpoint) == PUBLIC
    }
    assert public == EXPECTED_PUBLIC


def test_anonymous_callers_get_no_data_from_protected_endpoints(app, client, network):
    checked = 0
    for rule in app.url_map.iter_rules():
        if access_rule(app, rule.endpoint) == PUBLIC:
            continue
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            response = client.open(sample_url(rule), method=method, json={})
            checked += 1
            if rule.rule.startswith("/api/"):
                assert response.status_code == 401, (method, rule.rule)
                assert response.json["error"]["code"] == "unauthorized"
            else:
                assert response.status_code in (302, 400), (method, rule.rule)
                assert "王秀英" not in response.get_data(as_text=True)
    assert checked >= 5


def test_undeclared_endpoint_is_refused(app, client):
    @app.route("/forgotten")
    def forgotten():
        return "secret"

    assert client.get("/forgotten").status_code == 403


def test_terminal_cannot_edit_points(client, make_token):
    terminal = make_token("terminal", scope="QX01V01")
    response = client.patch(
        "/api/v1/points/QX01V01", json={"address": "x"}, headers=bearer(terminal)
    )
    assert response.status_code == 403
    assert response.json["error"]["code"] == "forbidden"


def test_branch_librarian_edits_only_their_subtree(client, make_token):
    librarian = make_token("branch_librarian", scope="QX01")
    inside = client.patch(
        "/api/v1/points/QX01V01",
        json={"opening_days": "567", "closed_days": [{"day": "2027-02-10", "reason": "春节"}]},
        headers=bearer(librarian),
    )
    assert inside.status_code == 200, inside.json
    assert inside.json["opening_days"] == "567"
    assert inside.json["closed_days"] == [{"day": "2027-02-10", "reason": "春节"}]
    outside = client.patch("/api/v1/points/QX02", json={"address": "x"}, headers=bearer(librarian))
    assert outside.status_code == 403
    assert outside.json["error"]["message"] == "QX02 不在您管辖的范围内"
    root = client.patch("/api/v1/points/QX", json={"address": "x"}, headers=bearer(librarian))
    assert root.status_code == 403


def test_network_admin_edits_anywhere(client, make_token):
    admin = make_token("network_admin")
    response = client.patch("/api/v1/points/QX02", json={"population": 4100}, headers=bearer(admin))
    assert response.status_code == 200
    assert response.json["population"] == 4100


def test_cataloguer_cannot_read_patrons(client, make_token):
    cataloguer = make_token("cataloguer")
    assert client.get("/api/v1/patrons/1", headers=bearer(cataloguer)).status_code == 403


def test_unknown_revoked_and_expired_tokens_are_refused(app, client, make_token):
    secret = make_token("network_admin", username="ops")
    assert client.get("/api/v1/me", headers=bearer(secret)).json["name"] == "ops"
    assert client.get("/api/v1/me", headers=bearer("tj_not-a-token")).status_code == 401
    with app.app_context():
        session = get_session()
        token = session.scalar(select(ApiToken).where(ApiToken.name == "ops"))
        token.expires_at = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
        session.commit()
    assert client.get("/api/v1/me", headers=bearer(secret)).status_code == 401
    with app.app_context():
        session = get_session()
        token = session.scalar(select(ApiToken).where(ApiToken.name == "ops"))
        token.expires_at = None
        token.revoked_at = dt.datetime.now(dt.UTC)
        session.commit()
    assert client.get("/api/v1/me", headers=bearer(secret)).status_code == 401


def test_tokens_are_stored_hashed(app, make_token):
    secret = make_token("cataloguer")
    with app.app_context():
        stored = [t.token_hash for t in get_session().scalars(select(ApiToken))]
    assert secret not in stored and all(len(h) == 64 for h in stored)


def test_session_cookie_reads_api_but_cannot_write(app, client, network):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["users", "add", "admin", "--role", "network_admin", "--password", "password-123"]
    )
    assert result.exit_code == 0, result.output
    login(client, "admin", "password-123")
    assert client.get("/api/v1/me").json == {
        "name": "admin",
        "role": "network_admin",
        "scope": None,
    }
    assert client.patch("/api/v1/points/QX", json={"address": "x"}).status_code == 401


def test_wrong_password_is_refused(app, client, network):
    app.test_cli_runner().invoke(
        args=["users", "add", "admin", "--role", "network_admin", "--password", "password-123"]
    )
    from tests.conftest import csrf_token

    response = client.post(
        "/login", data={"username": "admin", "password": "nope", "csrf_token": csrf_token(client)}
    )
    assert response.status_code == 401
    assert "用户名或密码错误" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["users", "add", "b", "--role", "branch_librarian", "--password", "password-123"],
            "a branch librarian needs --scope CODE",
        ),
        (
            ["users", "add", "c", "--role", "cataloguer", "--password", "short"],
            "password must have at least 8 characters",
        ),
        (["tokens", "create", "--terminal", "kiosk"], "a terminal token needs --location CODE"),
        (
            ["tokens", "create", "--terminal", "kiosk", "--location", "NOWHERE"],
            "no service point with code NOWHERE",
        ),
    ],
)
def test_cli_account_errors_say_what_to_fix(app, network, args, message):
    result = app.test_cli_runner().invoke(args=args)
    assert result.exit_code != 0
    assert message in result.output + result.stderr


def test_terminal_token_from_cli_acts_at_its_point(app, client, network):
    result = app.test_cli_runner().invoke(
        args=["tokens", "create", "--terminal", "kiosk-1", "--location", "QX01"]
    )
    assert result.exit_code == 0, result.output + result.stderr
    secret = result.output.strip()
    assert secret.startswith("tj_")
    me = client.get("/api/v1/me", headers=bearer(secret)).json
    assert me == {"name": "kiosk-1", "role": "terminal", "scope": "QX01"}
