"""The e-mails behind notifications: building the instant and digest messages.

Used by the notification services; nothing here writes to the database.
"""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse

from accounts.models import MANDATORY_EMAIL_KINDS, Notification, NotificationKind
from accounts.notification_tokens import unsubscribe_token_make

# A digest lists at most this many notifications; the rest are on the site.
DIGEST_MAX_ITEMS = 50


def absolute_url(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def _unsubscribe_url(*, user, kinds) -> str:
    kinds = [k for k in kinds if k not in MANDATORY_EMAIL_KINDS]
    if not kinds:
        return ""
    token = unsubscribe_token_make(user=user, kinds=kinds)
    return absolute_url(
        reverse("accounts:notifications_unsubscribe", kwargs={"token": token})
    )


def _open_url(notification: Notification) -> str:
    return absolute_url(
        reverse("accounts:notification_open", kwargs={"pk": notification.pk})
    )


def _message(*, user, template: str, context: dict, unsubscribe_url: str):
    context = {
        "SITE_NAME": settings.SITE_NAME,
        "SITE_URL": settings.SITE_URL,
        "user": user,
        "settings_url": absolute_url(reverse("accounts:notification_settings")),
        "notifications_url": absolute_url(reverse("accounts:notifications")),
        "unsubscribe_url": unsubscribe_url,
        **context,
    }
    subject = render_to_string(f"accounts/email/{template}_subject.txt", context)
    subject = " ".join(subject.split())
    headers = {}
    if unsubscribe_url:
        # RFC 2369 + RFC 8058: mail clients show an unsubscribe button and POST
        # "List-Unsubscribe=One-Click" to the URL without the user logging in.
        headers["List-Unsubscribe"] = f"<{unsubscribe_url}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message = EmailMultiAlternatives(
        subject=f"[{settings.SITE_NAME}] {subject}",
        body=render_to_string(f"accounts/email/{template}_message.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[user.email],
        headers=headers,
    )
    message.attach_alternative(
        render_to_string(f"accounts/email/{template}_message.html", context),
        "text/html",
    )
    return message


def instant_email_build(notification: Notification) -> EmailMultiAlternatives:
    """The e-mail for one notification, sent as it happens."""
    user = notification.user
    return _message(
        user=user,
        template="notification",
        context={
            "notification": notification,
            "kind_label": notification.get_kind_display(),
            "open_url": _open_url(notification),
        },
        unsubscribe_url=_unsubscribe_url(user=user, kinds=[notification.kind]),
    )


def digest_email_build(*, user, notifications: list[Notification]):
    """One e-mail summing up several notifications, grouped by kind."""
    labels = dict(NotificationKind.choices)
    groups: dict[str, list[dict]] = {}
    for n in notifications[:DIGEST_MAX_ITEMS]:
        groups.setdefault(n.kind, []).append({"n": n, "open_url": _open_url(n)})
    ordered = [
        {
            "kind": kind,
            "label": labels[kind],
            "items": groups[kind],
            "unsubscribe_url": _unsubscribe_url(user=user, kinds=[kind]),
        }
        for kind in NotificationKind.values
        if kind in groups
    ]
    return _message(
        user=user,
        template="digest",
        context={
            "groups": ordered,
            "count": len(notifications),
            "more": max(0, len(notifications) - DIGEST_MAX_ITEMS),
        },
        unsubscribe_url=_unsubscribe_url(
            user=user, kinds=sorted({n.kind for n in notifications})
        ),
    )
