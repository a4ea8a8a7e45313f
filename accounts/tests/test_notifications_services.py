"""notification_send and the instant e-mail: stored, e-mailed on commit only."""

from unittest import mock

import pytest
from django.core import mail, signing
from django.db import transaction

from accounts.models import (
    EmailFrequency,
    Notification,
    NotificationKind,
    NotificationPreference,
)
from accounts.notification_tokens import UNSUBSCRIBE_SALT, unsubscribe_token_make
from accounts.selectors import notification_preferences_get
from accounts.services import (
    notification_email_send,
    notification_mark_all_read,
    notification_mark_read,
    notification_preferences_update,
    notification_send,
    notification_unsubscribe,
)
from accounts.tests.factories import UserFactory
from core.errors import NotFound, ValidationError

pytestmark = pytest.mark.django_db
State = Notification.EmailState


@pytest.fixture(autouse=True)
def _site(settings):
    settings.SITE_URL = "https://bazaar.example"
    settings.SITE_NAME = "Bazaar"
    # Users are made by the dozen here; slow password hashing only costs time.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _send(user, kind=NotificationKind.MESSAGE, **kwargs):
    kwargs.setdefault("title", "New message from Dana")
    return notification_send(user=user, kind=kind, **kwargs)


def test_instant_email_goes_out_when_the_transaction_commits(
    user, mailoutbox, django_capture_on_commit_callbacks
):
    # given a user with the default (instant) preference for messages
    # when a notification is sent inside a transaction
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        notification = _send(
            user, body="Is the bike still for sale?", url="/messages/3/"
        )
        # then nothing is e-mailed before the commit
        assert mailoutbox == []
        assert notification.email_state == State.PENDING

    # and exactly one e-mail goes out after it
    assert len(callbacks) == 1
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == [user.email]
    assert message.subject == "[Bazaar] New message from Dana"
    open_url = f"https://bazaar.example/notifications/{notification.pk}/open/"
    assert open_url in message.body
    assert "Is the bike still for sale?" in message.body
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    assert open_url in html
    unsubscribe = message.extra_headers["List-Unsubscribe"]
    assert unsubscribe.startswith("<https://bazaar.example/notifications/unsubscribe/")
    assert unsubscribe[1:-1] in message.body
    assert message.extra_headers["List-Unsubscribe-Post"] == (
        "List-Unsubscribe=One-Click"
    )
    notification.refresh_from_db()
    assert notification.email_state == State.SENT
    assert notification.title == "New message from Dana"
    assert notification.url == "/messages/3/"


def test_rolled_back_notification_is_neither_stored_nor_emailed(
    user, mailoutbox, django_capture_on_commit_callbacks
):
    # when the caller's transaction rolls back after sending
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        _send(user)
        raise RuntimeError("the caller failed")

    # then nothing was queued, e-mailed or stored
    assert callbacks == []
    assert mailoutbox == []
    assert Notification.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_instant_email_waits_for_a_real_commit():
    user = UserFactory()
    with transaction.atomic():
        _send(user)
        assert mail.outbox == []
    assert len(mail.outbox) == 1
    assert Notification.objects.get().email_state == State.SENT


def test_kind_switched_off_stores_but_never_emails(
    user, mailoutbox, django_capture_on_commit_callbacks
):
    NotificationPreference.objects.create(
        user=user, kind=NotificationKind.MESSAGE, email_frequency=EmailFrequency.OFF
    )
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        notification = _send(user)
    assert callbacks == []
    assert mailoutbox == []
    assert notification.email_state == State.SKIPPED
    assert Notification.objects.filter(user=user).count() == 1


def test_daily_kind_waits_for_the_digest(
    user, mailoutbox, django_capture_on_commit_callbacks
):
    # saved searches default to the daily digest
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        notification = _send(user, kind=NotificationKind.SAVED_SEARCH, title="3 new")
    assert callbacks == []
    assert mailoutbox == []
    assert notification.email_state == State.PENDING


@pytest.mark.parametrize(
    "user_kwargs",
    [{"is_active": False}, {"verified_email": False}],
    ids=["inactive", "unverified"],
)
def test_inactive_or_unverified_users_get_no_email(
    user_kwargs, mailoutbox, django_capture_on_commit_callbacks
):
    user = UserFactory(**user_kwargs)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        notification = _send(user)
    assert callbacks == []
    assert mailoutbox == []
    assert notification.email_state == State.SKIPPED


