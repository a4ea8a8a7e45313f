"""Background jobs: in-process by default, a real Celery worker in production."""

import subprocess
import sys
import uuid
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from marketplace.celery import app
from tests.utils import BASE_DIR


def test_worker_ping_runs_in_process_without_a_broker():
    out = StringIO()

    call_command("worker_ping", timeout=5, stdout=out)

    assert out.getvalue().startswith("A worker answered in ")


def test_worker_ping_rejects_a_nonsense_timeout():
    with pytest.raises(CommandError, match="--timeout must be positive"):
        call_command("worker_ping", timeout=0)


@pytest.fixture
def broker(settings):
    """Jobs go through Redis instead of running in-process."""
    app.conf.CELERY_TASK_ALWAYS_EAGER = False
    yield settings.CELERY_BROKER_URL
    app.conf.CELERY_TASK_ALWAYS_EAGER = True


@pytest.mark.services
def test_worker_ping_fails_when_no_worker_listens(broker):
    queue = f"nobody-{uuid.uuid4().hex}"

    with pytest.raises(CommandError, match=r"No worker ran the ping job within 1s"):
        call_command("worker_ping", timeout=1, queue=queue)


@pytest.mark.services
def test_a_celery_worker_runs_our_jobs_from_the_redis_broker(broker, tmp_path):
    # Given `celery -A marketplace worker` listening on a queue of its own
    queue = f"test-{uuid.uuid4().hex}"
    log = tmp_path / "worker.log"
    with log.open("w") as log_file:
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "marketplace", "worker",
             "--pool", "solo", "--queues", queue, "--hostname", f"{queue}@%h",
             "--without-gossip", "--without-mingle", "--loglevel", "INFO"],
            cwd=BASE_DIR, stdout=log_file, stderr=subprocess.STDOUT,
            env={**_worker_env(), "CELERY_TASK_ALWAYS_EAGER": "false"},
        )  # fmt: skip
    try:
        # When a ping job is sent through the broker
        out = StringIO()
        call_command("worker_ping", timeout=90, queue=queue, stdout=out)
    finally:
        worker.terminate()
        worker.wait(timeout=30)

    # Then the worker ran it and the answer came back through Redis
    assert out.getvalue().startswith("A worker answered in "), log.read_text()
    assert "core.ping" in log.read_text()


def _worker_env():
    import os

    return {**os.environ, "DJANGO_READ_DOT_ENV": "false"}
