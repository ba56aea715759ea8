"""Search backends behind one small interface: the embedded one and Elasticsearch."""

from __future__ import annotations

from typing import Any, Protocol

from elasticsearch import Elasticsearch
from elasticsearch import exceptions as es_exceptions


class SearchBackend(Protocol):
    name: str

    def status(self) -> dict[str, Any]:
        """Whether the backend answers, and its version where it has one."""
        ...


class EmbeddedBackend:
    """Search inside the database itself: up whenever the database is."""

    name = "embedded"

    def status(self) -> dict[str, Any]:
        return {"backend": self.name, "status": "ok"}


class ElasticsearchBackend:
    """An Elasticsearch node or cluster, with only the analysers built into the server."""

    name = "elasticsearch"

    def __init__(self, url: str, index_prefix: str, timeout: float = 2.0) -> None:
        self.url = url
        self.index_prefix = index_prefix
        self.client = Elasticsearch(url, request_timeout=timeout, retry_on_timeout=False)

    def status(self) -> dict[str, Any]:
        """Cluster health and server version; "down" with the reason when it does not answer.

        The minimal distribution has no ``GET /``, so the version comes from the nodes API.
        """
        try:
            health = self.client.cluster.health()
            nodes = self.client.nodes.info(node_id="_local", filter_path="nodes.*.version")
        except (es_exceptions.ApiError, es_exceptions.TransportError) as exc:
            return {"backend": self.name, "status": "down", "reason": type(exc).__name__}
        versions = sorted({n["version"] for n in nodes.get("nodes", {}).values()})
        state = "ok" if health["status"] in ("green", "yellow") else "degraded"
        return {
            "backend": self.name,
            "status": state,
            "cluster_status": health["status"],
            "version": versions[0] if versions else None,
            "index_prefix": self.index_prefix,
        }


def backend_for(elasticsearch_url: str | None, index_prefix: str) -> SearchBackend:
    """Elasticsearch when a URL is configured, otherwise the embedded search."""
    if elasticsearch_url:
        return ElasticsearchBackend(elasticsearch_url, index_prefix)
    return EmbeddedBackend()
