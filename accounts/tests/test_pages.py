import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.models import User
from accounts.tests.factories import UserFactory
from core.tests.image_files import image_bytes, jpeg_with_gps, png_header_only

SETTINGS = "/account/settings/"


def _form(**overrides):
    data = {
        "display_name": "Dana Seller",
        "phone": "",
        "city": "Almaty",
        "bio": "",
        "lat": "",
        "lng": "",
    }
    data.update(overrides)
    return data


# --- Public profile ----------------------------------------------------------------


@pytest.mark.django_db
def test_public_profile_shows_public_facts_only(client):
    seller = UserFactory(
        display_name="Dana Seller",
        city="Almaty",
        bio="I sell bikes.",
        phone="+77012345678",
        is_verified=True,
    )

    response = client.get(f"/users/{seller.pk}/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "Dana Seller" in html
    assert "Verified" in html
    assert "Member since" in html
    assert "I sell bikes." in html
    assert "Seller rating: no ratings yet." in html
    assert seller.email not in html
    assert "7012345678" not in html


@pytest.mark.django_db
def test_public_profile_of_banned_or_unknown_user_is_404(client):
    banned = UserFactory(is_active=False)
    assert client.get(f"/users/{banned.pk}/").status_code == 404
    assert client.get("/users/999999/").status_code == 404


@pytest.mark.django_db
def test_profile_template_offers_the_listings_block():
    from django.template.loader import get_template

    template = get_template("accounts/profile.html").template
    names = {node.name for node in template.nodelist.get_nodes_by_type(_block_node())}
    assert "profile_listings" in names
    settings_template = get_template("accounts/settings.html").template
    names = {
        node.name
        for node in settings_template.nodelist.get_nodes_by_type(_block_node())
    }
    assert "settings_extra" in names


def _block_node():
    from django.template.loader_tags import BlockNode

    return BlockNode


# --- Settings ------------------------------------------------------------------------


@pytest.mark.django_db
def test_settings_page_needs_login(client):
    response = client.get(SETTINGS)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


@pytest.mark.django_db
def test_settings_page_shows_the_form_and_security_links(client, user):
    client.force_login(user)

    response = client.get(SETTINGS)

    assert response.status_code == 200
    html = response.content.decode()
    for url in (
        reverse("account_email"),
        reverse("account_change_password"),
        reverse("mfa_index"),
        reverse("usersessions_list"),
    ):
        assert f'href="{url}"' in html
    assert 'name="display_name"' in html
    assert 'name="lat"' in html and 'name="lng"' in html
    assert 'enctype="multipart/form-data"' in html


@pytest.mark.django_db
def test_settings_saves_the_profile(client, user):
    client.force_login(user)

    response = client.post(
        SETTINGS,
        _form(
            display_name="Dana K",
            phone="8 701 234 56 78",
            city="Astana",
            bio="Hi",
            lat="51.128",
            lng="71.43",
            avatar=SimpleUploadedFile("me.jpg", jpeg_with_gps(), "image/jpeg"),
        ),
    )

    assert response.status_code == 302
    user = User.objects.get(pk=user.pk)
    assert (user.display_name, user.phone, user.city, user.bio) == (
        "Dana K",
        "+77012345678",
        "Astana",
        "Hi",
    )
    assert (user.home_location.y, user.home_location.x) == (51.128, 71.43)
    assert user.avatar.name.startswith("avatars/")
    page = client.get(SETTINGS).content.decode()
    assert "Your profile is saved." in page
    assert user.avatar.url in page


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "message"),
    [
        (_form(phone="12345"), "Enter a valid phone number"),
        (_form(display_name="x"), "at least 2 characters"),
        (_form(lat="91", lng="10"), "less than or equal to 90"),
        (_form(lat="43.2"), "Enter both latitude and longitude"),
        (_form(lat="POINT(1 1)", lng="1"), "Enter a number."),
    ],
)
def test_settings_shows_clear_errors_and_saves_nothing(client, user, data, message):
    client.force_login(user)
    before = User.objects.values().get(pk=user.pk)

    response = client.post(SETTINGS, data)

    assert response.status_code == 400
    html = response.content.decode()
    assert message in html
    assert 'class="errorlist"' in html
    assert User.objects.values().get(pk=user.pk) == before


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (png_header_only(90_000, 90_000), "bomb.png", "too many pixels"),
        (b"GIF89a not really", "x.gif", "Upload a JPEG, PNG or WebP image."),
        (b"just text", "notes.jpg", "Upload a JPEG, PNG or WebP image."),
    ],
)
def test_settings_refuses_bad_avatars_with_a_form_error(
    client, user, content, name, message
):
    client.force_login(user)
    before = User.objects.values().get(pk=user.pk)

    response = client.post(
        SETTINGS,
        _form(display_name="Changed", avatar=SimpleUploadedFile(name, content)),
    )

    assert response.status_code == 400
    assert message in response.content.decode()
    assert User.objects.values().get(pk=user.pk) == before


@pytest.mark.django_db
def test_settings_removes_the_avatar(client, user, django_capture_on_commit_callbacks):
    from django.core.files.storage import default_storage

    client.force_login(user)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            SETTINGS,
            _form(avatar=SimpleUploadedFile("a.png", image_bytes("PNG"), "image/png")),
        )
    name = User.objects.get(pk=user.pk).avatar.name
    assert default_storage.exists(name)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(SETTINGS, _form(remove_avatar="on"))

    assert response.status_code == 302
    assert not User.objects.get(pk=user.pk).avatar
    assert not default_storage.exists(name)


@pytest.mark.django_db
def test_settings_only_ever_changes_the_logged_in_user(client, user, other_user):
    client.force_login(user)
    client.post(
        SETTINGS, _form(display_name="Hacker", pk=other_user.pk, email="x@y.kz")
    )

    other_user.refresh_from_db()
    assert other_user.display_name != "Hacker"
    user.refresh_from_db()
    assert user.display_name == "Hacker"
    assert user.email != "x@y.kz"
