"""The daily digest: grouped, once per interval, idempotent, safe in parallel."""

import io
import threading
from datetime import timedelta
from unittest import mock

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import (
    EmailFrequency,
    Notification,
    NotificationKind,
    NotificationPreference,
)
from accounts.services import notification_digest_send, notification_send
from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db
State = Notification.EmailState
HOURS = timedelta(hours=1)


@pytest.fixture(autouse=True)
def _site(settings):
    settings.SITE_URL = "https://bazaar.example"
    settings.SITE_NAME = "Bazaar"
    settings.NOTIFICATION_DIGEST_INTERVAL_HOURS = 24
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _notify(user, title, *, kind=NotificationKind.SAVED_SEARCH, at):
    """A notification created at `at` (the digest judges by created_at)."""
    notification = notification_send(user=user, kind=kind, title=title)
    Notification.objects.filter(pk=notification.pk).update(created_at=at)
    return notification


def _states(*notifications):
    return [Notification.objects.get(pk=n.pk).email_state for n in notifications]


def test_digest_groups_pending_notifications_into_one_email(user, mailoutbox):
    # given three daily notifications, the oldest a day old
    now = timezone.now()
    a = _notify(user, "2 new bikes in Almaty", at=now - 25 * HOURS)
    b = _notify(user, "1 new sofa", at=now - 2 * HOURS)
    c = _notify(
        user,
        "Your listing expires in 3 days",
        kind=NotificationKind.LISTING_EXPIRING,
        at=now - 3 * HOURS,
    )

    # when the digest runs
    sent = notification_digest_send(now=now)

    # then one e-mail holds all three, grouped by kind
    assert sent == 1
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == [user.email]
    assert message.subject == "[Bazaar] Your daily summary: 3 new notifications"
    body = message.body
    assert "== Saved search matches (2) ==" in body
    assert "== Listings about to expire (1) ==" in body
    for n in (a, b, c):
        assert n.title in body
        assert f"https://bazaar.example/notifications/{n.pk}/open/" in body
    html, _ = message.alternatives[0]
    assert "Saved search matches (2)" in html
    assert message.extra_headers["List-Unsubscribe-Post"] == (
        "List-Unsubscribe=One-Click"
    )
    assert _states(a, b, c) == [State.SENT] * 3


def test_second_run_sends_nothing(user, mailoutbox):
    now = timezone.now()
    n = _notify(user, "2 new bikes", at=now - 25 * HOURS)
    assert notification_digest_send(now=now) == 1
    assert notification_digest_send(now=now) == 0
    assert notification_digest_send(now=now + 48 * HOURS) == 0
    assert len(mailoutbox) == 1
    assert _states(n) == [State.SENT]


def test_nothing_is_sent_before_the_oldest_is_a_day_old(user, mailoutbox):
    now = timezone.now()
    n = _notify(user, "2 new bikes", at=now - 23 * HOURS)
    assert notification_digest_send(now=now) == 0
    assert mailoutbox == []
    assert _states(n) == [State.PENDING]


def test_at_most_one_digest_per_day(user, mailoutbox):
    # given a digest went out at `now`
    now = timezone.now()
    _notify(user, "first", at=now - 25 * HOURS)
    assert notification_digest_send(now=now) == 1
    # and a new match arrived an hour before it
    later = _notify(user, "second", at=now - 1 * HOURS)

    # then the hourly runs of the next day send nothing until it is a day old
    for hour in range(1, 23):
        assert notification_digest_send(now=now + hour * HOURS) == 0
    assert notification_digest_send(now=now + 23 * HOURS) == 1
    assert len(mailoutbox) == 2
    assert "second" in mailoutbox[1].body
    assert "first" not in mailoutbox[1].body
    assert _states(later) == [State.SENT]


def test_each_user_gets_their_own_digest(user, other_user, mailoutbox):
    now = timezone.now()
    _notify(user, "for the first user", at=now - 25 * HOURS)
    _notify(other_user, "for the second user", at=now - 25 * HOURS)
    assert notification_digest_send(now=now) == 2
    by_recipient = {m.to[0]: m.body for m in mailoutbox}
    assert "for the first user" in by_recipient[user.email]
    assert "for the second user" not in by_recipient[user.email]
    assert "for the second user" in by_recipient[other_user.email]


def test_kind_switched_off_after_queueing_is_dropped(user, mailoutbox):
    now = timezone.now()
    n = _notify(user, "2 new bikes", at=now - 25 * HOURS)
    NotificationPreference.objects.create(
        user=user,
        kind=NotificationKind.SAVED_SEARCH,
        email_frequency=EmailFrequency.OFF,
    )
    assert notification_digest_send(now=now) == 0
    assert mailoutbox == []
    assert _states(n) == [State.SKIPPED]


