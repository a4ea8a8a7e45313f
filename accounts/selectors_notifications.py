"""Reads for notifications: lists, counts, preferences, what the digest owes."""

from datetime import datetime, timedelta

from allauth.account.models import EmailAddress
from django.conf import settings
from django.db.models import QuerySet

from accounts.models import (
    DEFAULT_EMAIL_FREQUENCY,
    MANDATORY_EMAIL_KINDS,
    EmailFrequency,
    Notification,
    NotificationKind,
    NotificationPreference,
    User,
)
from accounts.notification_tokens import unsubscribe_token_read
from core.errors import NotFound, ValidationError


def notification_list(*, user, unread_only: bool = False) -> QuerySet[Notification]:
    """The user's notifications, newest first."""
    qs = Notification.objects.filter(user=user)
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    return qs.order_by("-created_at", "-pk")


def notification_unread_count(*, user) -> int:
    """How many of the user's notifications are unread: one COUNT query."""
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def access_notification(user, pk, for_update: bool = False) -> Notification:
    """The user's own notification `pk`; anyone else's is NotFound."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise NotFound("Notification not found.") from None
    qs = Notification.objects.filter(user=user)
    if for_update:
        qs = qs.select_for_update()
    notification = qs.filter(pk=pk).first()
    if notification is None:
        raise NotFound("Notification not found.")
    return notification


def notification_frequency_choices(kind: str) -> list[tuple[str, str]]:
    """The e-mail frequencies a user may pick for `kind`."""
    if kind in MANDATORY_EMAIL_KINDS:
        return [c for c in EmailFrequency.choices if c[0] != EmailFrequency.OFF]
    return list(EmailFrequency.choices)


def notification_preferences_get(*, user) -> dict[str, str]:
    """Every kind mapped to the user's e-mail frequency (their choice or the
    default)."""
    chosen = dict(
        NotificationPreference.objects.filter(user=user).values_list(
            "kind", "email_frequency"
        )
    )
    prefs = {}
    for kind in NotificationKind.values:
        value = chosen.get(kind, DEFAULT_EMAIL_FREQUENCY[kind])
        if kind in MANDATORY_EMAIL_KINDS and value == EmailFrequency.OFF:
            value = DEFAULT_EMAIL_FREQUENCY[kind]
        prefs[kind] = str(value)
    return prefs


def notification_email_frequency(*, user, kind: str) -> str:
    """The user's e-mail frequency for one kind."""
    value = (
        NotificationPreference.objects.filter(user=user, kind=kind)
        .values_list("email_frequency", flat=True)
        .first()
    )
    if value is None or (kind in MANDATORY_EMAIL_KINDS and value == EmailFrequency.OFF):
        value = DEFAULT_EMAIL_FREQUENCY[kind]
    return str(value)


def user_can_receive_email(*, user) -> bool:
    """Only active users whose current address is verified are e-mailed."""
    if not user.is_active or not user.email:
        return False
    return EmailAddress.objects.filter(
        user=user, email__iexact=user.email, verified=True
    ).exists()


def notification_digest_interval() -> timedelta:
    return timedelta(hours=settings.NOTIFICATION_DIGEST_INTERVAL_HOURS)


def notification_digest_due_user_ids(*, now: datetime) -> list[int]:
    """Users owed a digest: their oldest waiting notification is an interval
    old. Served by the partial index on pending rows."""
    cutoff = now - notification_digest_interval()
    return list(
        Notification.objects.filter(
            email_state=Notification.EmailState.PENDING, created_at__lte=cutoff
        )
        .order_by()
        .values_list("user_id", flat=True)
        .distinct()
    )


def notification_unsubscribe_target(*, token: str) -> tuple[User, list[str]]:
    """Whose e-mails of which kinds an unsubscribe token stops; ValidationError
    for a forged, malformed or stale token."""
    user_pk, kinds = unsubscribe_token_read(token)
    user = User.objects.filter(pk=user_pk).first()
    if user is None:
        raise ValidationError(
            "This unsubscribe link is no longer valid.", code="invalid_token"
        )
    return user, kinds
