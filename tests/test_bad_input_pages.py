"""Garbage into every page form and page query string: the answer is a form
error, a 400 page or a 404, never a 500, and nothing is written.

Runs in both passes: NUL characters and out-of-range numbers are refused by
PostgreSQL and handled by SQLite, so each backend catches different mistakes.
"""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from accounts.models import Notification, NotificationPreference, User
from accounts.services import notification_send
from accounts.tests.factories import UserFactory
from core.tests.image_files import png_header_only
from listings.models import (
    AttributeType,
    CategoryAttribute,
    Favourite,
    Listing,
    ListingImage,
    ListingStatus,
    SavedSearch,
)
from listings.selectors import category_tree_invalidate
from listings.tests.factories import CategoryFactory, ListingFactory

pytestmark = pytest.mark.django_db

HUGE = "9" * 30  # beyond any integer column
NUL = "\x00"


def jpeg(name="photo.jpg", size=(64, 48)):
    buffer = io.BytesIO()
    Image.new("RGB", size, (139, 94, 60)).save(buffer, format="JPEG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


@pytest.fixture
def cars(db):
    """Vehicles > Cars with one attribute of every type, two without bounds."""
    vehicles = CategoryFactory(name="Vehicles", slug="vehicles")
    cars = CategoryFactory(name="Cars", slug="cars", parent=vehicles)
    for order, (name, kind, extra) in enumerate(
        [
            ("mileage", AttributeType.NUMBER, {"min_value": 0, "max_value": 2_000_000}),
            ("seats", AttributeType.NUMBER, {}),  # no bounds declared
            ("year", AttributeType.YEAR, {}),
            ("fuel", AttributeType.CHOICE, {"choices": ["petrol", "diesel"]}),
            ("has_warranty", AttributeType.BOOLEAN, {}),
            ("model", AttributeType.TEXT, {}),
        ]
    ):
        CategoryAttribute.objects.create(
            category=cars,
            name=name,
            label=name.replace("_", " ").capitalize(),
            type=kind,
            order=order,
            **extra,
        )
    category_tree_invalidate()
    return cars


def car_form(cars, **overrides):
    data = {
        "category": str(cars.pk),
        "title": "Toyota Camry 2015",
        "description": "One owner, garage kept, full service history.",
        "price": "6500000",
        "currency": "KZT",
        "condition": "used",
        "city": "Almaty",
        "lat": "",
        "lng": "",
        "attr_mileage": "120000",
        "attr_year": "2015",
        "attr_fuel": "petrol",
        "action": "publish",
    }
    data.update(overrides)
    return data


def _form_errors(response) -> dict:
    return response.context["form"].errors


def _all_messages(errors) -> str:
    return " ".join(str(m) for messages in errors.values() for m in messages)


# --- Posting a listing ----------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"lat": "abc", "lng": "76.9"}, "lat"),
        ({"lat": "43.2", "lng": "east"}, "lng"),
        ({"lat": "91", "lng": "76.9"}, "lat"),
        ({"lat": "43.2", "lng": "-181"}, "lng"),
        ({"lat": "nan", "lng": "76.9"}, "lat"),
        ({"lat": "inf", "lng": "76.9"}, "lat"),
        ({"lat": "1e400", "lng": "76.9"}, "lat"),
        ({"price": "-1"}, "price"),
        ({"price": "12abc"}, "price"),
        ({"price": "NaN"}, "price"),
        ({"price": HUGE}, "price"),
        ({"price": "1e20"}, "price"),
        ({"price": "0.001"}, "price"),
        ({"category": "nope"}, "category"),
        ({"category": HUGE}, "category"),
        ({"category": "-1"}, "category"),
        ({"currency": "XXX"}, "currency"),
        ({"condition": "mint"}, "condition"),
        ({"city": "Atlantis"}, "city"),
        ({"title": "Toyota" + NUL + "Camry"}, "title"),
        ({"description": "x" * 5001}, "description"),
        ({"attr_mileage": "a lot"}, "attr_mileage"),
        ({"attr_mileage": "-5"}, "attr_mileage"),
        ({"attr_mileage": HUGE}, "attr_mileage"),
        ({"attr_mileage": "1.5"}, "attr_mileage"),
        ({"attr_seats": HUGE}, "attr_seats"),
        ({"attr_year": "1800"}, "attr_year"),
        ({"attr_year": "next year"}, "attr_year"),
        ({"attr_fuel": "coal"}, "attr_fuel"),
        ({"attr_has_warranty": "maybe"}, "attr_has_warranty"),
        ({"attr_model": "Camry" + NUL}, "attr_model"),
        ({"attr_model": "x" * 201}, "attr_model"),
    ],
)
def test_garbage_in_the_listing_form_is_a_form_error_and_writes_nothing(
    client, user, cars, overrides, field
):
    client.force_login(user)
    response = client.post("/listings/new/", car_form(cars, **overrides))
    assert response.status_code == 400
    errors = _form_errors(response)
    assert field in errors, errors
    assert Listing.objects.count() == 0


