import io

import pytest
from django.core.files.storage import default_storage
from PIL import Image

from accounts.models import User
from accounts.tests.factories import UserFactory
from core.tests.image_files import GPS_IFD, image_bytes, jpeg_with_gps, png_header_only

ME = "/api/v1/me/"
AVATAR = "/api/v1/me/avatar/"


def _avatar_upload(data, name="me.jpg", content_type="image/jpeg"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data, content_type=content_type)


@pytest.mark.django_db
def test_get_me_returns_private_fields(user_api_client, user):
    response = user_api_client.get(ME)

    assert response.status_code == 200
    assert response.json() == {
        "id": user.pk,
        "email": user.email,
        "display_name": user.display_name,
        "phone": "",
        "city": "Almaty",
        "bio": "",
        "lat": None,
        "lng": None,
        "avatar_url": None,
        "is_verified": False,
        "role": "user",
        "date_joined": response.json()["date_joined"],
    }


@pytest.mark.django_db
def test_patch_me_updates_and_normalises(user_api_client, user):
    response = user_api_client.patch(
        ME,
        {
            "display_name": "  Dana   Seller ",
            "phone": "8 (701) 234-56-78",
            "city": "Astana",
            "bio": "Selling my old bikes.",
            "lat": 51.1282,
            "lng": 71.4304,
        },
    )

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["display_name"] == "Dana Seller"
    assert body["phone"] == "+77012345678"
    assert (body["lat"], body["lng"]) == (51.1282, 71.4304)
    user.refresh_from_db()
    assert user.phone == "+77012345678"
    assert user.city == "Astana"
    assert (user.home_location.y, user.home_location.x) == (51.1282, 71.4304)


@pytest.mark.django_db
def test_patch_me_changes_only_the_fields_sent(user_api_client, user):
    user.phone = "+77012345678"
    user.bio = "Hello"
    user.save()

    response = user_api_client.patch(ME, {"city": "Shymkent"})

    assert response.status_code == 200
    user.refresh_from_db()
    assert (user.city, user.phone, user.bio) == ("Shymkent", "+77012345678", "Hello")


@pytest.mark.django_db
def test_patch_me_clears_the_location_with_two_nulls(user_api_client, user):
    user_api_client.patch(ME, {"lat": 43.2, "lng": 76.9})

    response = user_api_client.patch(ME, {"lat": None, "lng": None})

    assert response.status_code == 200
    user.refresh_from_db()
    assert user.home_location is None


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"phone": "12345"}, "phone"),
        ({"phone": "+7 701 234 56 78 99 99"}, "phone"),
        ({"display_name": "a"}, "display_name"),
        ({"display_name": "me@example.com"}, "display_name"),
        ({"display_name": "!!!"}, "display_name"),
        ({"display_name": "x" * 81}, "display_name"),
        ({"lat": 91, "lng": 10}, "lat"),
        ({"lat": 10, "lng": -180.5}, "lng"),
        ({"lat": 10}, "lng"),
        ({"lng": 10}, "lat"),
        ({"lat": None, "lng": 10}, "lat"),
        ({"lat": "POINT(76.9 43.2)", "lng": 10}, "lat"),
        ({"lat": "SRID=4326;POINT(1 1)", "lng": "1"}, "lat"),
        ({"bio": "x" * 2001}, "bio"),
    ],
)
def test_patch_me_rejects_bad_input_and_changes_nothing(
    user_api_client, user, payload, field
):
    before = User.objects.values().get(pk=user.pk)

    response = user_api_client.patch(ME, payload)

    assert response.status_code == 400, response.json()
    body = response.json()
    errors = body.get("errors", body)
    assert field in errors, body
    assert User.objects.values().get(pk=user.pk) == before


@pytest.mark.django_db
def test_patch_me_with_nothing_to_change_is_400(user_api_client):
    response = user_api_client.patch(ME, {})
    assert response.status_code == 400


@pytest.mark.django_db
def test_patch_me_cannot_change_email_role_or_another_user(user_api_client, user):
    other = UserFactory()

    response = user_api_client.patch(
        ME,
        {
            "id": other.pk,
            "email": "taken@example.com",
            "is_staff": True,
            "is_verified": True,
            "role": "admin",
            "city": "Taraz",
        },
    )

    assert response.status_code == 200
    user.refresh_from_db()
    other.refresh_from_db()
    assert user.city == "Taraz"
    assert user.email != "taken@example.com"
    assert not user.is_staff and not user.is_verified and not user.is_superuser
    assert other.city == "Almaty"


@pytest.mark.django_db
def test_me_needs_authentication(api_client):
    assert api_client.get(ME).status_code in (401, 403)
    assert api_client.patch(ME, {"city": "X"}).status_code in (401, 403)
    assert api_client.put(AVATAR, {}).status_code in (401, 403)


# --- Avatar -------------------------------------------------------------------------


@pytest.mark.django_db
def test_avatar_upload_stores_a_clean_square_jpeg(user_api_client, user):
    response = user_api_client.put(
        AVATAR,
        {"avatar": _avatar_upload(jpeg_with_gps((800, 600)))},
        format="multipart",
    )

    assert response.status_code == 200, response.json()
    user.refresh_from_db()
    assert response.json()["avatar_url"] == f"http://testserver{user.avatar.url}"
    assert user.avatar.name.startswith("avatars/")
    with default_storage.open(user.avatar.name) as stored:
        image = Image.open(io.BytesIO(stored.read()))
    assert image.format == "JPEG"
    assert image.size == (256, 256)
    assert not image.getexif().get_ifd(GPS_IFD)
    assert dict(image.getexif()) == {}


