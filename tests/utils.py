"""Helpers for tests that start the project in another process."""

import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

# Variables that select services or modes; a child process starts without them.
_PROJECT_PREFIXES = ("DJANGO_", "DATABASE_", "REDIS_", "CELERY_", "AWS_", "EMAIL_")


def clean_env(**overrides: str) -> dict[str, str]:
    """This process's environment minus the project's settings, plus `overrides`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_PROJECT_PREFIXES)}
    env.update(
        DJANGO_READ_DOT_ENV="false", DJANGO_SETTINGS_MODULE="marketplace.settings"
    )
    env.update(overrides)
    return env


def production_env(**overrides: str) -> dict[str, str]:
    """A complete production configuration; the services need not be reachable."""
    production = {
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "market.example.com",
        "DJANGO_CSRF_TRUSTED_ORIGINS": "https://market.example.com",
        "SITE_URL": "https://market.example.com",
        "DATABASE_URL": "postgis://marketplace:secret@db.invalid:5432/marketplace",
        "REDIS_URL": "redis://redis.invalid:6379/0",
        # A real payment provider (the sandbox gives money away: wallet.W001).
        "PAYMENT_PROVIDER": "stripe",
        "STRIPE_SECRET_KEY": "sk_live_placeholder",
        "STRIPE_WEBHOOK_SECRET": "whsec_placeholder",
    }
    return clean_env(**{**production, **overrides})


def manage(*args: str, env: dict[str, str], timeout: float = 180):
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def python(code: str, *, env: dict[str, str], timeout: float = 120):
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_http(url: str, *, process: subprocess.Popen, timeout: float = 60) -> None:
    """Wait until `url` answers (any status), or fail if `process` exits."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(url, timeout=2)  # noqa: S310 - a local test URL
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            if process.poll() is not None:
                raise AssertionError(
                    f"server exited with {process.returncode}"
                ) from None
            if time.monotonic() > deadline:
                raise AssertionError(f"{url} did not answer in {timeout}s") from None
            time.sleep(0.2)
