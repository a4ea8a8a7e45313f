"""Periodic jobs without Celery beat: `manage.py run_periodic_jobs`."""

import logging
import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

import accounts.services
import listings.services
from core.periodic import PeriodicRunner, periodic_jobs
from listings.models import ListingStatus
from listings.tests.factories import ListingFactory
from marketplace.celery import app

pytestmark = pytest.mark.django_db

BEAT_NAMES = list(app.conf.beat_schedule)


def test_every_beat_job_is_a_known_task():
    app.autodiscover_tasks(force=True)
    jobs = periodic_jobs(app)
    assert [job.name for job in jobs] == BEAT_NAMES
    assert all(job.task_name in app.tasks for job in jobs)


def test_once_runs_every_job_for_real(caplog, capsys):
    # given a listing past its lifetime and one whose promotion has run out
    past = timezone.now() - timedelta(hours=1)
    stale = ListingFactory(expires_at=past)
    promoted = ListingFactory(featured_until=past, is_promoted=True)
    # when every periodic job is run once
    with caplog.at_level(logging.INFO, logger="core.periodic"):
        call_command("run_periodic_jobs", "--once")
    # then the jobs really ran: the listing expired, the flag is cleared
    stale.refresh_from_db()
    promoted.refresh_from_db()
    assert stale.status == ListingStatus.EXPIRED
    assert promoted.is_promoted is False
    # and each job was logged once, in the schedule's order
    ran = [r.args[0] for r in caplog.records if r.msg.startswith("Periodic job")]
    assert ran == BEAT_NAMES
    assert (
        f"Ran {len(BEAT_NAMES)} periodic job(s); 0 failed." in capsys.readouterr().out
    )


def test_once_goes_on_after_a_failing_job_and_then_reports_it(monkeypatch, caplog):
    # given the first job of the schedule (the notification digests) fails
    def broken():
        raise RuntimeError("SMTP is on fire")

    monkeypatch.setattr(accounts.services, "notification_digest_send", broken)
    stale = ListingFactory(expires_at=timezone.now() - timedelta(hours=1))
    # when every job is run once
    with (
        caplog.at_level(logging.INFO, logger="core.periodic"),
        pytest.raises(CommandError) as exc,
    ):
        call_command("run_periodic_jobs", "--once")
    # then the later jobs still ran, and the failure was logged and reported
    stale.refresh_from_db()
    assert stale.status == ListingStatus.EXPIRED
    assert str(exc.value) == (
        "Failed: notifications-daily-digest (the log above says why)."
    )
    [failure] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert failure.args[0] == "notifications-daily-digest"
    assert "SMTP is on fire" in caplog.text


def test_job_option_runs_only_the_named_jobs(monkeypatch, capsys):
    calls = []
    monkeypatch.setattr(
        listings.services, "listings_expire", lambda: calls.append("expire") or 0
    )
    monkeypatch.setattr(
        listings.services,
        "listings_promotions_expire",
        lambda: calls.append("promotions") or 0,
    )
    call_command("run_periodic_jobs", "--once", "--job", "listings-expire")
    assert calls == ["expire"]
    assert "Ran 1 periodic job(s); 0 failed." in capsys.readouterr().out


def test_an_unknown_job_name_is_refused():
    with pytest.raises(CommandError, match="No periodic job named nope; the jobs"):
        call_command("run_periodic_jobs", "--once", "--job", "nope")


class FakeClock:
    def __init__(self):
        self.value = datetime(2030, 1, 1, tzinfo=UTC)

    def __call__(self):
        return self.value


def test_the_loop_runs_jobs_on_their_schedules_and_survives_failures(
    monkeypatch, caplog
):
    # given a clock we move by hand, and the 15-minute expiry job always failing
    clock = FakeClock()
    calls = {"promotions": 0, "expire": 0}

    def promotions_expire():
        calls["promotions"] += 1
        return 0

    def expire():
        calls["expire"] += 1
        raise RuntimeError("database went away")

    monkeypatch.setattr(
        listings.services, "listings_promotions_expire", promotions_expire
    )
    monkeypatch.setattr(listings.services, "listings_expire", expire)
    jobs = [
        job
        for job in periodic_jobs(app, now=clock)
        if job.name in ("listings-promotions-expire", "listings-expire")
    ]
    runner = PeriodicRunner(app, jobs, now=clock)
    stop = threading.Event()
    sleeps = []

    def sleep(seconds):
        # the loop sleeps until the next job is due; time passes meanwhile
        sleeps.append(seconds)
        clock.value += timedelta(seconds=seconds)
        if clock.value >= datetime(2030, 1, 1, 0, 30, tzinfo=UTC):
            stop.set()

    # when the loop runs for 30 simulated minutes
    with caplog.at_level(logging.INFO, logger="core.periodic"):
        runner.run_forever(stop, sleep=sleep)

    # then the every-minute job ran at 0, 1, ..., 29 minutes (30 times) and the
    # failing 15-minute job was tried at 0 and 15 minutes, the loop going on
    assert calls == {"promotions": 30, "expire": 2}
    assert set(sleeps) == {60.0}
    assert runner.failures == {"listings-expire": 2}
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert [r.args[0] for r in errors] == ["listings-expire", "listings-expire"]


def test_the_loop_stops_when_asked_between_jobs():
    # given the stop flag is already set
    stop = threading.Event()
    stop.set()
    runner = PeriodicRunner(app, [])
    # when the loop starts, then it returns without sleeping
    runner.run_forever(stop, sleep=lambda seconds: pytest.fail("slept"))


def test_timedelta_and_crontab_schedules_are_read_too(monkeypatch):
    # given a schedule with a timedelta entry and a crontab entry (at :30)
    from celery.schedules import crontab

    monkeypatch.setattr(
        app.conf,
        "beat_schedule",
        {
            "every-ten-minutes": {
                "task": "listings.tasks.listings_expire",
                "schedule": timedelta(minutes=10),
            },
            "half-past": {
                "task": "listings.tasks.saved_searches_notify",
                "schedule": crontab(minute=30),
                "kwargs": {"frequency": "daily"},
            },
        },
    )
    clock = FakeClock()  # 00:00
    runner = PeriodicRunner(app, periodic_jobs(app, now=clock), now=clock)
    runner.last_run_at = {"every-ten-minutes": clock(), "half-past": clock()}
    ran = []
    monkeypatch.setattr(runner, "run_job", lambda job: ran.append(job.name))
    # when checked at 00:05, then nothing is due; the next check is in a
    # minute at most, and at 00:09:30 it is when the 10-minute job is due
    clock.value += timedelta(minutes=5)
    assert runner.run_due() == 60.0
    clock.value += timedelta(minutes=4, seconds=30)
    assert runner.run_due() == 30.0
    assert ran == []
    # when checked at 00:31, then both are due
    clock.value += timedelta(minutes=21, seconds=30)
    runner.run_due()
    assert ran == ["every-ten-minutes", "half-past"]
