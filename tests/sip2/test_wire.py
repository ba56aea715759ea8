"""SIP2 on the wire, driven with raw bytes over a real socket: frames, checksums, untidy kiosks,
login, resend, retries, many connections, idle timeout, TLS (docs/sip2.md)."""

from __future__ import annotations

import datetime as dt
import logging
import re
import socket
import ssl
import subprocess
import threading
import time
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from circulation.ledger import LedgerEntry
from circulation.models import Loan
from circulation.sip2.conversation import SUPPORTED
from circulation.sip2.framing import checksum
from circulation.sip2.server import Sip2Server, tls_context
from circulation.sip2.terminals import get_terminal
from tests.sip2.conftest import BLANK, DATE, PASSWORD, Raw, body, fields


def arrange(sip, copies=("3100000001",), home="QX01"):
    c = sip.circ
    patron = c.patron("2000000001")
    patron.set_pin("1234")
    record = c.record("红楼梦")
    for barcode in copies:
        c.copy(barcode, record, home)
    c.db.commit()
    return patron


def checkout_text(barcode="3100000001", card="2000000001", pin="1234"):
    return f"11NN{DATE}{BLANK}AOQX|AA{card}|AB{barcode}|AC|AD{pin}|"


def loans(db):
    db.expire_all()
    return db.scalar(select(func.count(Loan.id)))


def test_sip_frame_1_cr_crlf_lf_and_empty_lines(sip):
    client = Raw(sip.port)
    client.send(client.frame(f"9300CNkiosk-qx01|CO{PASSWORD}|")[:-1] + b"\r\n")
    assert body(client.read()) == "941"
    assert client.buffer in (b"", b"\n")
    client.send(b"\n\r\n" + client.frame("9900802.00")[:-1] + b"\n")
    assert body(client.read().lstrip(b"\n")).startswith("98Y")


def test_sip_frame_2_split_across_segments_and_several_in_one(sip):
    client = sip.raw()
    data = client.frame("9900802.00")
    for piece in (data[:3], data[3:20], data[20:]):
        client.send(piece)
        time.sleep(0.05)
    assert body(client.read()).startswith("98Y")
    client.send(client.frame(f"17{DATE}AOQX|AB1|") + client.frame("9900802.00"))
    assert body(client.read()).startswith("1801")
    assert body(client.read()).startswith("98Y")


def test_sip_frame_3_message_too_long_answered_96_and_connection_goes_on(sip):
    client = sip.raw()
    client.send(b"17" + b"x" * 9000)
    time.sleep(0.1)
    client.send(b"x" * 100 + b"AY1AZ0000\r")
    assert body(client.read()) == "96"
    assert client.ask("9900802.00").startswith("98Y")


def test_sip_frame_4_checksum_read_in_either_case_and_without_leading_zeros(sip):
    client = sip.raw()
    lower = client.frame("9900802.00").decode().replace("AZ", "az", 0)
    head, given = lower[:-5], lower[-5:-1]
    client.send((head + given.lower() + "\r").encode())
    assert body(client.read()).startswith("98Y")
    # find a message whose checksum starts with 0, and send it without that zero
    for pad in range(1000):
        data = f"17{DATE}AOQX|AB1|ZZ{'~' * pad}|AY1AZ".encode()
        if checksum(data).startswith("0"):
            break
    client.send(data + checksum(data)[1:].encode() + b"\r")
    answer = client.read()
    assert re.search(rb"AZ[0-9A-F]{4}$", answer), answer
    assert body(answer).startswith("1801")


def test_sip_frame_5_bad_checksum_answered_96_and_not_applied(sip):
    arrange(sip)
    client = sip.raw()
    good = client.frame(checkout_text())
    bad = good[:-5] + (b"0000" if good[-5:-1] != b"0000" else b"0001") + b"\r"
    client.send(bad)
    assert body(client.read()) == "96"
    assert loans(sip.circ.db) == 0


def test_sip_error_1_trailer_required_when_on_and_optional_when_off(sip):
    checked = sip.raw("kiosk-qx01")
    checked.send(b"9900802.00\r")
    assert body(checked.read()) == "96"
    plain = Raw(sip.port)
    plain.send(f"9300CNkiosk-plain|CO{PASSWORD}|\r".encode())
    assert plain.read() == b"941"
    plain.send(b"9900802.00\r")
    status = plain.read().decode()
    assert status.startswith("98Y") and "AZ" not in status
    assert plain.ask("9900802.00").startswith("98Y")  # answered with a checked trailer


