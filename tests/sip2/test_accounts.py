"""Terminal accounts from the command line, the served command with worker processes, and the
readers' PIN lockout shared by the SIP2 server and the kiosk page (docs/sip2.md)."""

from __future__ import annotations

import datetime as dt
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import select

from catalog.db import utcnow
from circulation.pins import LOCKOUT, MAX_FAILURES, PinCheck, check_pin
from circulation.sip2.terminals import Sip2Terminal
from tests.sip2.conftest import PASSWORD, Raw

ROOT = Path(__file__).resolve().parents[2]


def run(app, *args):
    result = app.test_cli_runner().invoke(args=["sip2", "terminals", *args])
    return result.exit_code, result.output + (result.stderr or "")


def test_sip_account_1_sip_account_5_terminals_add_list_disable_remove(app, network, db):
    code, out = run(app, "add", "kiosk-1", "--password", "s3cret-pw", "--location", "QX01V01")
    assert code == 0 and "terminal kiosk-1 at QX01V01 (institution QX)" in out
    code, out = run(app, "add", "kiosk-2", "--password", "s3cret-pw", "--location", "QX02",
                    "--institution", "QX-LIB", "--encoding", "gb18030", "--no-error-detection")  # fmt: skip
    assert code == 0
    stored = db.scalar(select(Sip2Terminal).where(Sip2Terminal.login == "kiosk-1"))
    assert "s3cret-pw" not in stored.password_hash and stored.check_password("s3cret-pw")
    code, out = run(app, "list")
    assert "kiosk-1\tQX01V01\tQX\tutf-8\tchecksums\tenabled\tlast login never" in out
    assert "kiosk-2\tQX02\tQX-LIB\tgb18030\tno checksums\tenabled" in out
    assert run(app, "disable", "kiosk-1")[0] == 0
    assert "kiosk-1\tQX01V01\tQX\tutf-8\tchecksums\tdisabled" in run(app, "list")[1]
    assert run(app, "remove", "kiosk-2")[0] == 0
    assert "kiosk-2" not in run(app, "list")[1]
    for args, message in (
        (("add", "kiosk-1", "--password", "s3cret-pw", "--location", "QX01"), "already exists"),
        (("add", "k 3", "--password", "s3cret-pw", "--location", "QX01"), "letters, digits"),
        (("add", "k3", "--password", "short", "--location", "QX01"), "at least 6"),
        (("add", "k3", "--password", "s3cret-pw", "--location", "NOWHERE"), "NOWHERE"),
        (("remove", "nobody"), "no terminal nobody"),
    ):
        code, out = run(app, *args)
        assert code != 0 and message in out, (args, out)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_sip_server_2_serve_command_with_two_worker_processes(app, network, db):
    run(app, "add", "kiosk-qx01", "--password", PASSWORD, "--location", "QX01")
    port = free_port()
    env = {**os.environ, "TONGJIE_DATABASE_URL": app.config["DATABASE_URL"],
           "TONGJIE_SECRET_KEY": "test-secret-key"}  # fmt: skip
    env.pop("TONGJIE_ELASTICSEARCH_URL", None)
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "tongjie"), "sip2", "serve", "--port", str(port), "--workers", "2"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        clients = []
        for _ in range(100):
            try:
                clients.append(Raw(port))
                break
            except OSError:
                time.sleep(0.1)
        clients += [Raw(port) for _ in range(5)]
        for client in clients:
            assert client.ask(f"9300CNkiosk-qx01|CO{PASSWORD}|") == "941"
            assert client.ask("9900802.00").startswith("98Y")
        workers = subprocess.run(["pgrep", "-P", str(server.pid)], capture_output=True, text=True)
        assert len(workers.stdout.split()) == 1  # the first process and one more
    finally:
        server.send_signal(signal.SIGTERM)
        out, err = server.communicate(timeout=20)
    assert server.returncode == 0, err
    assert f"SIP2 on 127.0.0.1:{port} (plain TCP, 2 process(es))" in out
    assert "terminal kiosk-qx01 logged in" in err


def test_pin_1_pin_3_pin_4_check_and_reset(circ):
    patron = circ.patron("2000000001")
    nobody = circ.patron("2000000002")
    patron.set_pin("1234")
    db = circ.db
    assert check_pin(db, patron, "9999") == PinCheck.WRONG
    db.refresh(patron)
    assert patron.pin_failures == 1
    assert check_pin(db, patron, "1234") == PinCheck.OK
    db.refresh(patron)
    assert patron.pin_failures == 0
    assert check_pin(db, nobody, "") == PinCheck.NO_PIN
    assert "1234" not in (patron.pin_hash or "")


def test_pin_2_lockout_after_repeated_failures_then_open_again(circ):
    patron = circ.patron("2000000001")
    patron.set_pin("1234")
    db = circ.db
    now = utcnow()
    results = [check_pin(db, patron, "0000", now) for _ in range(MAX_FAILURES)]
    assert results[-1] == PinCheck.LOCKED and set(results[:-1]) == {PinCheck.WRONG}
    assert check_pin(db, patron, "1234", now + dt.timedelta(minutes=1)) == PinCheck.LOCKED
    later = now + LOCKOUT + dt.timedelta(seconds=1)
    assert check_pin(db, patron, "1234", later) == PinCheck.OK
    db.refresh(patron)
    assert patron.pin_failures == 0 and patron.pin_locked_until is None
