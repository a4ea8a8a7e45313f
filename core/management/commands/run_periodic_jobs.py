"""Run Celery beat's periodic jobs in this process, for where no beat runs."""

import signal
import threading

from django.core.management.base import BaseCommand, CommandError

from core.periodic import PeriodicRunner, periodic_jobs
from marketplace.celery import app


class Command(BaseCommand):
    help = (
        "Run the periodic jobs of marketplace/celery.py's beat_schedule in this "
        "process, each when it is due, until stopped (the embedded default has "
        "no Celery beat; scripts/run.sh starts this). --once runs every job "
        "once and exits, with status 1 when a job failed (for cron)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--once",
            action="store_true",
            help="Run every job once, then exit.",
        )
        parser.add_argument(
            "--job",
            action="append",
            dest="names",
            metavar="NAME",
            help="Only this beat_schedule entry (may be given more than once).",
        )

    def handle(self, *args, once, names, **options):
        # Import every app's tasks.py now (a worker does it at start-up).
        app.autodiscover_tasks(force=True)
        jobs = periodic_jobs(app)
        if names:
            known = {job.name for job in jobs}
            unknown = sorted(set(names) - known)
            if unknown:
                raise CommandError(
                    f"No periodic job named {', '.join(unknown)}; "
                    f"the jobs are: {', '.join(sorted(known))}."
                )
            jobs = [job for job in jobs if job.name in names]
        runner = PeriodicRunner(app, jobs)
        if once:
            for job in jobs:
                runner.run_job(job)
            failed = [job.name for job in jobs if job.name in runner.failures]
            self.stdout.write(f"Ran {len(jobs)} periodic job(s); {len(failed)} failed.")
            if failed:
                raise CommandError(
                    f"Failed: {', '.join(failed)} (the log above says why)."
                )
            return

        stop = threading.Event()
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGINT, signal.SIGTERM):
                signal.signal(signum, lambda *_: stop.set())
        self.stdout.write(
            f"Running {len(jobs)} periodic job(s) in-process: "
            f"{', '.join(job.name for job in jobs)}. Stop with Ctrl+C."
        )
        self.stdout.flush()
        runner.run_forever(stop)
        self.stdout.write("Periodic jobs stopped.")
