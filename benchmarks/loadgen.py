"""A small closed-loop HTTP/1.1 load generator for the benchmarks (asyncio, keep-alive).

Each virtual user holds one connection and sends its next request as soon as the last one is
answered. Traffic goes only to the loopback address of a server the benchmark started itself.
"""

from __future__ import annotations

import asyncio
import json
import re
import statistics
import time
from dataclasses import dataclass, field
from http.cookies import SimpleCookie

CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Stats:
    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)

    def add(self, name: str, seconds: float, ok: bool) -> None:
        self.latencies.setdefault(name, []).append(seconds)
        if not ok:
            self.errors[name] = self.errors.get(name, 0) + 1

    def report(self, name: str, elapsed: float) -> str:
        values = sorted(self.latencies.get(name, []))
        if not values:
            return f"{name}: no requests"
        p50 = statistics.median(values) * 1000
        p99 = values[min(len(values) - 1, int(len(values) * 0.99))] * 1000
        return (f"{name}: {len(values) / elapsed:,.0f} req/s, p50 {p50:.1f} ms, p99 {p99:.1f} ms, "
                f"errors {self.errors.get(name, 0)} of {len(values)}")


class Client:
    """One keep-alive connection with its own cookies."""

    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.cookies: dict[str, str] = {}
        self.reader = self.writer = None

    async def connect(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    async def request(self, method: str, path: str, body: bytes = b"",
                      headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        if self.writer is None:
            await self.connect()
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}",
                 "Connection: keep-alive", f"Content-Length: {len(body)}"]
        if self.cookies:
            lines.append("Cookie: " + "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        for key, value in (headers or {}).items():
            lines.append(f"{key}: {value}")
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        await self.writer.drain()
        status_line = await self.reader.readline()
        if not status_line:
            self.writer = None
            raise ConnectionError("connection closed")
        status = int(status_line.split()[1])
        length, chunked, close = 0, False, False
        while True:
            line = (await self.reader.readline()).decode("latin-1").strip()
            if not line:
                break
            name, _, value = line.partition(":")
            name = name.lower()
            if name == "content-length":
                length = int(value)
            elif name == "transfer-encoding" and "chunked" in value.lower():
                chunked = True
            elif name == "connection" and "close" in value.lower():
                close = True
            elif name == "set-cookie":
                cookie = SimpleCookie()
                cookie.load(value.strip())
                for key, morsel in cookie.items():
                    self.cookies[key] = morsel.value
        if chunked:
            data = b""
            while True:
                size = int((await self.reader.readline()).strip(), 16)
                chunk = await self.reader.readexactly(size + 2)
                if size == 0:
                    break
                data += chunk[:-2]
        else:
            data = await self.reader.readexactly(length) if length else b""
        if close:
            self.writer.close()
            self.writer = None
        return status, data

    async def timed(self, stats: Stats, name: str, method: str, path: str, body: bytes = b"",
                    headers: dict[str, str] | None = None, ok=(200,)) -> tuple[int, bytes]:
        start = time.perf_counter()
        reused = self.writer is not None
        try:
            try:
                status, data = await self.request(method, path, body, headers)
            except (ConnectionError, asyncio.IncompleteReadError, OSError):
                if not reused:
                    raise
                # The server closed an idle keep-alive connection: reconnect and send again,
                # as a browser does.
                self.writer = None
                status, data = await self.request(method, path, body, headers)
        except (ConnectionError, asyncio.IncompleteReadError, OSError):
            stats.add(name, time.perf_counter() - start, False)
            self.writer = None
            return 0, b""
        stats.add(name, time.perf_counter() - start, status in ok)
        return status, data


async def run_users(users: int, seconds: float, scenario) -> tuple[Stats, float]:
    """Run `scenario(client, stats, deadline)` for each user; returns stats and elapsed time."""
    stats = Stats()
    deadline = time.perf_counter() + seconds
    start = time.perf_counter()
    await asyncio.gather(*(scenario(stats, deadline) for _ in range(users)))
    return stats, time.perf_counter() - start


def json_body(data: dict) -> bytes:
    return json.dumps(data).encode()
