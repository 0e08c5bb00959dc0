"""Start gunicorn on a free loopback port for a benchmark, and stop it afterwards."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = str(Path(sys.executable).parent / "gunicorn")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def gunicorn(target: str, env: dict[str, str] | None = None, workers: int = 2, threads: int = 16,
             chdir: Path = ROOT):
    port = free_port()
    process = subprocess.Popen(
        [GUNICORN, "-k", "gthread", "-w", str(workers), "--threads", str(threads),
         "-b", f"127.0.0.1:{port}", "--log-level", "warning", target],
        cwd=chdir, env={**os.environ, **(env or {})},
    )
    try:
        for _ in range(200):
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.1):
                break
            time.sleep(0.05)
        else:
            raise RuntimeError(f"gunicorn {target} did not start")
        yield port
    finally:
        process.terminate()
        process.wait(10)
