"""The whole API fuzzed from its own OpenAPI description (schemathesis): no answer is a 5xx (API-2).

Every operation gets generated requests, valid and invalid, sent once as an
anonymous caller and once with a network administrator's token, against a
small network with patrons, loans, holds and fines so that requests reach
past "not found". Bounded: ``TONGJIE_FUZZ_EXAMPLES`` examples per operation
(default 30); the generation is derandomised so a failure reproduces.
"""

from __future__ import annotations

import os
from decimal import Decimal

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from app import create_app
from catalog.network import point_by_code
from circulation.desk import Desk
from circulation.fines import charge
from circulation.hold_service import place_hold
from circulation.loans import checkout
from circulation.models import FineKind
from tests.circulation.conftest import Circ
from tests.conftest import bearer

EXAMPLES = int(os.environ.get("TONGJIE_FUZZ_EXAMPLES", "30"))


@pytest.fixture
def admin(db, network, make_token) -> dict[str, str]:
    """Data for the fuzzer to find, and an administrator's headers."""
    circ = Circ(db)
    record = circ.record()
    for n in range(1, 4):
        circ.copy(f"3100{n}", record, "QX")
    patron = circ.patron("20001")
    circ.patron("20002")
    checkout(db, circ.desk("QX01"), "20001", "31001")
    place_hold(db, circ.desk("QX"), circ.patron("20003"), record, point_by_code(db, "QX02"))
    charge(db, Desk(point_by_code(db, "QX"), "staff:fuzz"), patron, FineKind.MANUAL, Decimal("2"))
    db.commit()
    return bearer(make_token("network_admin"))


# The OpenAPI document does not depend on the data, so it is read once from an app of its own;
# each operation's test then sends its requests to that test's app (and database).
schema = schemathesis.openapi.from_wsgi(
    "/api/v1/openapi.json",
    create_app({"DATABASE_URL": "sqlite://", "SECRET_KEY": "fuzz", "TESTING": True}),
)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_api_2_no_input_gives_a_server_error(case, app, admin):
    case.call_and_validate(app=app, checks=[not_a_server_error])
    case.call_and_validate(app=app, headers=admin, checks=[not_a_server_error])