def test_user_banned_before_the_digest_gets_none(user, mailoutbox):
    now = timezone.now()
    n = _notify(user, "2 new bikes", at=now - 25 * HOURS)
    user.is_active = False
    user.save()
    assert notification_digest_send(now=now) == 0
    assert mailoutbox == []
    assert _states(n) == [State.SKIPPED]


def test_instant_email_that_never_went_out_is_caught_by_the_digest(user, mailoutbox):
    # given an instant notification whose job was lost (on_commit never ran)
    now = timezone.now()
    n = _notify(user, "New message", kind=NotificationKind.MESSAGE, at=now - 25 * HOURS)
    assert _states(n) == [State.PENDING]
    assert notification_digest_send(now=now) == 1
    assert "New message" in mailoutbox[0].body
    assert _states(n) == [State.SENT]


def test_failed_digest_is_retried_on_the_next_run(user, mailoutbox):
    now = timezone.now()
    n = _notify(user, "2 new bikes", at=now - 25 * HOURS)
    with mock.patch(
        "django.core.mail.EmailMultiAlternatives.send",
        side_effect=OSError("SMTP down"),
    ):
        assert notification_digest_send(now=now) == 0
    assert _states(n) == [State.PENDING]
    assert notification_digest_send(now=now) == 1
    assert len(mailoutbox) == 1


def test_a_huge_backlog_lists_fifty_and_links_to_the_rest(user, mailoutbox):
    now = timezone.now()
    for i in range(53):
        _notify(user, f"match {i}", at=now - 25 * HOURS)
    assert notification_digest_send(now=now) == 1
    body = mailoutbox[0].body
    assert "...and 3 more: https://bazaar.example/notifications/" in body
    assert Notification.objects.filter(email_state=State.SENT).count() == 53


def test_management_command_sends_due_digests(user, mailoutbox):
    _notify(user, "2 new bikes", at=timezone.now() - 25 * HOURS)
    first, second = io.StringIO(), io.StringIO()
    call_command("send_notification_digests", stdout=first)
    call_command("send_notification_digests", stdout=second)
    assert first.getvalue() == "Sent 1 notification digest(s).\n"
    assert second.getvalue() == "Sent 0 notification digest(s).\n"
    assert len(mailoutbox) == 1


def test_beat_runs_the_digest_task_hourly(user, mailoutbox):
    from accounts.tasks import send_notification_digests
    from marketplace.celery import app

    entry = app.conf.beat_schedule["notifications-daily-digest"]
    assert entry["task"] == "accounts.tasks.send_notification_digests"
    assert entry["schedule"] == 60 * 60
    assert send_notification_digests.name == entry["task"]

    _notify(user, "2 new bikes", at=timezone.now() - 25 * HOURS)
    assert send_notification_digests.delay().get() == 1
    assert len(mailoutbox) == 1


# --- concurrency (PostgreSQL: SQLite has no row locks) -------------------------


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_concurrent_digest_runs_send_each_notification_once():
    users = UserFactory.create_batch(3)
    now = timezone.now()
    for user in users:
        for i in range(4):
            _notify(user, f"match {i}", at=now - 25 * HOURS)
    barrier = threading.Barrier(4)
    results, errors = [], []

    def run():
        try:
            barrier.wait(timeout=10)
            results.append(notification_digest_send(now=now))
        except Exception as exc:  # reported below; a thread cannot fail the test
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)

    assert errors == []
    assert sum(results) == 3
    assert sorted(m.to[0] for m in mail.outbox) == sorted(u.email for u in users)
    assert Notification.objects.filter(email_state=State.SENT).count() == 12


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_digest_skips_rows_another_run_holds_locked():
    user = UserFactory()
    now = timezone.now()
    n = _notify(user, "2 new bikes", at=now - 25 * HOURS)
    result = []

    def other_run():
        try:
            result.append(notification_digest_send(now=now))
        finally:
            connection.close()

    # given another run holds the user's pending rows locked
    with transaction.atomic():
        list(Notification.objects.select_for_update().filter(pk=n.pk))
        thread = threading.Thread(target=other_run)
        thread.start()
        thread.join(timeout=30)
        # then this run neither waits nor sends
        assert result == [0]
        assert mail.outbox == []
    # and once the lock is gone the digest goes out, once
    assert notification_digest_send(now=now) == 1
    assert len(mail.outbox) == 1
