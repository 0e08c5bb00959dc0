"""A DNS server of the tests' own on loopback (dnslib), on a free port, over UDP and TCP, so the
email domain check is tested without the internet.

`DNSServer(zones)`: each zone is a domain that exists, with its TXT records by name (the zone
itself, `_dmarc.<zone>`, `<selector>._domainkey.<zone>`). A name inside a zone without records
answers NOERROR with nothing; a name outside every zone is NXDOMAIN. `SilentServer()` listens
on UDP and TCP and never answers (a server that is down or filtered).
"""

from __future__ import annotations

import socket
import threading

from dnslib import QTYPE, RCODE, RR, TXT
from dnslib.server import BaseResolver, DNSLogger
from dnslib.server import DNSServer as _Server


def _split(text: str) -> list[bytes]:
    """A TXT record's text as character-strings of at most 255 bytes."""
    data = text.encode()
    return [data[i:i + 255] for i in range(0, len(data), 255)] or [b""]


class _Zones(BaseResolver):
    def __init__(self, zones: dict[str, dict[str, list[str]]]):
        self.zones = zones
        self.asked: list[str] = []

    def resolve(self, request, handler):
        reply = request.reply()
        name = str(request.q.qname).rstrip(".").lower()
        self.asked.append(name)
        zone = next((z for z in self.zones if name == z or name.endswith("." + z)), None)
        if zone is None:
            reply.header.rcode = RCODE.NXDOMAIN
            return reply
        if request.q.qtype == QTYPE.TXT:
            for text in self.zones[zone].get(name, []):
                reply.add_answer(RR(request.q.qname, QTYPE.TXT, ttl=60, rdata=TXT(_split(text))))
        return reply


class _Quiet(DNSLogger):
    def __init__(self):
        super().__init__(log="-request,-reply,-truncated,-error,-recv,-send,-data",
                         prefix=False)


class DNSServer:
    """Answers from `zones` on 127.0.0.1, UDP and TCP on the same free port."""

    def __init__(self, zones: dict[str, dict[str, list[str]]]):
        self.resolver = _Zones(zones)
        for _ in range(20):  # a free UDP port whose TCP twin is free too
            udp = _Server(self.resolver, address="127.0.0.1", port=0, logger=_Quiet())
            port = udp.server.server_address[1]
            try:
                tcp = _Server(self.resolver, address="127.0.0.1", port=port, tcp=True,
                              logger=_Quiet())
            except OSError:
                udp.server.server_close()
                continue
            break
        else:
            raise RuntimeError("no free port for the test DNS server")
        self.udp, self.tcp, self.port = udp, tcp, port

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def asked(self) -> list[str]:
        return self.resolver.asked

    def __enter__(self) -> DNSServer:
        self.udp.start_thread()
        self.tcp.start_thread()
        return self

    def __exit__(self, *exc) -> None:
        for server in (self.udp, self.tcp):
            server.stop()
            server.server.server_close()


class SilentServer:
    """Takes queries on 127.0.0.1 (UDP and TCP) and never answers them."""

    def __init__(self):
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", 0))
        self.port = self.udp.getsockname()[1]
        self.tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            self.tcp.bind(("127.0.0.1", self.port))
            self.tcp.listen()
        except OSError:  # the TCP twin is taken: UDP alone is what the resolver tries first
            self.tcp.close()
            self.tcp = None
        self._stop = threading.Event()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def __enter__(self) -> SilentServer:
        return self

    def __exit__(self, *exc) -> None:
        self.udp.close()
        if self.tcp is not None:
            self.tcp.close()
