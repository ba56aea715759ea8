"""A kiosk at the branch QX01: a SIP2 terminal account, a reader with a PIN, books on the shelf."""

from __future__ import annotations

import pytest

from circulation.sip2.terminals import add_terminal
from tests.circulation.conftest import Circ, circ  # noqa: F401 (the fixture)
from tests.conftest import csrf_token

LOGIN, PASSWORD = "kiosk-qx01", "kiosk-pass"
CARD, PIN = "2000000001", "1234"
BOOKS = {"3100000001": "红楼梦", "3100000002": "三国演义", "3100000003": "西游记"}


@pytest.fixture
def kiosk(app, circ):  # noqa: F811
    """The arranged network; KIOSK_IDLE_SECONDS is 60 unless a test changes it."""
    add_terminal(circ.db, LOGIN, PASSWORD, "QX01")
    patron = circ.patron(CARD, name="王秀英")
    patron.set_pin(PIN)
    for barcode, title in BOOKS.items():
        circ.copy(barcode, circ.record(title), "QX01")
    circ.copy("3100000009", circ.record("水浒传"), "QX02")
    circ.db.commit()
    return circ


def enrol(client) -> None:
    response = client.post("/kiosk/enrol", data={
        "login": LOGIN, "password": PASSWORD, "csrf_token": csrf_token(client, "/kiosk/enrol")})  # fmt: skip
    assert response.status_code == 302, response.get_data(as_text=True)


def sign_in(client, card: str = CARD, pin: str = PIN, next_: str = "kiosk.checkout"):
    return client.post("/kiosk/signin", data={
        "card": card, "pin": pin, "next": next_,
        "csrf_token": csrf_token(client, "/kiosk/signin")})  # fmt: skip
