"""/api/v1/notifications/: own rows only, read, read-all, count, preferences."""

import pytest

from accounts.models import Notification, NotificationKind, NotificationPreference
from accounts.selectors import notification_preferences_get
from accounts.services import notification_send

pytestmark = pytest.mark.django_db
BASE = "/api/v1/notifications/"


@pytest.fixture(autouse=True)
def _fast_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _notify(user, title="New message", **kwargs):
    kwargs.setdefault("kind", NotificationKind.MESSAGE)
    return notification_send(user=user, title=title, **kwargs)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", BASE),
        ("get", f"{BASE}1/"),
        ("post", f"{BASE}1/read/"),
        ("post", f"{BASE}read-all/"),
        ("get", f"{BASE}unread-count/"),
        ("get", f"{BASE}preferences/"),
        ("put", f"{BASE}preferences/"),
    ],
)
def test_anonymous_gets_401(api_client, user, method, path):
    mine = _notify(user)
    response = getattr(api_client, method)(path.replace("/1/", f"/{mine.pk}/"))
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"
    mine.refresh_from_db()
    assert mine.read_at is None


def test_list_shows_only_my_notifications_paginated(user_api_client, user, other_user):
    for i in range(22):
        _notify(user, f"mine {i}", url=f"/listings/{i}/")
    _notify(other_user, "theirs")

    response = user_api_client.get(BASE)

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 22
    assert len(body["results"]) == 20
    assert body["next"].endswith("?page=2")
    first = body["results"][0]
    assert set(first) == {
        "id",
        "kind",
        "kind_label",
        "title",
        "body",
        "url",
        "is_read",
        "read_at",
        "created_at",
    }
    assert first["title"] == "mine 21"
    assert first["kind"] == "message"
    assert first["kind_label"] == "New messages"
    assert first["url"] == "/listings/21/"
    assert first["is_read"] is False
    assert all(r["title"].startswith("mine") for r in body["results"])


def test_list_filters(user_api_client, user):
    read = _notify(user, "read one")
    read.read_at = read.created_at
    read.save()
    _notify(user, "unread one")
    _notify(user, "a match", kind=NotificationKind.SAVED_SEARCH)

    unread = user_api_client.get(BASE, {"is_read": "false"}).json()
    only_read = user_api_client.get(BASE, {"is_read": "true"}).json()
    matches = user_api_client.get(BASE, {"kind": "saved_search"}).json()

    assert [r["title"] for r in unread["results"]] == ["a match", "unread one"]
    assert [r["title"] for r in only_read["results"]] == ["read one"]
    assert [r["title"] for r in matches["results"]] == ["a match"]
    assert user_api_client.get(BASE, {"kind": "party"}).status_code == 400


@pytest.mark.parametrize("value", ["banana", "null", "2"])
def test_list_rejects_an_is_read_that_is_not_true_or_false(user_api_client, value):
    # django-filter read unknown values as "no filter" and answered everything.
    response = user_api_client.get(BASE, {"is_read": value})
    assert response.status_code == 400
    assert response.json()["errors"] == {"is_read": ["Answer true or false."]}


def test_list_takes_an_empty_is_read_as_no_filter(user_api_client, user):
    _notify(user)
    response = user_api_client.get(BASE, {"is_read": ""})
    assert response.json()["count"] == 1


def test_list_query_count(user_api_client, user, django_assert_max_num_queries):
    for i in range(30):
        _notify(user, f"mine {i}")
    with django_assert_max_num_queries(2):  # COUNT + page rows
        assert user_api_client.get(BASE).status_code == 200


def test_retrieve_own_and_404_for_someone_elses(user_api_client, user, other_user):
    mine = _notify(user)
    theirs = _notify(other_user)
    assert user_api_client.get(f"{BASE}{mine.pk}/").json()["id"] == mine.pk
    response = user_api_client.get(f"{BASE}{theirs.pk}/")
    assert response.status_code == 404


def test_read_marks_my_notification_read(user_api_client, user):
    mine = _notify(user)
    response = user_api_client.post(f"{BASE}{mine.pk}/read/")
    assert response.status_code == 200
    assert response.json()["is_read"] is True
    mine.refresh_from_db()
    assert mine.read_at is not None


def test_read_someone_elses_is_404_and_changes_nothing(user_api_client, other_user):
    theirs = _notify(other_user)
    response = user_api_client.post(f"{BASE}{theirs.pk}/read/")
    assert response.status_code == 404
    assert response.json() == {
        "detail": "Notification not found.",
        "code": "not_found",
        "errors": {},
    }
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_read_all_marks_only_mine(user_api_client, user, other_user):
    _notify(user)
    _notify(user)
    theirs = _notify(other_user)
    response = user_api_client.post(f"{BASE}read-all/")
    assert response.status_code == 200
    assert response.json() == {"marked_read": 2}
    assert Notification.objects.filter(user=user, read_at__isnull=True).count() == 0
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_unread_count(user_api_client, user, other_user):
    _notify(user)
    _notify(user)
    _notify(other_user)
    assert user_api_client.get(f"{BASE}unread-count/").json() == {"unread": 2}


def test_preferences_get_lists_every_kind(user_api_client):
    response = user_api_client.get(f"{BASE}preferences/")
    assert response.status_code == 200
    assert response.json() == {
        "message": "instant",
        "deal": "instant",
        "saved_search": "daily",
        "listing_expiring": "daily",
        "moderation": "instant",
        "wallet": "instant",
        "system": "instant",
    }


def test_preferences_put_changes_the_given_kinds(user_api_client, user):
    response = user_api_client.put(
        f"{BASE}preferences/", {"message": "daily", "saved_search": "off"}
    )
    assert response.status_code == 200
    assert response.json()["message"] == "daily"
    assert response.json()["saved_search"] == "off"
    assert response.json()["deal"] == "instant"
    assert notification_preferences_get(user=user)["message"] == "daily"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"system": "off"}, "system"),
        ({"message": "weekly"}, "message"),
        ({"message": "daily", "party": "off"}, "party"),
        ({}, "non_field_errors"),
    ],
)
def test_preferences_put_rejects_bad_input_and_changes_nothing(
    user_api_client, user, data, field
):
    response = user_api_client.put(f"{BASE}preferences/", data)
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert NotificationPreference.objects.filter(user=user).count() == 0


def test_preferences_put_rejects_a_non_object(user_api_client, user):
    response = user_api_client.put(f"{BASE}preferences/", ["message"])
    assert response.status_code == 400
    assert NotificationPreference.objects.filter(user=user).count() == 0


def test_schema_documents_the_endpoints(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    paths = schema["paths"]
    assert set(paths["/api/v1/notifications/"]) == {"get"}
    assert set(paths["/api/v1/notifications/{id}/read/"]) == {"post"}
    assert set(paths["/api/v1/notifications/read-all/"]) == {"post"}
    assert set(paths["/api/v1/notifications/unread-count/"]) == {"get"}
    assert set(paths["/api/v1/notifications/preferences/"]) == {"get", "put"}
    put = paths["/api/v1/notifications/preferences/"]["put"]
    assert put["summary"] == "Change my e-mail preferences"
