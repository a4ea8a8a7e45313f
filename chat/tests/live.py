"""An ASGI server (daphne, or uvicorn for comparison) in a subprocess, for
tests that need separate servers (two processes on one Redis) and for the
chat benchmark. The process sees the database
through the URL it is given, so the data it serves must be committed. Browser
tests use the harness's `asgi_live_server` instead (tests/browser/fixtures.py)."""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_env(**overrides) -> dict:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PYTEST", "DJANGO_SETTINGS"))
    }
    env.pop("REDIS_URL", None)
    env.pop("DATABASE_URL", None)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "marketplace.settings",
            "DJANGO_READ_DOT_ENV": "false",
            "DJANGO_DEBUG": "true",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update({k: str(v) for k, v in overrides.items() if v is not None})
    return env


# How each server is started on 127.0.0.1:<port>. uvicorn gets daphne's
# websocket behaviour: no per-message compression (daphne offers none), the
# same 1 MiB message limit, no lifespan (Django has none).
SERVER_ARGS = {
    "daphne": lambda port: ["daphne", "-b", "127.0.0.1", "-p", str(port)],
    "uvicorn": lambda port: [
        *("uvicorn", "--host", "127.0.0.1", "--port", str(port)),
        *("--ws", "websockets-sansio", "--ws-per-message-deflate", "false"),
        *("--ws-max-size", str(2**20), "--lifespan", "off"),
        *("--log-level", "warning", "--no-access-log"),
    ],
}


class LiveServer:
    def __init__(
        self,
        *,
        env: dict,
        kind: str = "daphne",
        port: int | None = None,
        log_path=None,
    ):
        self.kind = kind
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}"
        self._log = open(log_path, "wb") if log_path else subprocess.DEVNULL  # noqa: SIM115
        self.process = subprocess.Popen(
            [
                *(sys.executable, "-m", *SERVER_ARGS[kind](self.port)),
                "marketplace.asgi:application",
            ],
            cwd=BASE_DIR,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.kind} exited with {self.process.returncode}")
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=2) as r:  # noqa: S310
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        raise TimeoutError(f"{self.kind} on port {self.port} did not start")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        if self._log is not subprocess.DEVNULL:
            self._log.close()

    def rss_kib(self) -> int:
        """Resident memory of the server process (Linux /proc)."""
        with open(f"/proc/{self.process.pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0
