"""The SIP2 server for self-check kiosks (自助借还机): 3M SIP2 2.00 over TCP.

framing.py  bytes on the wire: frames, the AY/AZ error-detection trailer, checksums
codec.py    messages: fixed fields and field codes in, responses out, the 18-character dates
terminals.py  terminal accounts (one SIP2 login per kiosk, bound to one point)
retries.py  a retried transaction gets the first answer again
patron_messages.py, item_messages.py  one handler per message, calling the service functions
conversation.py  one terminal's connection: login, error detection, resend, dispatch
server.py   sockets, threads, worker processes, idle timeout, TLS

The rules are numbered in docs/sip2.md (SIP-FRAME-n, SIP-CHECKIN-n, ...).
"""