def test_unverified_changed_address_gets_no_email(
    user, mailoutbox, django_capture_on_commit_callbacks
):
    # the verified address is not the account's current one
    user.email = "new-address@example.com"
    user.save()
    with django_capture_on_commit_callbacks(execute=True):
        notification = _send(user)
    assert mailoutbox == []
    assert notification.email_state == State.SKIPPED


def test_unknown_kind_is_refused(user):
    with pytest.raises(ValidationError) as exc:
        notification_send(user=user, kind="party", title="Hi")
    assert exc.value.field == "kind"
    assert Notification.objects.count() == 0


def test_blank_title_is_refused(user):
    with pytest.raises(ValidationError) as exc:
        _send(user, title="   ")
    assert exc.value.field == "title"
    assert Notification.objects.count() == 0


def test_long_title_is_shortened_to_fit(user):
    notification = _send(user, title="x" * 300)
    assert len(notification.title) == 200
    assert notification.title.endswith("\u2026")


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example/phish",
        "//evil.example/phish",
        "/\\evil.example",
        "javascript:alert(1)",
        "listings/5/",
        "/listings/5/\nSet-Cookie: x",
        "/" + "a" * 600,
    ],
)
def test_links_off_the_site_are_refused(user, url):
    with pytest.raises(ValidationError) as exc:
        _send(user, url=url)
    assert exc.value.field == "url"
    assert Notification.objects.count() == 0


def test_absolute_link_to_this_site_is_stored_as_a_path(user):
    notification = _send(user, url="https://bazaar.example/listings/5/?ref=n")
    assert notification.url == "/listings/5/?ref=n"


