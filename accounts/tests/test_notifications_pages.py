"""Pages: the notifications list, opening one, settings, unsubscribe, the bell."""

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import Notification, NotificationKind, NotificationPreference
from accounts.notification_tokens import unsubscribe_token_make
from accounts.selectors import notification_preferences_get
from accounts.services import notification_send

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def user_client(client, user):
    client.force_login(user)
    return client


def _notify(user, title="New message from Dana", **kwargs):
    kwargs.setdefault("kind", NotificationKind.MESSAGE)
    return notification_send(user=user, title=title, **kwargs)


# --- the list ------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    ["/notifications/", "/notifications/settings/", "/notifications/1/open/"],
)
def test_pages_need_login(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


def test_list_shows_own_notifications_with_unread_highlighted(
    user_client, user, other_user
):
    read = _notify(user, "Old news")
    read.read_at = read.created_at
    read.save()
    unread = _notify(user, "Fresh news")
    _notify(other_user, "Not yours")

    response = user_client.get("/notifications/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "Fresh news" in html
    assert "Old news" in html
    assert "Not yours" not in html
    assert f'<li class="notification unread" id="notification-{unread.pk}">' in html
    assert f'<li class="notification" id="notification-{read.pk}">' in html
    assert [n.pk for n in response.context["notifications"]] == [unread.pk, read.pk]


def test_unread_filter(user_client, user):
    read = _notify(user, "Old news")
    read.read_at = read.created_at
    read.save()
    _notify(user, "Fresh news")
    response = user_client.get("/notifications/?filter=unread")
    assert [n.title for n in response.context["notifications"]] == ["Fresh news"]


def test_list_is_paginated(user_client, user):
    for i in range(25):
        _notify(user, f"note {i}")
    first = user_client.get("/notifications/")
    second = user_client.get("/notifications/?page=2")
    beyond = user_client.get("/notifications/?page=99")
    assert len(first.context["notifications"]) == 20
    assert first.context["notifications"][0].title == "note 24"
    assert [n.title for n in second.context["notifications"]] == [
        f"note {i}" for i in range(4, -1, -1)
    ]
    assert beyond.context["page"].number == 2
    assert 'rel="next"' in first.content.decode()


@pytest.mark.parametrize("count", [3, 30])
def test_list_query_count_does_not_grow(
    user_client, user, count, django_assert_max_num_queries
):
    for i in range(count):
        _notify(user, f"note {i}")
    user_client.get("/")  # first request: allauth records the user session
    # session + user (2), the nav's two badges (notifications and unread
    # messages: 2), then ours: paginator COUNT and page rows (2); the same for
    # 3 or 30 rows.
    with django_assert_max_num_queries(6):
        response = user_client.get("/notifications/")
    assert response.status_code == 200


def test_bell_shows_the_unread_count_with_one_count_query(user_client, user):
    _notify(user)
    _notify(user)
    with CaptureQueriesContext(connection) as queries:
        response = user_client.get("/")
    html = response.content.decode()
    assert re.search(r'id="notifications-badge"\s*>2</span>', html)
    counts = [
        q["sql"]
        for q in queries.captured_queries
        if "accounts_notification" in q["sql"]
    ]
    assert len(counts) == 1
    assert "COUNT(" in counts[0]


def test_bell_is_hidden_with_nothing_unread(user_client):
    html = user_client.get("/").content.decode()
    assert re.search(r'id="notifications-badge"\s*hidden>0</span>', html)


def test_bell_count_is_lazy(rf, user, django_assert_num_queries):
    from core.context_processors import site

    request = rf.get("/")
    request.user = user
    with django_assert_num_queries(0):
        context = site(request)
    _notify(user)
    with django_assert_num_queries(1):
        assert int(str(context["notifications_unread"])) == 1
        assert bool(context["notifications_unread"])


# --- opening and marking read ------------------------------------------------------


def test_open_marks_read_and_follows_the_link(user_client, user):
    notification = _notify(user, url="/messages/7/")
    response = user_client.get(f"/notifications/{notification.pk}/open/")
    assert response.status_code == 302
    assert response["Location"] == "/messages/7/"
    notification.refresh_from_db()
    assert notification.is_read


def test_open_without_link_goes_to_the_list(user_client, user):
    notification = _notify(user)
    response = user_client.get(f"/notifications/{notification.pk}/open/")
    assert response["Location"] == "/notifications/"


@pytest.mark.parametrize(
    "stored_url", ["https://evil.example/", "//evil.example/x", "/\\evil.example"]
)
def test_open_never_redirects_off_the_site(user_client, user, stored_url):
    # even a row written around the service cannot redirect elsewhere
    notification = _notify(user)
    Notification.objects.filter(pk=notification.pk).update(url=stored_url)
    response = user_client.get(f"/notifications/{notification.pk}/open/")
    assert response["Location"] == "/notifications/"


def test_open_someone_elses_is_404_and_changes_nothing(user_client, other_user):
    theirs = _notify(other_user, url="/messages/7/")
    response = user_client.get(f"/notifications/{theirs.pk}/open/")
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_mark_one_read(user_client, user):
    notification = _notify(user)
    other = _notify(user)
    response = user_client.post(
        "/notifications/read/",
        {"pk": notification.pk, "next": "/notifications/?page=1"},
    )
    assert response.status_code == 302
    assert response["Location"] == "/notifications/?page=1"
    notification.refresh_from_db()
    other.refresh_from_db()
    assert notification.is_read
    assert not other.is_read


def test_mark_all_read(user_client, user, other_user):
    _notify(user)
    _notify(user)
    theirs = _notify(other_user)
    response = user_client.post("/notifications/read/", follow=True)
    assert "Marked 2 notifications as read." in response.content.decode()
    assert Notification.objects.filter(user=user, read_at__isnull=True).count() == 0
    theirs.refresh_from_db()
    assert theirs.read_at is None


@pytest.mark.parametrize("pk", ["abc", "999999"])
def test_mark_read_of_unknown_is_404(user_client, user, pk):
    mine = _notify(user)
    response = user_client.post("/notifications/read/", {"pk": pk})
    assert response.status_code == 404
    mine.refresh_from_db()
    assert mine.read_at is None


def test_mark_read_of_someone_elses_is_404(user_client, other_user):
    theirs = _notify(other_user)
    response = user_client.post("/notifications/read/", {"pk": theirs.pk})
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_mark_read_ignores_an_offsite_next(user_client, user):
    _notify(user)
    response = user_client.post(
        "/notifications/read/", {"next": "https://evil.example/"}
    )
    assert response["Location"] == "/notifications/"


def test_mark_read_needs_post(user_client):
    assert user_client.get("/notifications/read/").status_code == 405


# --- settings ------------------------------------------------------------------


def test_settings_page_shows_the_current_choices(user_client, user):
    NotificationPreference.objects.create(
        user=user, kind="message", email_frequency="off"
    )
    html = user_client.get("/notifications/settings/").content.decode()
    assert re.search(r'name="message" value="off"[^>]*checked', html)
    assert re.search(r'name="saved_search" value="daily"[^>]*checked', html)
    # security notices cannot be switched off
    assert 'name="system" value="off"' not in html
    assert "is not verified" not in html


def test_settings_page_warns_an_unverified_user(client):
    from accounts.tests.factories import UserFactory

    unverified = UserFactory(verified_email=False)
    client.force_login(unverified)
    html = client.get("/notifications/settings/").content.decode()
    assert "Your e-mail address is not verified" in html


def _all_prefs(**changes):
    return {**dict.fromkeys(NotificationKind.values, "instant"), **changes}


def test_settings_form_saves(user_client, user):
    response = user_client.post(
        "/notifications/settings/",
        _all_prefs(message="daily", saved_search="off"),
        follow=True,
    )
    assert "Your notification settings are saved." in response.content.decode()
    prefs = notification_preferences_get(user=user)
    assert prefs["message"] == "daily"
    assert prefs["saved_search"] == "off"
    assert prefs["listing_expiring"] == "instant"


@pytest.mark.parametrize(
    "data",
    [
        _all_prefs(system="off"),
        _all_prefs(message="weekly"),
        {k: v for k, v in _all_prefs().items() if k != "deal"},
    ],
    ids=["system-off", "unknown-value", "missing-kind"],
)
def test_settings_form_rejects_bad_input_and_saves_nothing(user_client, user, data):
    response = user_client.post("/notifications/settings/", data)
    assert response.status_code == 200
    assert response.context["form"].errors
    assert 'class="errorlist"' in response.content.decode()
    assert NotificationPreference.objects.filter(user=user).count() == 0


# --- unsubscribe -----------------------------------------------------------------


def _unsubscribe_path(user, kinds=("message",)):
    token = unsubscribe_token_make(user=user, kinds=kinds)
    return f"/notifications/unsubscribe/{token}/"


def test_unsubscribe_get_asks_first_and_changes_nothing(client, user):
    response = client.get(_unsubscribe_path(user))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Unsubscribe from e-mails?" in html
    assert "New messages" in html
    assert NotificationPreference.objects.count() == 0


def test_unsubscribe_post_works_without_login_or_csrf(user):
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        _unsubscribe_path(user, kinds=("message", "deal")),
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    assert "You are unsubscribed" in response.content.decode()
    prefs = notification_preferences_get(user=user)
    assert prefs["message"] == "off"
    assert prefs["deal"] == "off"
    assert prefs["wallet"] == "instant"


def test_unsubscribe_link_from_the_email_works(
    client, user, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _notify(user)
    url = mailoutbox[0].extra_headers["List-Unsubscribe"][1:-1]
    path = url.split("://", 1)[1].split("/", 1)[1]
    response = client.post("/" + path)
    assert response.status_code == 200
    assert notification_preferences_get(user=user)["message"] == "off"


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize(
    "token", ["garbage", "eyJ1IjoxLCJrIjpbIm1lc3NhZ2UiXX0:1abcde:forgedsignature"]
)
def test_bad_unsubscribe_token_is_a_400_page(client, user, method, token):
    response = getattr(client, method)(f"/notifications/unsubscribe/{token}/")
    assert response.status_code == 400
    assert "This link does not work" in response.content.decode()
    assert NotificationPreference.objects.count() == 0
