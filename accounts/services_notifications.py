"""Writes for notifications: send, read, preferences, unsubscribe, e-mails.

Apps call `accounts.services.notification_send`, re-exported from here.
"""

import logging
from collections.abc import Mapping
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import (
    EmailFrequency,
    Notification,
    NotificationKind,
    NotificationPreference,
    User,
)
from accounts.notification_emails import digest_email_build, instant_email_build
from accounts.selectors_notifications import (
    access_notification,
    notification_digest_due_user_ids,
    notification_digest_interval,
    notification_email_frequency,
    notification_frequency_choices,
    notification_preferences_get,
    notification_unsubscribe_target,
    user_can_receive_email,
)
from core.errors import ValidationError

logger = logging.getLogger(__name__)

State = Notification.EmailState
TITLE_MAX_LENGTH = 200
URL_MAX_LENGTH = 500


def _clean_url(url: str) -> str:
    """A path on this site ("/listings/5/"); absolute links to SITE_URL are
    shortened to their path, links elsewhere are refused."""
    url = (url or "").strip()
    if not url:
        return ""
    if url.startswith(settings.SITE_URL + "/"):
        url = url[len(settings.SITE_URL) :]
    if (
        not url.startswith("/")
        or url.startswith("//")
        or "\\" in url
        or any(ch.isspace() or ord(ch) < 32 for ch in url)
        or len(url) > URL_MAX_LENGTH
    ):
        raise ValidationError(
            "A notification can only link to a page of this site "
            "(a path starting with a single '/').",
            field="url",
        )
    return url


def _queue_instant_email(notification_pk: int) -> None:
    from accounts.tasks import send_notification_email

    send_notification_email.delay(notification_pk)


def notification_send(
    *, user, kind: str, title: str, body: str = "", url: str = ""
) -> Notification:
    """Notify `user` of an event: stored on the site, e-mailed per preference.

    Every app calls this one service. It runs inside the caller's transaction;
    an instant e-mail is queued only once that transaction commits.
    """
    if kind not in NotificationKind.values:
        raise ValidationError(f"Unknown notification kind: {kind!r}.", field="kind")
    title = " ".join((title or "").split())
    if not title:
        raise ValidationError("A notification needs a title.", field="title")
    if len(title) > TITLE_MAX_LENGTH:
        title = title[: TITLE_MAX_LENGTH - 1] + "\u2026"
    url = _clean_url(url)

    frequency = EmailFrequency.OFF
    if user_can_receive_email(user=user):
        frequency = notification_email_frequency(user=user, kind=kind)
    email_state = State.SKIPPED if frequency == EmailFrequency.OFF else State.PENDING
    with transaction.atomic():
        notification = Notification.objects.create(
            user=user,
            kind=kind,
            title=title,
            body=(body or "").strip(),
            url=url,
            email_state=email_state,
        )
        if frequency == EmailFrequency.INSTANT:
            # robust: a broker outage must not fail the caller's request after
            # its data committed; the row stays pending and the digest picks
            # it up later.
            # (a lambda, not functools.partial: Django logs a robust
            # callback's failure by its __qualname__, which partial lacks.)
            pk = notification.pk
            transaction.on_commit(lambda: _queue_instant_email(pk), robust=True)
    return notification


def notification_mark_read(*, user, pk) -> Notification:
    """Mark one of the user's own notifications read (idempotent)."""
    with transaction.atomic():
        notification = access_notification(user, pk, for_update=True)
        if notification.read_at is None:
            notification.read_at = timezone.now()
            notification.save(update_fields=["read_at"])
    return notification


def notification_mark_all_read(*, user) -> int:
    """Mark all of the user's unread notifications read; returns how many."""
    with transaction.atomic():
        return Notification.objects.filter(user=user, read_at__isnull=True).update(
            read_at=timezone.now()
        )


def notification_preferences_update(
    *, user, frequencies: Mapping[str, str]
) -> dict[str, str]:
    """Set the user's e-mail frequency for the given kinds; others keep theirs.

    Switching a kind off also drops its e-mails still waiting for the digest.
    """
    for kind, value in frequencies.items():
        if kind not in NotificationKind.values:
            raise ValidationError(f"Unknown notification kind: {kind!r}.", field=kind)
        allowed = [choice for choice, _label in notification_frequency_choices(kind)]
        if value not in allowed:
            raise ValidationError(
                f"Choose one of: {', '.join(allowed)}.", field=kind, code="invalid"
            )
    with transaction.atomic():
        for kind, value in frequencies.items():
            NotificationPreference.objects.update_or_create(
                user=user, kind=kind, defaults={"email_frequency": value}
            )
        switched_off = [k for k, v in frequencies.items() if v == EmailFrequency.OFF]
        if switched_off:
            Notification.objects.filter(
                user=user, kind__in=switched_off, email_state=State.PENDING
            ).update(email_state=State.SKIPPED)
    return notification_preferences_get(user=user)


