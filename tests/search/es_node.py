"""A private Elasticsearch node, from the distribution scripts/services installed, to stop at will.

Tests that stop the search engine must not stop the shared node on port 9200
(other test runs use it), and the search benchmark wants a node with a larger
heap: this starts another node of the same installed distribution on its own
ports, with its own data and configuration folders, as the same unprivileged
user (Elasticsearch refuses to run as root). ``start`` and ``stop`` are
idempotent; ``cleanup`` stops the node and deletes its folders.

    node = PrivateNode(heap="512m")
    node.start()
    with node.stopped():
        ...  # the node is down here, and started again afterwards
    node.cleanup()
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

ES_USER = "tongjie-es"


def services_dir() -> Path:
    """Where scripts/services installs Elasticsearch (same rule as the script)."""
    if os.environ.get("TONGJIE_SERVICES_DIR"):
        return Path(os.environ["TONGJIE_SERVICES_DIR"])
    if os.getuid() == 0:
        return Path("/var/lib/tongjie-services")
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "tongjie-services"


def elasticsearch_home() -> Path | None:
    version = os.environ.get("TONGJIE_ES_VERSION", "8.19.3")
    home = services_dir() / f"elasticsearch-{version}"
    return home if (home / "bin" / "elasticsearch").exists() else None


def java_home() -> str | None:
    for candidate in (os.environ.get("ES_JAVA_HOME"), "/usr/lib/jvm/java-17-openjdk-amd64",
                      *sorted(str(p) for p in Path("/usr/lib/jvm").glob("java-17-openjdk-*"))):  # fmt: skip
        if candidate and Path(candidate, "bin", "java").exists():
            return candidate
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PrivateNode:
    def __init__(self, heap: str = "256m", port: int | None = None, base: Path | None = None):
        home = elasticsearch_home()
        if home is None:
            raise RuntimeError("Elasticsearch is not installed: run scripts/services start")
        self.home = home
        self.heap = heap
        self.port = port or free_port()
        self.transport_port = free_port()
        self.base = base or Path(tempfile.mkdtemp(prefix=f"tongjie-es-{self.port}-"))
        self.url = f"http://127.0.0.1:{self.port}"

    def answers(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/_cluster/health", timeout=2) as response:
                return bool(response.status == 200)
        except OSError:
            return False

    def _configure(self) -> Path:
        conf = self.base / "config"
        if not conf.exists():
            shutil.copytree(self.home / "config", conf)
        (conf / "elasticsearch.yml").write_text(
            "cluster.name: tongjie-private\n"
            f"node.name: private-{self.port}\n"
            "network.host: 127.0.0.1\n"
            f"http.port: {self.port}\n"
            f"transport.port: {self.transport_port}\n"
            "discovery.type: single-node\n"
            "xpack.security.enabled: false\n"
            f"path.data: {self.base / 'data'}\n"
            f"path.logs: {self.base / 'logs'}\n"
            "action.destructive_requires_name: false\n"
        )
        (conf / "jvm.options.d" / "heap.options").write_text(f"-Xms{self.heap}\n-Xmx{self.heap}\n")
        for sub in ("data", "logs"):
            (self.base / sub).mkdir(exist_ok=True)
        if os.getuid() == 0:
            self.base.chmod(0o755)
            subprocess.run(["chown", "-R", ES_USER, str(self.base)], check=True)
        return conf

    def start(self, timeout: float = 180) -> None:
        if self.answers():
            return
        java = java_home()
        if java is None:
            raise RuntimeError("no Java 17 under /usr/lib/jvm")
        conf = self._configure()
        command = [str(self.home / "bin" / "elasticsearch"), "-d", "-p", str(self.base / "es.pid")]
        if os.getuid() == 0:
            command = ["runuser", "-u", ES_USER, "--", *command]
        env = {**os.environ, "ES_JAVA_HOME": java, "ES_PATH_CONF": str(conf)}
        with (self.base / "console.log").open("ab") as log:
            subprocess.run(command, env=env, stdout=log, stderr=log, check=True)
        deadline = time.monotonic() + timeout
        while not self.answers():
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"private Elasticsearch on {self.url} did not start; see {self.base}"
                )
            time.sleep(0.5)

    def _pid(self) -> int | None:
        try:
            return int((self.base / "es.pid").read_text().strip())
        except (OSError, ValueError):
            return None

    def stop(self, timeout: float = 60) -> None:
        pid = self._pid()
        if pid is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.2)
        else:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(FileNotFoundError):
            (self.base / "es.pid").unlink()

    @contextlib.contextmanager
    def stopped(self) -> Iterator[None]:
        """The node is down inside the block and answering again after it."""
        self.stop()
        try:
            yield
        finally:
            self.start()

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.base, ignore_errors=True)