def test_instant_email_is_sent_once_even_when_the_job_runs_twice(
    user, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        notification = _send(user)
    assert notification_email_send(notification_id=notification.pk) is False
    assert len(mailoutbox) == 1


def test_failed_instant_email_goes_back_to_pending_for_a_retry(user, mailoutbox):
    notification = _send(user)  # on_commit never fires in this test transaction
    with (
        mock.patch(
            "django.core.mail.EmailMultiAlternatives.send",
            side_effect=OSError("SMTP down"),
        ),
        pytest.raises(OSError),
    ):
        notification_email_send(notification_id=notification.pk)
    notification.refresh_from_db()
    assert notification.email_state == State.PENDING

    # when the job runs again with the mail server back
    assert notification_email_send(notification_id=notification.pk) is True
    assert len(mailoutbox) == 1
    notification.refresh_from_db()
    assert notification.email_state == State.SENT


def test_a_mail_outage_does_not_fail_the_callers_commit(
    user, mailoutbox, django_capture_on_commit_callbacks
):
    with (
        mock.patch(
            "django.core.mail.EmailMultiAlternatives.send",
            side_effect=OSError("SMTP down"),
        ),
        django_capture_on_commit_callbacks(execute=True),
    ):
        notification = _send(user)
    notification.refresh_from_db()
    assert notification.email_state == State.PENDING  # the digest retries it
    assert mailoutbox == []


def test_instant_job_leaves_a_kind_switched_to_daily_for_the_digest(user, mailoutbox):
    notification = _send(user)
    notification_preferences_update(
        user=user, frequencies={NotificationKind.MESSAGE: EmailFrequency.DAILY}
    )
    assert notification_email_send(notification_id=notification.pk) is False
    notification.refresh_from_db()
    assert notification.email_state == State.PENDING
    assert mailoutbox == []


def test_instant_job_skips_a_user_banned_meanwhile(user, mailoutbox):
    notification = _send(user)
    user.is_active = False
    user.save()
    assert notification_email_send(notification_id=notification.pk) is False
    notification.refresh_from_db()
    assert notification.email_state == State.SKIPPED
    assert mailoutbox == []


def test_security_notice_email_has_no_unsubscribe_link(
    user, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _send(user, kind=NotificationKind.SYSTEM, title="New login from Almaty")
    assert len(mailoutbox) == 1
    assert "List-Unsubscribe" not in mailoutbox[0].extra_headers
    assert "/notifications/unsubscribe/" not in mailoutbox[0].body


# --- reading -------------------------------------------------------------------


def test_mark_read_marks_only_the_users_own_notification(user, other_user):
    mine = _send(user)
    theirs = _send(other_user)

    assert notification_mark_read(user=user, pk=mine.pk).is_read
    with pytest.raises(NotFound):
        notification_mark_read(user=user, pk=theirs.pk)
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_mark_read_is_idempotent(user):
    notification = _send(user)
    first = notification_mark_read(user=user, pk=notification.pk).read_at
    second = notification_mark_read(user=user, pk=notification.pk).read_at
    assert first == second


def test_mark_all_read_counts_and_leaves_others_alone(user, other_user):
    _send(user)
    _send(user)
    theirs = _send(other_user)
    assert notification_mark_all_read(user=user) == 2
    assert notification_mark_all_read(user=user) == 0
    theirs.refresh_from_db()
    assert theirs.read_at is None


# --- preferences -----------------------------------------------------------------


def test_defaults_are_instant_for_messages_and_daily_for_saved_searches(user):
    prefs = notification_preferences_get(user=user)
    assert prefs == {
        "message": "instant",
        "deal": "instant",
        "saved_search": "daily",
        "listing_expiring": "daily",
        "moderation": "instant",
        "wallet": "instant",
        "system": "instant",
    }


def test_preferences_update_changes_only_the_given_kinds(user):
    prefs = notification_preferences_update(
        user=user, frequencies={"message": "daily", "saved_search": "off"}
    )
    assert prefs["message"] == "daily"
    assert prefs["saved_search"] == "off"
    assert prefs["deal"] == "instant"
    assert NotificationPreference.objects.filter(user=user).count() == 2


def test_switching_a_kind_off_drops_its_waiting_emails(user):
    waiting = _send(user, kind=NotificationKind.SAVED_SEARCH, title="3 new")
    notification_preferences_update(user=user, frequencies={"saved_search": "off"})
    waiting.refresh_from_db()
    assert waiting.email_state == State.SKIPPED


@pytest.mark.parametrize(
    ("frequencies", "field"),
    [
        ({"system": "off"}, "system"),
        ({"message": "weekly"}, "message"),
        ({"party": "daily"}, "party"),
    ],
)
def test_invalid_preferences_are_refused_and_nothing_changes(user, frequencies, field):
    with pytest.raises(ValidationError) as exc:
        notification_preferences_update(
            user=user, frequencies={"deal": "off", **frequencies}
        )
    assert exc.value.field == field
    assert NotificationPreference.objects.filter(user=user).count() == 0


# --- unsubscribe -----------------------------------------------------------------


def test_unsubscribe_token_switches_the_kinds_off(user):
    token = unsubscribe_token_make(user=user, kinds=["message", "deal"])
    unsubscribed, kinds = notification_unsubscribe(token=token)
    assert unsubscribed == user
    assert kinds == ["deal", "message"]
    prefs = notification_preferences_get(user=user)
    assert prefs["message"] == "off"
    assert prefs["deal"] == "off"
    assert prefs["wallet"] == "instant"


@pytest.mark.parametrize(
    "token",
    [
        "nonsense",
        signing.dumps({"u": 1, "k": ["message"]}, salt="another.salt"),
        signing.dumps({"u": 1, "k": ["system"]}, salt=UNSUBSCRIBE_SALT),
        signing.dumps({"u": 1, "k": ["party"]}, salt=UNSUBSCRIBE_SALT),
        signing.dumps({"u": "1", "k": ["message"]}, salt=UNSUBSCRIBE_SALT),
        signing.dumps(["message"], salt=UNSUBSCRIBE_SALT),
    ],
    ids=["garbage", "other-salt", "mandatory", "unknown-kind", "bad-user", "list"],
)
def test_forged_or_malformed_tokens_are_refused(user, token):
    with pytest.raises(ValidationError):
        notification_unsubscribe(token=token)
    assert NotificationPreference.objects.count() == 0


def test_tampered_token_is_refused(user, other_user):
    token = unsubscribe_token_make(user=user, kinds=["message"])
    forged = unsubscribe_token_make(user=other_user, kinds=["message"])
    tampered = forged.split(":")[0] + ":" + token.split(":", 1)[1]
    with pytest.raises(ValidationError):
        notification_unsubscribe(token=tampered)
    assert NotificationPreference.objects.count() == 0


def test_token_of_a_deleted_user_is_refused(user):
    token = unsubscribe_token_make(user=user, kinds=["message"])
    user.delete()
    with pytest.raises(ValidationError):
        notification_unsubscribe(token=token)