def test_eleven_photos_are_refused_and_nothing_is_written(client, user, cars):
    client.force_login(user)
    data = car_form(cars, photos=[jpeg(f"p{i}.jpg") for i in range(11)])
    response = client.post("/listings/new/", data)
    assert response.status_code == 400
    assert _form_errors(response)["photos"] == ["Upload at most 10 photos."]
    assert Listing.objects.count() == 0
    assert ListingImage.objects.count() == 0


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (
            SimpleUploadedFile("cv.pdf", b"%PDF-1.4 not a photo", "application/pdf"),
            "“cv.pdf”: Upload a JPEG, PNG or WebP image.",
        ),
        (
            SimpleUploadedFile("empty.jpg", b"", "image/jpeg"),
            "The submitted file is empty.",
        ),
        (
            SimpleUploadedFile("half.jpg", jpeg().read()[:200], "image/jpeg"),
            "“half.jpg”: The image file is damaged; upload it again.",
        ),
        (
            # Past Pillow's own bomb limit: Django's image check said only
            # "not a valid image" here, while the API named the reason.
            SimpleUploadedFile(
                "bomb.png", png_header_only(30_000, 30_000), "image/png"
            ),
            "“bomb.png”: The image has too many pixels",
        ),
    ],
    ids=["not-an-image", "zero-bytes", "truncated-jpeg", "decompression-bomb"],
)
def test_a_bad_photo_next_to_a_good_one_writes_nothing(
    client, user, cars, upload, message
):
    client.force_login(user)
    response = client.post("/listings/new/", car_form(cars, photos=[jpeg(), upload]))
    assert response.status_code == 400
    assert message in _all_messages(_form_errors(response))
    assert Listing.objects.count() == 0
    assert ListingImage.objects.count() == 0


def test_attribute_fields_fragment_survives_a_garbage_category(client, user, cars):
    client.force_login(user)
    for value in ("nope", HUGE, "-1", NUL):
        response = client.get("/listings/attribute-fields/", {"category": value})
        assert response.status_code == 200, value
        assert "Choose a category" in response.content.decode()


def test_new_listing_page_survives_a_garbage_category(client, user, cars):
    client.force_login(user)
    for value in ("nope", HUGE, NUL):
        assert client.get("/listings/new/", {"category": value}).status_code == 200


# --- Editing a listing ----------------------------------------------------------


@pytest.fixture
def own_listing(user, cars):
    listing = ListingFactory(
        owner=user,
        category=cars,
        title="Toyota Camry 2015",
        attributes={"mileage": 120000, "year": 2015, "fuel": "petrol"},
    )
    for position in range(2):
        ListingImage.objects.create(
            listing=listing,
            image=f"listings/a{position}.jpg",
            thumbnail=f"listings/thumbs/a{position}.jpg",
            position=position,
        )
    return listing


