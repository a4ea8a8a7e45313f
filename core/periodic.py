"""Celery beat's periodic jobs, run in-process where no beat runs.

The embedded default has no broker and no `celery beat`, so nothing would
ever expire a listing or send a digest. `manage.py run_periodic_jobs` (started
by `scripts/run.sh`) uses this module: it reads the jobs from the Celery app's
own `beat_schedule`, so there is one list of jobs, and runs each one in this
process (`task.apply()`) when its schedule says it is due. Every job is an
idempotent service, so running one late, twice, or once at start-up to catch
up is harmless. A failing job is logged and the others go on.
"""

from __future__ import annotations

import copy
import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from celery import Celery
from celery.schedules import BaseSchedule, maybe_schedule

logger = logging.getLogger(__name__)

# Never sleep longer than this between checks, whatever the schedules say, so
# a changed clock or a long first interval cannot stall the loop for hours.
MAX_SLEEP_SECONDS = 60.0


@dataclass
class PeriodicJob:
    """One entry of `beat_schedule`: a task, its arguments and its schedule."""

    name: str
    task_name: str
    schedule: BaseSchedule
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)


def periodic_jobs(app: Celery, *, now: Callable[[], datetime] | None = None):
    """The jobs of `app.conf.beat_schedule`, in its order.

    `now` (for tests) replaces the app's clock in the schedules' arithmetic.
    """
    jobs = []
    for name, entry in app.conf.beat_schedule.items():
        # A copy: setting the clock must not change the app's own schedule.
        schedule = copy.copy(maybe_schedule(entry["schedule"], app=app))
        if now is not None:
            schedule.nowfun = now
        jobs.append(
            PeriodicJob(
                name=name,
                task_name=entry["task"],
                schedule=schedule,
                args=tuple(entry.get("args") or ()),
                kwargs=dict(entry.get("kwargs") or {}),
            )
        )
    return jobs


class PeriodicRunner:
    """Runs due jobs in this process and remembers (in memory) when each ran.

    A job that never ran is due at once: after a restart the jobs catch up.
    """

    def __init__(
        self,
        app: Celery,
        jobs: Iterable[PeriodicJob],
        *,
        now: Callable[[], datetime] | None = None,
    ):
        self.app = app
        self.jobs = list(jobs)
        self.now = now or app.now
        self.last_run_at: dict[str, datetime] = {}
        self.failures: dict[str, int] = {}

    def run_job(self, job: PeriodicJob) -> bool:
        """Run one job now; True when it succeeded. Never raises for the job."""
        self.last_run_at[job.name] = self.now()
        started = time.monotonic()
        try:
            task = self.app.tasks[job.task_name]
            # throw=True: the error comes here, with its traceback, to be logged.
            value: Any = task.apply(args=job.args, kwargs=job.kwargs, throw=True).result
        except Exception:
            self.failures[job.name] = self.failures.get(job.name, 0) + 1
            logger.exception(
                "Periodic job %s (%s) failed after %.2fs",
                job.name,
                job.task_name,
                time.monotonic() - started,
            )
            return False
        logger.info(
            "Periodic job %s (%s) ran in %.2fs: %r",
            job.name,
            job.task_name,
            time.monotonic() - started,
            value,
        )
        return True

    def run_due(self, stop: threading.Event | None = None) -> float:
        """Run every job that is due (until `stop` is set); return the seconds
        until the next one is due."""
        wait = MAX_SLEEP_SECONDS
        for job in self.jobs:
            if stop is not None and stop.is_set():
                break
            last = self.last_run_at.get(job.name)
            is_due, next_in = (True, 0.0) if last is None else job.schedule.is_due(last)
            if is_due:
                self.run_job(job)
                _, next_in = job.schedule.is_due(self.last_run_at[job.name])
            wait = min(wait, next_in)
        return max(wait, 1.0)

    def run_forever(
        self,
        stop: threading.Event,
        *,
        sleep: Callable[[float], Any] | None = None,
    ) -> None:
        """Check and run due jobs until `stop` is set, sleeping between checks."""
        sleep = sleep or stop.wait
        while not stop.is_set():
            wait = self.run_due(stop)
            if stop.is_set():
                break
            sleep(wait)
