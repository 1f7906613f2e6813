"""SMTP sink for sendwatch's integration tests: a real aiosmtpd server on
127.0.0.1 that stores every accepted message as DIR/<seq>.eml + DIR/<seq>.json.

Run with /usr/bin/python3 (Debian's python3-aiosmtpd). The first stdout line
is `PORT <n>`. Exits on SIGTERM/SIGINT or when stdin closes, so a test process
that dies without cleaning up does not leave the server behind.
Exit status 3 means aiosmtpd could not be imported (the Rust helper treats
that as "SMTP tests unavailable" rather than a bug in this script).
"""

import argparse
import asyncio
import json
import logging
import os
import signal
import ssl
import sys
import threading
import warnings

try:
    from aiosmtpd.smtp import SMTP, AuthResult
except ImportError as e:  # pragma: no cover - depends on the machine
    print(f"aiosmtpd unavailable: {e}", file=sys.stderr, flush=True)
    sys.exit(3)


def parse_args():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--out", required=True, help="directory for received messages")
    p.add_argument("--refuse-rcpt", action="append", default=[], metavar="ADDR",
                   help="answer RCPT for ADDR with 550 (repeatable)")
    p.add_argument("--refuse-data", type=int, metavar="CODE",
                   help="answer the end of DATA with this code (e.g. 554, 451)")
    p.add_argument("--stall", action="store_true",
                   help="accept connections and never greet (a server that hangs)")
    p.add_argument("--drop-after-data", action="append", default=[], metavar="ADDR",
                   help="for mail to ADDR: store the message, then close the connection "
                        "without the 250 (repeatable)")
    p.add_argument("--drop-after-data-times", type=int, default=0, metavar="N",
                   help="drop only the first N such messages (0: every one)")
    p.add_argument("--auth-user")
    p.add_argument("--auth-password")
    p.add_argument("--tls", choices=["starttls", "implicit"],
                   help="offer and require STARTTLS, or speak TLS from the first byte")
    p.add_argument("--tls-cert", help="the server's certificate chain (PEM)")
    p.add_argument("--tls-key", help="the server's private key (PEM)")
    a = p.parse_args()
    if a.tls is not None and (a.tls_cert is None or a.tls_key is None):
        p.error("--tls needs --tls-cert and --tls-key")
    if (a.auth_user is None) != (a.auth_password is None):
        p.error("--auth-user and --auth-password go together")
    if a.refuse_data is not None and not 400 <= a.refuse_data <= 599:
        p.error("--refuse-data must be a 4xx or 5xx code")
    return a


def write_atomic(path, data: bytes):
    # Temp names start with '.' and end in .tmp so readers globbing
    # <seq>.eml / <seq>.json never see a half-written file.
    d, name = os.path.split(path)
    tmp = os.path.join(d, f".{name}.tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.rename(tmp, path)


class Handler:
    def __init__(self, args):
        self.out = args.out
        self.refuse_rcpt = {a.lower() for a in args.refuse_rcpt}
        self.refuse_data = args.refuse_data
        self.drop_after_data = {a.lower() for a in args.drop_after_data}
        self.drop_times = args.drop_after_data_times
        self.dropped = 0
        self.seq = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self.refuse_rcpt:
            return "550 5.1.1 mailbox unavailable"
        # Defining this hook means we must record accepted recipients ourselves.
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.refuse_data is not None:
            code = self.refuse_data
            return f"{code} {code // 100}.0.0 message refused by test sink"
        self.seq += 1
        seq = self.seq
        # original_content is the DATA payload as received (CRLF kept,
        # only SMTP dot-stuffing removed).
        write_atomic(os.path.join(self.out, f"{seq}.eml"), envelope.original_content)
        auth = session.auth_data if session.authenticated else None
        meta = {
            # Whether the message came over TLS (after STARTTLS, or from the first byte).
            "tls": server.transport.get_extra_info("ssl_object") is not None,
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "auth_login": auth.login.decode("utf-8", "replace") if auth else None,
            "auth_password": auth.password.decode("utf-8", "replace") if auth else None,
        }
        # The .json goes last: its presence means the .eml is complete.
        write_atomic(os.path.join(self.out, f"{seq}.json"),
                     json.dumps(meta).encode("utf-8"))
        if self.should_drop(envelope):
            # Stored (as a real server may have queued it), then gone before the 250.
            self.dropped += 1
            server.transport.abort()
            return "421 4.4.2 (never seen: the connection is already closed)"
        return "250 2.0.0 OK queued"

    def should_drop(self, envelope):
        if not any(a.lower() in self.drop_after_data for a in envelope.rcpt_tos):
            return False
        return self.drop_times == 0 or self.dropped < self.drop_times


class Creds:
    """Stored login/password; AuthResult.auth_data ends up in session.auth_data."""

    def __init__(self, login: bytes, password: bytes):
        self.login = login
        self.password = password


def make_authenticator(user: str, password: str):
    want = (user.encode("utf-8"), password.encode("utf-8"))

    def authenticator(server, session, envelope, mechanism, auth_data):
        # Builtin PLAIN/LOGIN hand us a LoginPassword(login, password).
        ok = (auth_data.login, auth_data.password) == want
        if not ok:
            return AuthResult(success=False, handled=False)
        return AuthResult(success=True, auth_data=Creds(*want))

    return authenticator


async def main():
    args = parse_args()
    os.makedirs(args.out, exist_ok=True)
    handler = Handler(args)
    loop = asyncio.get_running_loop()

    smtp_kwargs = {
        # A fixed hostname avoids socket.getfqdn(), which can stall on DNS.
        "hostname": "sendwatch-test-sink",
    }
    if args.auth_user is not None:
        smtp_kwargs.update(
            auth_required=True,
            auth_require_tls=False,  # tests speak plaintext on loopback
            authenticator=make_authenticator(args.auth_user, args.auth_password),
        )

    ssl_context = None
    if args.tls is not None:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(args.tls_cert, args.tls_key)
        if args.tls == "starttls":
            smtp_kwargs.update(tls_context=ctx, require_starttls=True)
        else:
            ssl_context = ctx

    stalled = []

    class Stall(asyncio.Protocol):
        """Takes the connection and says nothing: the client waits for a greeting."""

        def connection_made(self, transport):
            stalled.append(transport)
            # Seen by the test: a client is now waiting inside its delivery.
            write_atomic(os.path.join(args.out, f"stalled.{len(stalled)}"), b"")

    factory = (Stall if args.stall else lambda: SMTP(handler, loop=loop, **smtp_kwargs))
    server = await loop.create_server(
        factory,
        host="127.0.0.1",
        port=0,
        ssl=ssl_context,
    )
    port = server.sockets[0].getsockname()[1]
    print(f"PORT {port}", flush=True)

    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    def watch_stdin():
        # EOF on stdin means our parent is gone (or let go of us).
        # os.read on the raw fd: a daemon thread blocked inside
        # sys.stdin.buffer holds its lock and aborts interpreter shutdown.
        try:
            while os.read(0, 4096):
                pass
        except Exception:
            pass
        loop.call_soon_threadsafe(stop.set)

    threading.Thread(target=watch_stdin, daemon=True).start()

    await stop.wait()
    # No wait_closed(): on newer Pythons it waits for idle clients to hang up.
    server.close()


if __name__ == "__main__":
    # aiosmtpd warns (per connection) that AUTH without TLS is insecure;
    # that is the point of this sink, so keep stderr quiet.
    warnings.filterwarnings("ignore")
    logging.getLogger("mail.log").setLevel(logging.ERROR)
    asyncio.run(main())
