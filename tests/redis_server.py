"""A throwaway Redis for the tests: Debian's redis-server on a free loopback port, its files in
a temporary folder, nothing saved to disk, stopped and deleted at the end. Nothing is mocked."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from .postgres_cluster import free_port


class RedisServer:
    def __init__(self, binary: str):
        self.binary = binary
        self.folder = Path(tempfile.mkdtemp(prefix="it-health-redis-"))
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    def start(self) -> RedisServer:
        from redis import Redis
        from redis.exceptions import ConnectionError as RedisConnectionError

        for _ in range(3):
            self.process = subprocess.Popen(
                [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                 "--appendonly", "no", "--dir", str(self.folder), "--protected-mode", "yes"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            deadline = time.monotonic() + 20
            while self.process.poll() is None:
                try:
                    Redis.from_url(self.url).ping()
                    return self
                except RedisConnectionError:
                    if time.monotonic() > deadline:
                        break
                    time.sleep(0.05)
            self.stop_process()
            # It exited: most likely another process (a second pytest-xdist worker, say) took
            # the free port before it could bind it. Try another one.
            self.port = free_port()
        raise RuntimeError("redis-server did not start")

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def flush(self) -> None:
        from redis import Redis

        Redis.from_url(self.url).flushall()

    def stop_process(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def stop(self) -> None:
        self.stop_process()
        shutil.rmtree(self.folder, ignore_errors=True)


def redis_binary() -> str | None:
    return shutil.which("redis-server")


def start_redis() -> RedisServer:
    """A started throwaway Redis; without redis-server, the missing tool is reported the way
    every required test tool is (a failure under `make test`, a skip run bare)."""
    from .tools import missing_tool

    binary = redis_binary()
    if binary is None:
        missing_tool("redis-server is not installed (Debian package redis-server)")
    return RedisServer(binary).start()
