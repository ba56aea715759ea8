"""Configuration from the environment (names fixed by the interface contract).

- TONGJIE_DATABASE_URL: SQLAlchemy URL; default an SQLite file in the instance folder.
- TONGJIE_ELASTICSEARCH_URL: Elasticsearch node or cluster; unset means embedded search.
- TONGJIE_INDEX_PREFIX: prefix of index names; default ``tongjie``.
- TONGJIE_SECRET_KEY: signs sessions and keys the ID-number hash; default generated
  once into the instance folder.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any


def instance_secret(instance_path: str) -> str:
    """A secret kept in the instance folder, so a demo survives restarts without set-up.

    It must stay stable: it keys the hash of patrons' ID numbers.
    """
    path = Path(instance_path) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def from_environment(instance_path: str) -> dict[str, Any]:
    env = os.environ
    database_url = env.get("TONGJIE_DATABASE_URL") or (
        "sqlite:///" + str(Path(instance_path) / "tongjie.db")
    )
    return {
        "DATABASE_URL": database_url,
        "ELASTICSEARCH_URL": env.get("TONGJIE_ELASTICSEARCH_URL") or None,
        "INDEX_PREFIX": env.get("TONGJIE_INDEX_PREFIX") or "tongjie",
        "SECRET_KEY": env.get("TONGJIE_SECRET_KEY") or None,
    }


def static_settings() -> dict[str, Any]:
    """Settings that do not vary between sites."""
    return {
        "BABEL_DEFAULT_LOCALE": "zh_CN",
        "BABEL_DEFAULT_TIMEZONE": "Asia/Shanghai",
        "LANGUAGES": {"zh_CN": "中文", "en": "English"},
        "API_TITLE": "Tongjie 通借 API",
        "API_VERSION": "v1",
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/api/v1",
        "OPENAPI_JSON_PATH": "openapi.json",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "WTF_CSRF_TIME_LIMIT": None,
        "JSON_SORT_KEYS": False,
    }
