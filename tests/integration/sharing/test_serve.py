"""`gridweave serve` with several workers answers over HTTP without Nagle's 40 ms stalls."""

from __future__ import annotations

import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_with_two_workers_answers_promptly(tmp_path: Path) -> None:
    port = _free_port()
    url = f"sqlite:///{tmp_path / 'gridweave.sqlite'}"
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gridweave",
            "--database-url",
            url,
            "serve",
            "--port",
            str(port),
            "--workers",
            "2",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/openapi.json", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "gridweave serve did not start"
                time.sleep(0.2)
        times = []
        with httpx.Client(base_url=base) as client:
            for _ in range(30):
                started = time.perf_counter()
                response = client.get("/people", headers={"Accept-Language": "en"})
                times.append(time.perf_counter() - started)
                assert response.status_code == 401
                assert response.json()["code"] == "not_authenticated"
        # with Nagle on, every response waits ~40 ms for the client's delayed ACK
        assert statistics.median(times) < 0.02, f"median {statistics.median(times) * 1000:.1f} ms"
    finally:
        server.terminate()
        server.wait(timeout=30)