def test_sip_codec_1_unknown_fields_ignored_first_of_repeated_counts(sip):
    arrange(sip)
    client = sip.raw()
    answer = client.ask(f"17{DATE}ZZwhatever|AOQX|AB3100000001|AB999|XX|")
    assert answer.startswith("1803")
    assert fields(answer, 26)["AB"] == ["3100000001"]
    nul = client.ask(f"17{DATE}AOQX|AB3100\x00000001\x1b|")  # control characters dropped
    assert nul.startswith("1803")


def test_sip_codec_2_cut_short_refused_with_its_own_response(sip):
    client = sip.raw()
    answer = client.ask("09N2026")
    assert answer.startswith("100NNY")
    assert "报文格式错误" in fields(answer, 24)["AF"][0]
    assert client.ask("11NN2026|AB1|").startswith("120NNN")


def test_sip_codec_3_values_never_carry_separators(sip):
    c = sip.circ
    c.copy("3100000009", c.record("甲|乙\r丙"), "QX01")
    c.db.commit()
    answer = sip.raw().ask(f"17{DATE}AOQX|AB3100000009|")
    assert fields(answer, 26)["AJ"] == ["甲 乙 丙"]


def test_sip_codec_4_eighteen_character_dates_in_local_time(sip):
    arrange(sip)
    client = sip.raw()
    answer = client.ask(checkout_text())  # the no-block due date is 18 blanks
    assert answer.startswith("121NNY")
    sent = answer[6:24]
    assert re.fullmatch(r"\d{8} {4}\d{6}", sent)
    local = dt.datetime.now(ZoneInfo("Asia/Shanghai"))
    moment = dt.datetime.strptime(sent, "%Y%m%d    %H%M%S").replace(tzinfo=local.tzinfo)
    assert abs((local - moment).total_seconds()) < 120
    due = fields(answer, 24)["AH"][0]
    assert re.fullmatch(r"\d{8}    235959", due)


def test_sip_error_2_bad_input_answered_connection_kept_and_logged_without_pins(sip, caplog):
    caplog.set_level(logging.INFO, logger="tongjie.sip2")
    client = sip.raw()
    garbage = b"\xff\xfe\x00garbageAY1AZ"
    client.send(garbage + checksum(garbage).encode() + b"\r")
    assert body(client.read()) == "96"
    assert client.ask("XY123|ADsecretpin|") == "96"
    assert client.ask(f"2300{DATE}AOQX|AA1|AD4321|").startswith("24")  # short language field
    wrong = client.ask(f"23019{DATE}AOELSEWHERE|AA1|AD4321|")
    assert "机构代码 ELSEWHERE 不符" in wrong
    assert client.ask("9900802.00").startswith("98Y")
    bad = Raw(sip.port)
    bad.ask("9300CNkiosk-qx01|COnot-the-password|")
    assert "secretpin" not in caplog.text and "4321" not in caplog.text
    assert "not-the-password" not in caplog.text
    assert "AD***" in caplog.text and "login refused" in caplog.text


def test_sip_login_1_nothing_before_login_and_wrong_logins_refused(sip):
    arrange(sip)
    client = Raw(sip.port)
    answer = client.ask(checkout_text())
    assert answer.startswith("120NNN") and "log in first" in answer
    assert client.ask("9900802.00").startswith("98NNNNNN")
    assert client.ask("9300CNkiosk-qx01|COwrong|") == "940"
    assert client.ask("9300CNnobody|COkiosk-pass|") == "940"
    terminal = get_terminal(sip.circ.db, "kiosk-qx01")
    terminal.enabled = False
    sip.circ.db.commit()
    assert client.ask(f"9300CNkiosk-qx01|CO{PASSWORD}|") == "940"
    assert loans(sip.circ.db) == 0


def test_sip_status_1_acs_status_fields(sip):
    answer = sip.raw().ask("9900802.00")
    assert answer[:8] == "98YYYYNN"
    assert answer[8:14] == "050003"
    assert re.fullmatch(r"\d{8} {4}\d{6}", answer[14:32])
    assert answer[32:36] == "2.00"
    found = fields(answer, 36)
    assert found["AO"] == ["QX"] and found["BX"] == [SUPPORTED]
    assert found["AM"] == ["城关镇分馆"] and found["AN"] == ["QX01"]


