"""A SIP2 server on a free local port, over the small network of tests/circulation, and clients.

``sip`` starts the real server (circulation/sip2/server.py) in a thread on the
test's database, with three terminal accounts: ``kiosk-qx01`` at the branch
QX01 (UTF-8, checksums), ``kiosk-gb`` at QX01 (GB18030) and ``kiosk-plain``
at QX01 (no error detection). ``Raw`` speaks bytes; the PyPI client ``sip2``
(package Sip2 1.1) is used for the ordinary flows.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from circulation.sip2.framing import checksum
from circulation.sip2.server import Sip2Server
from circulation.sip2.terminals import add_terminal
from tests.circulation.conftest import Circ, circ  # noqa: F401 (the fixture)

PASSWORD = "kiosk-pass"
DATE = "20261201    100000"
BLANK = " " * 18


@dataclass
class Sip:
    port: int
    circ: Circ
    server: Sip2Server

    def raw(self, login: str | None = "kiosk-qx01", encoding: str = "utf-8") -> Raw:
        client = Raw(self.port, encoding)
        if login is not None:
            assert client.ask(f"9300CN{login}|CO{PASSWORD}|CPQX01|") == "941"
        return client


class Raw:
    """A socket that sends SIP2 text and reads responses up to their CR."""

    def __init__(self, port: int, encoding: str = "utf-8") -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.encoding = encoding
        self.buffer = b""
        self.sequence = 0

    def close(self) -> None:
        self.sock.close()

    def frame(self, text: str, sequence: int | None = None) -> bytes:
        """``text`` with AY and a right AZ, and CR."""
        seq = self.sequence if sequence is None else sequence
        self.sequence = (seq + 1) % 10
        data = text.encode(self.encoding) + f"AY{seq}AZ".encode()
        return data + checksum(data).encode() + b"\r"

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def read(self) -> bytes:
        while b"\r" not in self.buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("server closed the connection")
            self.buffer += chunk
        message, self.buffer = self.buffer.split(b"\r", 1)
        return message

    def ask(self, text: str, sequence: int | None = None) -> str:
        """Send with a trailer; return the response body after checking its trailer."""
        self.send(self.frame(text, sequence))
        return body(self.read(), self.encoding)


def body(message: bytes, encoding: str = "utf-8") -> str:
    """A response without its AY/AZ trailer, after checking the checksum it carries."""
    head, _, given = message.rpartition(b"AZ")
    assert head, message
    assert (sum(head + b"AZ") + int(given, 16)) & 0xFFFF == 0, message
    text = head.decode(encoding)
    return text[: text.rindex("AY")]


def fields(response: str, start: int) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for item in response[start:].split("|"):
        if len(item) >= 2:
            out.setdefault(item[:2], []).append(item[2:])
    return out


@pytest.fixture
def sip(app, circ) -> Iterator[Sip]:  # noqa: F811
    db = circ.db
    add_terminal(db, "kiosk-qx01", PASSWORD, "QX01")
    add_terminal(db, "kiosk-gb", PASSWORD, "QX01", encoding="gb18030")
    add_terminal(db, "kiosk-plain", PASSWORD, "QX01", error_detection=False)
    db.commit()
    server = Sip2Server(app.extensions["tongjie.sessionmaker"], ("127.0.0.1", 0), idle_timeout=5)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Sip(server.server_address[1], circ, server)
    finally:
        server.shutdown()
        server.server_close()