def notification_unsubscribe(*, token: str) -> tuple[User, list[str]]:
    """Switch off the e-mails a signed unsubscribe token names (no login)."""
    user, kinds = notification_unsubscribe_target(token=token)
    notification_preferences_update(
        user=user, frequencies=dict.fromkeys(kinds, EmailFrequency.OFF)
    )
    return user, kinds


def notification_email_send(*, notification_id: int) -> bool:
    """E-mail one pending notification now; False when there is nothing to send.

    The row is claimed (pending -> sent) under a row lock before the e-mail
    goes out, so two workers never both send it; a failed send puts it back to
    pending and re-raises, for the task to retry.
    """
    with transaction.atomic():
        notification = (
            Notification.objects.select_for_update(of=("self",))
            .select_related("user")
            .filter(pk=notification_id, email_state=State.PENDING)
            .first()
        )
        if notification is None:
            return False
        user = notification.user
        frequency = EmailFrequency.OFF
        if user_can_receive_email(user=user):
            frequency = notification_email_frequency(user=user, kind=notification.kind)
        if frequency == EmailFrequency.DAILY:
            return False  # switched to the digest meanwhile: it goes out there
        new_state = State.SKIPPED if frequency == EmailFrequency.OFF else State.SENT
        Notification.objects.filter(pk=notification.pk).update(email_state=new_state)
    if new_state == State.SKIPPED:
        return False
    try:
        instant_email_build(notification).send()
    except Exception:
        Notification.objects.filter(pk=notification.pk, email_state=State.SENT).update(
            email_state=State.PENDING
        )
        raise
    return True


def _digest_claim(*, user_id: int, now: datetime) -> tuple[User | None, list]:
    """Lock the user's pending notifications and claim those the digest sends.

    Rows another run holds are skipped (PostgreSQL), so concurrent runs never
    claim the same row; SQLite serialises the write transactions instead.
    """
    with transaction.atomic():
        rows = list(
            Notification.objects.select_for_update(skip_locked=True)
            .filter(user_id=user_id, email_state=State.PENDING)
            .order_by("created_at", "pk")
        )
        if not rows:
            return None, []
        user = User.objects.get(pk=user_id)
        if not user_can_receive_email(user=user):
            prefs = dict.fromkeys(NotificationKind.values, EmailFrequency.OFF)
        else:
            prefs = notification_preferences_get(user=user)
        dropped = [n.pk for n in rows if prefs[n.kind] == EmailFrequency.OFF]
        if dropped:
            Notification.objects.filter(pk__in=dropped).update(
                email_state=State.SKIPPED
            )
        rows = [n for n in rows if prefs[n.kind] != EmailFrequency.OFF]
        if not rows or rows[0].created_at > now - notification_digest_interval():
            return user, []
        claimed = Notification.objects.filter(
            pk__in=[n.pk for n in rows], email_state=State.PENDING
        ).update(email_state=State.SENT)
        if claimed != len(rows):
            # Someone changed the rows under us: send nothing this round.
            transaction.set_rollback(True)
            return user, []
    return user, rows


def notification_digest_send(*, now: datetime | None = None) -> int:
    """Send each user their due digest of pending notifications; returns how
    many e-mails went out.

    A user is due when their oldest pending notification is a digest interval
    (NOTIFICATION_DIGEST_INTERVAL_HOURS, default 24) old, so nobody gets more
    than one digest per interval. Idempotent and safe to run concurrently: each
    notification is claimed once, in its own short transaction per user, and
    e-mailed after that commits.
    """
    now = now or timezone.now()
    sent = 0
    for user_id in notification_digest_due_user_ids(now=now):
        user, batch = _digest_claim(user_id=user_id, now=now)
        if not batch:
            continue
        try:
            digest_email_build(user=user, notifications=batch).send()
        except Exception:
            logger.exception("Notification digest for user %s failed", user_id)
            Notification.objects.filter(
                pk__in=[n.pk for n in batch], email_state=State.SENT
            ).update(email_state=State.PENDING)
            continue
        sent += 1
    return sent
