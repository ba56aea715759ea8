"""The SIP2 server: a TCP listener, a thread per terminal connection, worker processes.

SIP-SERVER-1 Kiosks keep their connection open all day: each connection has its own
             thread, blocked in ``recv`` while the kiosk is idle, and works one
             message at a time, in order. Why threads and not asyncio: every
             message is a few database statements through a blocking driver, so an
             event loop would hand each one to a thread pool anyway; a thread per
             connection is the same work with less machinery (docs/sip2.md has
             the measurements).
SIP-SERVER-2 With ``workers`` > 1 the listening socket is opened once and shared by
             that many processes (each accepts connections and has its own
             database pool): Python runs one thread at a time per process, so a
             second process lets the second core work.
SIP-SERVER-3 A connection that sends nothing for ``idle_timeout`` seconds is closed
             (the kiosk logs in again when it wakes); so is one whose peer went away.
SIP-SERVER-4 With a certificate and key, connections are TLS (the kiosk must speak
             TLS from the first byte).
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import socketserver
import ssl
import sys
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from circulation.sip2.conversation import Conversation
from circulation.sip2.framing import Framer

log = logging.getLogger("tongjie.sip2")
DEFAULT_IDLE_TIMEOUT = 600.0


class _Connection(socketserver.BaseRequestHandler):
    server: Sip2Server

    def handle(self) -> None:
        sock: socket.socket = self.request
        peer = f"{self.client_address[0]}:{self.client_address[1]}"
        sock.settimeout(self.server.idle_timeout)
        try:
            if isinstance(sock, ssl.SSLSocket):
                sock.do_handshake()
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conversation = Conversation(self.server.sessions, peer)
            framer = Framer()
            while True:
                data = sock.recv(65536)
                if not data:
                    break
                for message in framer.feed(data):
                    sock.sendall(conversation.respond(message))
        except TimeoutError:
            log.info("%s: idle for %ss: connection closed", peer, self.server.idle_timeout)
        except (OSError, ssl.SSLError) as exc:
            log.info("%s: connection ended: %s", peer, exc)


class Sip2Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(
        self,
        sessions: sessionmaker[Session] | None,
        address: tuple[str, int],
        *,
        idle_timeout: float = DEFAULT_IDLE_TIMEOUT,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.sessions: sessionmaker[Session] = sessions  # type: ignore[assignment]
        self.idle_timeout = idle_timeout
        self.tls = tls
        super().__init__(address, _Connection)

    def get_request(self) -> tuple[Any, Any]:
        sock, address = self.socket.accept()
        if self.tls is not None:
            sock = self.tls.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, address


def tls_context(certificate: str, key: str) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(certificate, key)
    return context


def serve(
    make_sessions: Callable[[], sessionmaker[Session]],
    host: str,
    port: int,
    *,
    workers: int = 1,
    idle_timeout: float = DEFAULT_IDLE_TIMEOUT,
    tls: ssl.SSLContext | None = None,
    ready: Callable[[tuple[str, int]], None] | None = None,
) -> None:
    """Listen on host:port until SIGTERM or Ctrl-C (SIP-SERVER-1..4).

    ``make_sessions`` is called in each worker process after it starts, so that no
    database connection is shared across a fork.
    """
    server = Sip2Server(None, (host, port), idle_timeout=idle_timeout, tls=tls)
    if ready is not None:
        ready((str(server.server_address[0]), int(server.server_address[1])))
    children: list[int] = []
    for _ in range(max(0, workers - 1)):
        pid = os.fork()
        if pid == 0:
            children = []
            break
        children.append(pid)

    def stop(_signum: int, _frame: Any) -> None:
        for child in children:
            os.kill(child, signal.SIGTERM)
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    server.sessions = make_sessions()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        stop(signal.SIGINT, None)
    finally:
        server.server_close()
        for child in children:
            os.waitpid(child, 0)
        sys.stdout.flush()
