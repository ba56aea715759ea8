"""One error shape for the API, plain pages for people.

API errors are ``{"error": {"code": ..., "message": ..., "details": {...}}}``
with the HTTP status; the message is in the caller's language.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from sqlalchemy.exc import DataError
from werkzeug.exceptions import HTTPException

from catalog.errors import DomainError

# Messages for HTTP errors raised by the framework, in both languages.
HTTP_MESSAGES = {
    400: ("bad request", "请求有误"),
    401: ("sign in or send a bearer token", "请先登录或提供访问令牌"),
    403: ("you may not do this", "没有权限执行此操作"),
    404: ("not found", "未找到"),
    405: ("method not allowed", "不支持该请求方法"),
    409: ("conflict with the current state", "与当前状态冲突"),
    422: ("the request has invalid fields", "请求字段有误"),
    500: ("internal error; the administrator has been told", "系统内部错误"),
}


def language() -> str:
    return str(get_locale() or "zh_CN")


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.path == "/healthz"


def error_body(code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details or {}}}


def http_error_code(exc: HTTPException) -> str:
    return (exc.name or "error").lower().replace(" ", "_")


def handle_http_exception(exc: HTTPException) -> ResponseReturnValue:
    status = exc.code or 500
    en, zh = HTTP_MESSAGES.get(status, (exc.name or "error", exc.name or "错误"))
    message = en if language().startswith("en") else zh
    details: dict[str, Any] = {}
    data = getattr(exc, "data", None)
    if data and data.get("messages"):  # webargs validation errors, field by field
        details["fields"] = data["messages"]
    elif exc.description and status != 500:
        details["reason"] = exc.description
    if wants_json():
        return jsonify(error_body(http_error_code(exc), message, details)), status
    return render_template("error.html", status=status, message=message), status


def handle_domain_error(exc: DomainError) -> ResponseReturnValue:
    message = exc.message(language())
    if wants_json():
        return jsonify(error_body(exc.code, message, exc.details)), exc.http_status
    return render_template("error.html", status=exc.http_status, message=message), exc.http_status


def handle_data_error(exc: DataError) -> ResponseReturnValue:
    """A value the database refused as out of its range (an id beyond PostgreSQL's integer,
    a text longer than its column): the caller's input, so a 422, never a 500."""
    from app.db import get_session

    get_session().rollback()
    english = language().startswith("en")
    message = "a value is out of range or too long" if english else "有取值超出范围或过长"
    if wants_json():
        return jsonify(error_body("value_out_of_range", message)), 422
    return render_template("error.html", status=422, message=message), 422


def init_app(app: Flask) -> None:
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(DomainError, handle_domain_error)
    app.register_error_handler(DataError, handle_data_error)