def _snapshot(listing):
    listing.refresh_from_db()
    images = list(listing.images.order_by("position").values_list("pk", flat=True))
    return (listing.title, listing.price, listing.status, listing.attributes, images)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"photo_order": "abc"}, "photo_order"),
        ({"photo_order": "\u00b2"}, "photo_order"),  # a digit int() refuses
        ({"photo_order": HUGE}, "photo_order"),
        ({"photo_delete": ["abc"]}, "photo_delete"),
        ({"photo_delete": [HUGE]}, "photo_delete"),
        ({"price": "-5"}, "price"),
        ({"attr_mileage": "lots"}, "attr_mileage"),
    ],
)
def test_garbage_in_the_edit_form_changes_nothing(
    client, user, cars, own_listing, overrides, field
):
    before = _snapshot(own_listing)
    client.force_login(user)
    response = client.post(
        f"/listings/{own_listing.pk}/edit/", car_form(cars, **overrides)
    )
    assert response.status_code == 400
    assert field in _form_errors(response)
    assert _snapshot(own_listing) == before


def test_deleting_another_listings_photo_through_the_edit_form_is_refused(
    client, user, cars, own_listing
):
    theirs = ListingFactory(category=cars)
    photo = ListingImage.objects.create(
        listing=theirs, image="listings/t.jpg", thumbnail="listings/thumbs/t.jpg"
    )
    before = _snapshot(own_listing)
    client.force_login(user)
    response = client.post(
        f"/listings/{own_listing.pk}/edit/",
        car_form(cars, photo_delete=[str(photo.pk)]),
    )
    assert response.status_code == 400
    assert "photo_delete" in _form_errors(response)
    assert ListingImage.objects.filter(pk=photo.pk).exists()
    assert _snapshot(own_listing) == before


def test_eleven_photos_in_total_on_edit_are_refused(client, user, cars, own_listing):
    before = _snapshot(own_listing)
    client.force_login(user)
    response = client.post(
        f"/listings/{own_listing.pk}/edit/",
        car_form(cars, photos=[jpeg(f"n{i}.jpg") for i in range(9)]),
    )
    assert response.status_code == 400
    assert _form_errors(response)["photos"] == ["A listing can have at most 10 photos."]
    assert _snapshot(own_listing) == before


# --- my-listings actions on someone else's listing ------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/listings/{pk}/edit/"),
        ("post", "/listings/{pk}/edit/"),
        ("get", "/listings/{pk}/delete/"),
        ("post", "/listings/{pk}/delete/"),
        ("post", "/listings/{pk}/publish/"),
        ("post", "/listings/{pk}/renew/"),
        ("post", "/listings/{pk}/sold/"),
        ("post", "/listings/{pk}/archive/"),
    ],
)
def test_my_listings_actions_on_another_users_listing_are_404(
    client, user, cars, method, path
):
    theirs = ListingFactory(category=cars, status=ListingStatus.ACTIVE)
    draft = ListingFactory(category=cars, status=ListingStatus.DRAFT)
    client.force_login(user)
    for listing in (theirs, draft):
        before = _snapshot(listing)
        response = getattr(client, method)(
            path.format(pk=listing.pk), car_form(cars) if method == "post" else None
        )
        assert response.status_code == 404
        assert _snapshot(listing) == before


@pytest.mark.parametrize("pk", ["0", "999999", HUGE])
def test_my_listings_actions_on_missing_listings_are_404(client, user, pk):
    client.force_login(user)
    for path in ("edit", "delete", "publish", "renew", "sold", "archive"):
        response = client.post(f"/listings/{pk}/{path}/")
        assert response.status_code == 404, path
    assert client.get(f"/listings/{pk}/").status_code == 404


def test_an_unknown_my_listings_tab_shows_all(client, user):
    client.force_login(user)
    for status in ("bogus", NUL, "x" * 5000):
        assert client.get("/my/listings/", {"status": status}).status_code == 200


# --- Favourites -----------------------------------------------------------------


@pytest.mark.parametrize("pk", ["0", "999999", HUGE])
def test_favouriting_a_missing_listing_is_404(client, user, pk):
    client.force_login(user)
    response = client.post(f"/listings/{pk}/favourite/")
    assert response.status_code == 404
    json = client.post(
        f"/listings/{pk}/favourite/", headers={"Accept": "application/json"}
    )
    assert json.status_code == 404
    assert not Favourite.objects.exists()


