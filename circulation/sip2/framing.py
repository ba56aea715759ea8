"""SIP2 on the wire: messages cut out of a byte stream, and the AY/AZ error-detection trailer.

SIP-FRAME-1 A message ends at a carriage return; a line feed after it (CR LF) or
            alone is accepted too, and empty lines are skipped.
SIP-FRAME-2 Bytes arrive as TCP delivers them: a message split across segments is
            put together, several in one segment are answered one by one, in order.
SIP-FRAME-3 A message longer than ``MAX_MESSAGE`` bytes is dropped and answered
            with 96 (request SC resend).
SIP-FRAME-4 The checksum is the two's complement of the 16-bit sum of every byte
            from the first through the ``AZ``, written as four hex digits; we send
            them upper case, and read either case (and a checksum whose leading
            zeros were left out, as some clients write it).
SIP-FRAME-5 A message with a trailer (``AY`` sequence number, ``AZ`` checksum)
            whose checksum does not match is answered with 96 and not acted on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_MESSAGE = 8192
_TRAILER = re.compile(rb"(?:AY([0-9]))?AZ([0-9A-Fa-f]{1,4})$")
_SEQUENCE_ONLY = re.compile(rb"AY([0-9])$")


def checksum(data: bytes) -> str:
    """SIP-FRAME-4: four upper-case hex digits for ``data`` (which ends with ``AZ``)."""
    return f"{(-sum(data)) & 0xFFFF:04X}"


@dataclass(frozen=True)
class Frame:
    """One message as received: its body (without trailer), and the trailer if it had one."""

    body: bytes
    sequence: str | None = None
    has_checksum: bool = False
    checksum_ok: bool = True
    too_long: bool = False

    @property
    def signed(self) -> bytes:
        """The bytes a retry repeats exactly: the body and its sequence number."""
        return self.body + (b"AY" + self.sequence.encode() if self.sequence is not None else b"")


def parse_frame(raw: bytes) -> Frame:
    """Split off and check the trailer of one message (without its terminator)."""
    if len(raw) > MAX_MESSAGE:
        return Frame(b"", too_long=True)
    match = _TRAILER.search(raw)
    if match is None:
        only = _SEQUENCE_ONLY.search(raw)
        if only is not None:
            return Frame(raw[: only.start()], sequence=only.group(1).decode())
        return Frame(raw)
    given = int(match.group(2), 16)
    prefix = raw[: match.end() - len(match.group(2))]
    ok = (sum(prefix) + given) & 0xFFFF == 0
    sequence = match.group(1).decode() if match.group(1) else None
    return Frame(raw[: match.start()], sequence, has_checksum=True, checksum_ok=ok)


def with_trailer(body: bytes, sequence: str | None) -> bytes:
    """A response with AY (echoing the request's sequence number) and AZ."""
    data = body + b"AY" + (sequence or "0").encode() + b"AZ"
    return data + checksum(data).encode() + b"\r"


def plain(body: bytes) -> bytes:
    return body + b"\r"


class Framer:
    """SIP-FRAME-1..3: feed it bytes as they arrive, take out whole messages."""

    def __init__(self) -> None:
        self._buffer = b""
        self._discarding = False  # inside a message that was too long, until its terminator

    def feed(self, data: bytes) -> list[bytes]:
        parts = re.split(rb"[\r\n]", self._buffer + data)
        self._buffer = parts.pop()
        if self._discarding and parts:
            parts[0], self._discarding = b"", False
        messages = [p for p in parts if p]
        if len(self._buffer) > MAX_MESSAGE:  # no terminator in sight: answer once, drop the rest
            messages.append(OVERSIZED)
            self._buffer, self._discarding = b"", True
        elif self._discarding:
            self._buffer = b""
        return messages


OVERSIZED = b"\x00" * (MAX_MESSAGE + 1)
