"""A real ``accord serve`` process on a free 127.0.0.1 port, stopped by the test that started it."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx


def stop_process(proc: subprocess.Popen[bytes]) -> None:
    """Terminate, then kill if it has not gone within 15 seconds."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class NodeProcess:
    def __init__(self, data_dir: Path, database_url: str | None = None, workers: int = 1) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "ACCORD_DATA_DIR": str(data_dir)}
        env.pop("ACCORD_DATABASE_URL", None)
        if database_url:
            env["ACCORD_DATABASE_URL"] = database_url
        # uvicorn says "Application startup complete." once per worker at level info: with several
        # workers, ready means all of them, or the first connections all go to the first one up
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "accord", "serve", "--json", "--port", str(self.port), "--workers", str(workers),
             "--log-level", "info" if workers > 1 else "warning"],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self._workers = workers
        self._started = 0
        self._all_started = threading.Event()
        self._stderr: list[str] = []
        threading.Thread(target=self._read_stderr, daemon=True).start()
        first = self.proc.stdout.readline() if self.proc.stdout else b""  # serve --json: one line at start
        self.admin_key: str | None = json.loads(first)["api_key"] if first.strip().startswith(b"{") else None
        self._wait_ready()

    def _read_stderr(self) -> None:
        """Drain the node's standard error (so it never blocks on a full pipe), counting started workers."""
        assert self.proc.stderr is not None
        for raw in self.proc.stderr:
            line = raw.decode(errors="replace")
            self._stderr.append(line)
            if "Application startup complete" in line:
                self._started += 1
                if self._started >= self._workers:
                    self._all_started.set()

    def _wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                time.sleep(0.2)  # the rest of its standard error
                raise RuntimeError(f"node exited: {''.join(self._stderr)}")
            try:
                if httpx.get(self.url + "/", timeout=1).status_code == 200 and (
                        self._workers == 1 or self._all_started.wait(max(0.0, deadline - time.monotonic()))):
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("node did not start listening in time")

    def stop(self) -> None:
        stop_process(self.proc)