def test_favouriting_someone_elses_draft_is_404(client, user):
    draft = ListingFactory(status=ListingStatus.DRAFT)
    client.force_login(user)
    assert client.post(f"/listings/{draft.pk}/favourite/").status_code == 404
    assert not Favourite.objects.exists()


def test_favouriting_a_sold_listing_is_refused_with_a_409_for_the_heart(client, user):
    sold = ListingFactory(status=ListingStatus.SOLD)
    client.force_login(user)
    response = client.post(
        f"/listings/{sold.pk}/favourite/", headers={"Accept": "application/json"}
    )
    assert response.status_code == 409
    assert response.json() == {
        "detail": "Only active listings can be added to favourites."
    }
    assert not Favourite.objects.exists()


def test_removing_a_favourite_that_is_not_there_is_harmless(client, user):
    listing = ListingFactory()
    client.force_login(user)
    response = client.post(f"/listings/{listing.pk}/favourite/", {"action": "remove"})
    assert response.status_code == 302
    listing.refresh_from_db()
    assert listing.favourite_count == 0


# --- Saved searches -------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "", "query": "q=bmw"}, "Give the search a name"),
        ({"name": "x" * 121, "query": "q=bmw"}, "Give the search a name"),
        ({"name": "Bad", "query": "price_min=abc"}, "Enter a price as a number."),
        ({"name": "Bad", "query": "lat=91&lng=0"}, "Latitude must be between"),
        ({"name": "Bad", "query": "category=nope"}, "Unknown category."),
        ({"name": "Bad", "query": "radius_km=-1&lat=1&lng=1"}, "Radius must be"),
        ({"name": "Bad", "query": "q=bmw%00"}, "not allowed"),
        ({"name": "Bad", "query": "city=Al%00maty"}, "not allowed"),
        ({"name": "Empty", "query": ""}, "This search has no filter"),
        ({"name": "Order", "query": "ordering=price_asc"}, "This search has no filter"),
        ({"name": "Emoji", "query": "q=%F0%9F%9A%97"}, "This search has no filter"),
        ({"name": "Here", "query": "lat=43.2&lng=76.9"}, "This search has no filter"),
        # The message named the name, whatever field was wrong.
        ({"name": "Bad", "query": "q=bmw", "frequency": "hourly"}, "how often"),
        ({"name": "Long", "query": "q=" + "a" * 2100}, "too long to save"),
        ({"name": "Lines", "query": "q=a\r\nLocation: x&price_min=z"}, "a price"),
    ],
)
def test_saving_a_bad_search_goes_back_with_the_message_and_saves_nothing(
    client, user, cars, data, message
):
    client.force_login(user)
    response = client.post(
        "/saved-searches/new/", {"frequency": "daily", **data}, follow=True
    )
    assert response.status_code in (200, 400)
    assert message in response.content.decode()
    assert not SavedSearch.objects.exists()