@pytest.mark.django_db
def test_avatar_replace_deletes_the_old_file(
    user_api_client, user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        user_api_client.post(
            AVATAR, {"avatar": _avatar_upload(image_bytes("JPEG"))}, format="multipart"
        )
    user.refresh_from_db()
    first = user.avatar.name

    with django_capture_on_commit_callbacks(execute=True):
        response = user_api_client.put(
            AVATAR,
            {"avatar": _avatar_upload(image_bytes("PNG"), "me.png", "image/png")},
            format="multipart",
        )

    assert response.status_code == 200
    user.refresh_from_db()
    assert user.avatar.name != first
    assert default_storage.exists(user.avatar.name)
    assert not default_storage.exists(first)


@pytest.mark.django_db
def test_avatar_delete_removes_the_file(
    user_api_client, user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        user_api_client.put(
            AVATAR, {"avatar": _avatar_upload(image_bytes("JPEG"))}, format="multipart"
        )
    user.refresh_from_db()
    name = user.avatar.name

    with django_capture_on_commit_callbacks(execute=True):
        response = user_api_client.delete(AVATAR)

    assert response.status_code == 204
    user.refresh_from_db()
    assert not user.avatar
    assert not default_storage.exists(name)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "name", "content_type", "message"),
    [
        (png_header_only(100_000, 100_000), "bomb.png", "image/png", "too many pixels"),
        (
            b"%PDF-1.4 not an image",
            "cv.jpg",
            "image/jpeg",
            "Upload a JPEG, PNG or WebP",
        ),
        (image_bytes("GIF"), "a.gif", "image/gif", "Upload a JPEG, PNG or WebP"),
    ],
)
def test_bad_avatar_is_a_400_and_keeps_the_old_one(
    user_api_client, user, data, name, content_type, message
):
    user_api_client.put(
        AVATAR, {"avatar": _avatar_upload(image_bytes("JPEG"))}, format="multipart"
    )
    user.refresh_from_db()
    before = user.avatar.name

    response = user_api_client.put(
        AVATAR, {"avatar": _avatar_upload(data, name, content_type)}, format="multipart"
    )

    assert response.status_code == 400
    assert message in response.json()["errors"]["avatar"][0]
    user.refresh_from_db()
    assert user.avatar.name == before
    assert default_storage.exists(before)


@pytest.mark.django_db
def test_avatar_over_the_size_limit_is_a_400(user_api_client, user, settings):
    settings.AVATAR_MAX_BYTES = 1_000
    response = user_api_client.put(
        AVATAR,
        {"avatar": _avatar_upload(image_bytes("PNG", size=(400, 400)), "a.png")},
        format="multipart",
    )
    assert response.status_code == 400
    assert "too large" in response.json()["errors"]["avatar"][0]
    user.refresh_from_db()
    assert not user.avatar


@pytest.mark.django_db
def test_avatar_upload_without_a_file_is_a_400(user_api_client):
    response = user_api_client.put(AVATAR, {}, format="multipart")
    assert response.status_code == 400
    assert response.json()["errors"] == {"avatar": ["No file was submitted."]}


# --- Public profile ---------------------------------------------------------------


@pytest.mark.django_db
def test_public_user_shows_public_fields_only(api_client):
    seller = UserFactory(
        display_name="Dana",
        phone="+77012345678",
        city="Almaty",
        bio="Bikes",
        is_verified=True,
    )

    response = api_client.get(f"/api/v1/users/{seller.pk}/")

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {
        "id",
        "display_name",
        "city",
        "member_since",
        "is_verified",
        "avatar_url",
    }
    assert body["display_name"] == "Dana"
    assert body["is_verified"] is True
    text = response.content.decode()
    assert seller.email not in text
    assert "7012345678" not in text


@pytest.mark.django_db
def test_public_user_without_display_name_does_not_show_the_email(api_client):
    seller = UserFactory(display_name="")
    response = api_client.get(f"/api/v1/users/{seller.pk}/")
    assert response.json()["display_name"] == f"Member #{seller.pk}"
    assert seller.email.split("@")[0] not in response.content.decode()


@pytest.mark.django_db
def test_public_user_404_for_banned_and_unknown(api_client):
    banned = UserFactory(is_active=False)
    assert api_client.get(f"/api/v1/users/{banned.pk}/").status_code == 404
    response = api_client.get("/api/v1/users/999999/")
    assert response.status_code == 404
    assert response.json()["detail"] == "No such user."


def test_schema_says_which_profile_fields_can_be_null():
    # The schema said number/string while a profile without a home point or
    # avatar answers null: clients generated from it rejected real answers.
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    me = schema["components"]["schemas"]["Me"]["properties"]
    for name in ("lat", "lng", "avatar_url"):
        assert me[name]["nullable"] is True, name
    public = schema["components"]["schemas"]["PublicUser"]["properties"]
    assert public["avatar_url"]["nullable"] is True