def test_sip_retry_1_resend_gives_the_last_response_again(sip):
    arrange(sip)
    client = sip.raw()
    client.send(client.frame(checkout_text()))
    first = client.read()
    client.send(b"97AZFEF5\r")
    assert client.read() == first
    client.send(b"97\r")
    assert client.read() == first
    assert loans(sip.circ.db) == 1
    fresh = Raw(sip.port)
    fresh.send(b"97\r")
    assert fresh.read() == b"96"


def test_sip_retry_2_a_transaction_sent_again_is_applied_once(sip):
    arrange(sip)
    db = sip.circ.db
    client = sip.raw()
    lend = client.frame(checkout_text(), sequence=4)
    client.send(lend)
    first = body(client.read())
    assert first.startswith("121")
    client.close()  # the response was "lost": the kiosk reconnects and sends it again
    again = sip.raw()
    again.send(lend)
    assert body(again.read())[24:] == first[24:]
    assert loans(db) == 1
    assert again.ask(checkout_text(), sequence=5).startswith("120")  # a new message: refused
    back = again.frame(f"09N{DATE}{DATE}APQX01|AOQX|AB3100000001|", sequence=6)
    again.send(back)
    returned = body(again.read())
    again.send(back)
    assert body(again.read())[24:] == returned[24:]
    db.expire_all()
    checkins = db.scalar(select(func.count(LedgerEntry.id)).where(LedgerEntry.event == "checkin"))
    assert checkins == 1


def test_sip_retry_2_twins_at_the_same_moment_one_loan_one_answer(sip):
    """The same checkout sent on two connections at once (a kiosk that gave up on the first
    and sent again): the second waits on the first's answer row, its commit fails on the
    key, and it answers with the first's answer."""
    arrange(sip)
    lend_text = checkout_text()
    clients = [sip.raw(), sip.raw()]
    frames = [client.frame(lend_text, sequence=7) for client in clients]
    assert frames[0] == frames[1]
    barrier = threading.Barrier(2)
    answers: list[str] = []

    def kiosk(n: int) -> None:
        barrier.wait()
        clients[n].send(frames[n])
        answers.append(body(clients[n].read()))

    threads = [threading.Thread(target=kiosk, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [a[:3] for a in answers] == ["121", "121"] and answers[0][24:] == answers[1][24:], (
        answers
    )
    assert loans(sip.circ.db) == 1


def test_sip_server_1_many_terminals_at_once(sip):
    c = sip.circ
    record = c.record("三国演义")
    for n in range(12):
        patron = c.patron(f"20000001{n:02d}")
        patron.set_pin("1234")
        c.copy(f"31000001{n:02d}", record, "QX01")
    c.db.commit()
    answers: list[str] = []

    def kiosk(n: int) -> None:
        client = sip.raw()
        for _ in range(3):
            lent = client.ask(checkout_text(f"31000001{n:02d}", f"20000001{n:02d}"))
            back = client.ask(f"09N{DATE}{DATE}APQX01|AOQX|AB31000001{n:02d}|")
            answers.extend([lent[:3], back[:3]])

    threads = [threading.Thread(target=kiosk, args=(n,)) for n in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers.count("121") == 36 and answers.count("101") == 36


def test_sip_server_3_idle_connection_closed(sip):
    sip.server.idle_timeout = 0.3
    client = sip.raw()
    time.sleep(0.8)
    client.sock.settimeout(2)
    assert client.sock.recv(10) == b""


def test_sip_server_4_tls(sip, tmp_path):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=localhost", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)  # fmt: skip
    server = Sip2Server(sip.server.sessions, ("127.0.0.1", 0), tls=tls_context(str(cert), str(key)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        context = ssl.create_default_context(cafile=str(cert))
        context.check_hostname = False
        raw = socket.create_connection(("127.0.0.1", server.server_address[1]), timeout=10)
        client = Raw.__new__(Raw)
        client.sock, client.encoding, client.buffer, client.sequence = (
            context.wrap_socket(raw), "utf-8", b"", 0)  # fmt: skip
        assert client.ask(f"9300CNkiosk-qx01|CO{PASSWORD}|") == "941"
        assert client.ask("9900802.00").startswith("98Y")
    finally:
        server.shutdown()
        server.server_close()