def test_saved_search_changes_by_others_or_with_bad_ids_are_404(client, user):
    theirs = SavedSearch.objects.create(
        user=UserFactory(), name="Theirs", params={"q": "bmw"}, frequency="daily"
    )
    client.force_login(user)
    for path in (
        f"/saved-searches/{theirs.pk}/",
        f"/saved-searches/{theirs.pk}/delete/",
    ):
        assert (
            client.post(path, {f"s{theirs.pk}-frequency": "instant"}).status_code == 404
        )
    for pk in ("0", "999999", HUGE):
        assert client.post(f"/saved-searches/{pk}/delete/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.frequency == "daily"


def test_a_bad_saved_search_frequency_is_refused(client, user):
    mine = SavedSearch.objects.create(
        user=user, name="Mine", params={"q": "bmw"}, frequency="daily"
    )
    client.force_login(user)
    response = client.post(
        f"/saved-searches/{mine.pk}/", {f"s{mine.pk}-frequency": "hourly"}, follow=True
    )
    assert "Choose how often to be notified." in response.content.decode()
    mine.refresh_from_db()
    assert mine.frequency == "daily"


# --- Account settings -----------------------------------------------------------


def _profile(user):
    user.refresh_from_db()
    location = user.home_location
    return (
        user.display_name,
        user.phone,
        user.city,
        user.bio,
        location and (location.x, location.y),
        user.avatar.name,
    )


def profile_form(**overrides):
    data = {
        "display_name": "Aigerim",
        "phone": "",
        "city": "Almaty",
        "bio": "",
        "lat": "",
        "lng": "",
    }
    data.update(overrides)
    return data


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"lat": "abc", "lng": "76.9"}, "lat"),
        ({"lat": "91", "lng": "76.9"}, "lat"),
        ({"lat": "43", "lng": "1e400"}, "lng"),
        ({"lat": "43", "lng": ""}, "lng"),
        ({"display_name": ""}, "display_name"),
        ({"display_name": "A" + NUL + "B"}, "display_name"),
        ({"display_name": "x" * 81}, "display_name"),
        ({"phone": "call me maybe"}, "phone"),
        ({"phone": "+7" + "1" * 40}, "phone"),
        ({"city": "x" * 81}, "city"),
        ({"bio": "x" * 2001}, "bio"),
        ({"bio": NUL}, "bio"),
        ({"avatar": SimpleUploadedFile("a.jpg", b"", "image/jpeg")}, "avatar"),
        ({"avatar": SimpleUploadedFile("a.txt", b"hello", "text/plain")}, "avatar"),
        ({"avatar": jpeg(), "remove_avatar": "on"}, "remove_avatar"),
    ],
)
def test_garbage_in_account_settings_is_a_form_error_and_changes_nothing(
    client, user, overrides, field
):
    before = _profile(user)
    client.force_login(user)
    response = client.post("/account/settings/", profile_form(**overrides))
    assert response.status_code == 400
    assert field in _form_errors(response), _form_errors(response)
    assert _profile(user) == before


# --- Notifications --------------------------------------------------------------


@pytest.mark.parametrize("pk", ["abc", "0", HUGE, "1" + NUL, "\u00b2"])
def test_marking_a_garbage_notification_read_is_404(client, user, pk):
    notification = notification_send(user=user, kind="system", title="Hi")
    client.force_login(user)
    response = client.post("/notifications/read/", {"pk": pk})
    assert response.status_code == 404
    notification.refresh_from_db()
    assert notification.read_at is None


def test_marking_someone_elses_notification_read_is_404(client, user):
    theirs = notification_send(user=UserFactory(), kind="system", title="Hi")
    client.force_login(user)
    assert client.post("/notifications/read/", {"pk": theirs.pk}).status_code == 404
    assert client.get(f"/notifications/{theirs.pk}/open/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_an_off_site_next_after_marking_all_read_stays_on_the_site(client, user):
    client.force_login(user)
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        response = client.post("/notifications/read/", {"next": target})
        assert response.status_code == 302
        assert response["Location"] == "/notifications/", target


def test_bad_notification_preferences_are_a_form_error(client, user):
    client.force_login(user)
    response = client.post(
        "/notifications/settings/", {"message": "weekly", "system": "off"}
    )
    assert response.status_code == 400
    assert set(_form_errors(response)) >= {"message", "system"}
    assert not NotificationPreference.objects.filter(user=user).exists()


@pytest.mark.parametrize("token", ["garbage", "x" * 3000, "a:b:c"])
def test_a_garbage_unsubscribe_token_is_400(client, token):
    assert client.get(f"/notifications/unsubscribe/{token}/").status_code == 400
    assert client.post(f"/notifications/unsubscribe/{token}/").status_code == 400
    assert not NotificationPreference.objects.exists()


@pytest.mark.parametrize("page", ["abc", "0", "-1", HUGE, NUL])
def test_notification_list_pages_survive_garbage(client, user, page):
    client.force_login(user)
    assert client.get("/notifications/", {"page": page}).status_code == 200


@pytest.mark.parametrize("pk", ["0", HUGE])
def test_a_missing_public_profile_is_404(client, pk):
    assert client.get(f"/users/{pk}/").status_code == 404


def test_nothing_stray_was_written(user):
    # The tests above must not leak users or notifications through the form
    # paths (e.g. a half-written profile); a plain sanity check of the fixtures.
    assert User.objects.count() == 1
    assert Notification.objects.count() == 0
