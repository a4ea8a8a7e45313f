import re

import pytest
from django.contrib.gis.geos import Point
from django.utils import timezone

from accounts.tests.factories import UserFactory
from core.tests.image_files import png_header_only
from listings.models import Listing, ListingImage, ListingStatus
from listings.tests.factories import ListingFactory
from listings.tests.pages.conftest import jpeg_upload

pytestmark = pytest.mark.django_db


def car_form(catalogue, **overrides):
    data = {
        "category": str(catalogue["cars"].pk),
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
        "attr_has_warranty": "false",
        "action": "publish",
    }
    data.update(overrides)
    return data


# --- Access ----------


@pytest.mark.parametrize(
    "path",
    ["/listings/new/", "/my/listings/", "/favourites/", "/saved-searches/"],
)
def test_anonymous_users_are_sent_to_log_in(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


def test_anonymous_post_creates_nothing(client, catalogue):
    response = client.post("/listings/new/", car_form(catalogue))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
    assert Listing.objects.count() == 0


# --- Post ----------


def test_form_shows_attribute_fields_of_the_chosen_category(client, user, catalogue):
    client.force_login(user)
    response = client.get("/listings/new/", {"category": catalogue["cars"].pk})
    html = response.content.decode()
    assert response.status_code == 200
    assert 'name="attr_mileage"' in html
    assert "Mileage (km)" in html
    assert 'name="photos"' in html and "multiple" in html
    # only leaf categories can be chosen: Vehicles is a group label
    assert '<optgroup label="Vehicles">' in html


def test_attribute_fields_fragment_follows_the_category(client, user, catalogue):
    client.force_login(user)
    cars = client.get("/listings/attribute-fields/", {"category": catalogue["cars"].pk})
    tv = client.get(
        "/listings/attribute-fields/", {"category": catalogue["electronics"].pk}
    )
    bad = client.get("/listings/attribute-fields/", {"category": "nope"})
    assert 'name="attr_fuel"' in cars.content.decode()
    assert "<html" not in cars.content.decode()
    assert "no extra details" in tv.content.decode()
    assert "Choose a category" in bad.content.decode()


def test_posting_a_listing_with_two_photos_publishes_it(
    client, user, catalogue, django_capture_on_commit_callbacks
):
    client.force_login(user)
    data = car_form(catalogue, lat="43.2401", lng="76.9102")
    data["photos"] = [jpeg_upload("front.jpg"), jpeg_upload("back.jpg", size=(80, 60))]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/listings/new/", data)
    listing = Listing.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/listings/{listing.pk}/"
    assert listing.owner == user
    assert listing.status == ListingStatus.ACTIVE
    assert listing.price == 650_000_000
    assert listing.attributes == {
        "mileage": 120000,
        "year": 2015,
        "fuel": "petrol",
        "has_warranty": False,
    }
    assert (round(listing.location.y, 4), round(listing.location.x, 4)) == (
        43.2401,
        76.9102,
    )
    images = list(listing.images.order_by("position"))
    assert [(i.position, i.width, i.height) for i in images] == [
        (0, 64, 48),
        (1, 80, 60),
    ]


def test_saving_as_draft_keeps_it_off_the_site_and_uses_the_city_centre(
    client, user, catalogue
):
    client.force_login(user)
    response = client.post("/listings/new/", car_form(catalogue, action="draft"))
    listing = Listing.objects.get()
    assert response.status_code == 302
    assert listing.status == ListingStatus.DRAFT
    assert (round(listing.location.y, 4), round(listing.location.x, 4)) == (
        43.2567,
        76.9286,
    )


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"title": ""}, "title", "This field is required."),
        ({"price": "-5"}, "price", "greater than or equal to 0"),
        ({"price": "12.345"}, "price", "no more than 2 decimal places"),
        ({"attr_mileage": ""}, "attr_mileage", "This field is required."),
        ({"attr_fuel": "coal"}, "attr_fuel", "Select a valid choice."),
        ({"attr_year": "1700"}, "attr_year", "greater than or equal to 1900"),
        ({"lat": "43.2", "lng": ""}, None, "Pick the location on the map again."),
        ({"lat": "123", "lng": "10"}, "lat", "less than or equal to 90"),
    ],
)
def test_invalid_input_shows_the_error_and_creates_nothing(
    client, user, catalogue, overrides, field, message
):
    client.force_login(user)
    response = client.post("/listings/new/", car_form(catalogue, **overrides))
    assert response.status_code == 400
    errors = response.context["form"].errors
    key = field or "__all__"
    assert any(message in e for e in errors[key]), errors
    assert message.split(" ")[0] in response.content.decode()
    assert Listing.objects.count() == 0


def test_a_parent_category_is_refused_by_the_service(client, user, catalogue):
    # the form lists leaves only; a forged post of a parent gets a form error
    client.force_login(user)
    response = client.post(
        "/listings/new/",
        car_form(catalogue, category=str(catalogue["vehicles"].pk)),
    )
    assert response.status_code == 400
    assert "Select a valid choice" in str(response.context["form"].errors["category"])
    assert Listing.objects.count() == 0


def test_a_file_that_is_not_an_image_is_refused(client, user, catalogue):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(user)
    data = car_form(catalogue)
    data["photos"] = [
        jpeg_upload(),
        SimpleUploadedFile("evil.jpg", b"not an image", content_type="image/jpeg"),
    ]
    response = client.post("/listings/new/", data)
    assert response.status_code == 400
    assert "photos" in response.context["form"].errors
    assert Listing.objects.count() == 0
    assert ListingImage.objects.count() == 0


def test_refresh_button_shows_new_category_fields_without_saving(
    client, user, catalogue
):
    client.force_login(user)
    response = client.post(
        "/listings/new/",
        {"category": str(catalogue["cars"].pk), "title": "Kept", "refresh": "1"},
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert 'name="attr_mileage"' in html
    assert 'value="Kept"' in html
    assert "This field is required" not in html
    assert Listing.objects.count() == 0


# --- Edit ----------


def owned_car(user, catalogue, photos=0):
    listing = ListingFactory(
        owner=user,
        category=catalogue["cars"],
        title="Old title",
        attributes={"mileage": 1000},
        location=Point(76.95, 43.24, srid=4326),
    )
    for position in range(photos):
        ListingImage.objects.create(
            listing=listing,
            image=f"listings/p{position}.jpg",
            thumbnail=f"listings/thumbs/p{position}.jpg",
            position=position,
        )
    return listing


def test_edit_form_is_filled_with_the_listing(client, user, catalogue):
    listing = owned_car(user, catalogue, photos=2)
    client.force_login(user)
    response = client.get(f"/listings/{listing.pk}/edit/")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'value="Old title"' in html
    assert 'name="attr_mileage" value="1000"' in html
    assert 'name="price" value="1000"' in html
    assert html.count('name="photo_delete"') == 2


def test_owner_edits_details_removes_and_reorders_photos(client, user, catalogue):
    listing = owned_car(user, catalogue, photos=3)
    first, second, third = listing.images.order_by("position")
    client.force_login(user)
    data = car_form(catalogue, title="New title", action="save")
    data["photo_delete"] = [str(second.pk)]
    data["photo_order"] = f"{third.pk},{second.pk},{first.pk}"
    data["photos"] = [jpeg_upload("new.jpg")]
    response = client.post(f"/listings/{listing.pk}/edit/", data)
    assert response.status_code == 302
    listing.refresh_from_db()
    assert listing.title == "New title"
    images = list(listing.images.order_by("position"))
    assert [i.pk for i in images[:2]] == [third.pk, first.pk]
    assert len(images) == 3
    assert [i.position for i in images] == [0, 1, 2]


def test_a_decompression_bomb_on_the_edit_form_gets_the_specific_reason(
    client, user, catalogue
):
    # The page said only "Upload a valid image" (Django's check gave up on
    # Pillow's bomb error), while the API said what was wrong.
    from django.core.files.uploadedfile import SimpleUploadedFile

    listing = owned_car(user, catalogue, photos=1)
    client.force_login(user)
    data = car_form(catalogue, title="New title", action="save")
    data["photos"] = [
        SimpleUploadedFile("bomb.png", png_header_only(30_000, 30_000), "image/png")
    ]
    response = client.post(f"/listings/{listing.pk}/edit/", data)
    assert response.status_code == 400
    assert response.context["form"].errors["photos"] == [
        "“bomb.png”: The image has too many pixels; upload a smaller picture "
        "(at most 40 megapixels)."
    ]
    listing.refresh_from_db()
    assert listing.title == "Old title"
    assert listing.images.count() == 1


def test_other_users_cannot_edit_and_nothing_changes(client, user, catalogue):
    listing = owned_car(user, catalogue, photos=1)
    client.force_login(UserFactory())
    assert client.get(f"/listings/{listing.pk}/edit/").status_code == 404
    response = client.post(
        f"/listings/{listing.pk}/edit/", car_form(catalogue, title="Hacked")
    )
    assert response.status_code == 404
    listing.refresh_from_db()
    assert listing.title == "Old title"
    assert listing.images.count() == 1


def test_anonymous_edit_redirects_to_login(client, user, catalogue):
    listing = owned_car(user, catalogue)
    response = client.post(f"/listings/{listing.pk}/edit/", car_form(catalogue))
    assert response.status_code == 302
    listing.refresh_from_db()
    assert listing.title == "Old title"


def test_photo_order_naming_another_listings_photo_is_refused(client, user, catalogue):
    listing = owned_car(user, catalogue, photos=1)
    foreign = owned_car(UserFactory(), catalogue, photos=1).images.get()
    client.force_login(user)
    data = car_form(catalogue, action="save", photo_order=str(foreign.pk))
    response = client.post(f"/listings/{listing.pk}/edit/", data)
    assert response.status_code == 400
    assert foreign.listing.images.count() == 1


def test_photo_order_with_a_non_ascii_digit_is_a_form_error(client, user, catalogue):
    # "²".isdigit() is true but int("²") raises: this was a 500.
    listing = owned_car(user, catalogue, photos=1)
    client.force_login(user)
    data = car_form(catalogue, action="save", photo_order="\u00b2")
    response = client.post(f"/listings/{listing.pk}/edit/", data)
    assert response.status_code == 400
    assert response.context["form"].errors["photo_order"] == [
        "The photo order names an unknown photo."
    ]


# --- My listings and actions ----------


def test_dashboard_tabs_count_and_filter_by_status(client, user, catalogue):
    active = ListingFactory(owner=user, title="Active one", view_count=7)
    ListingFactory(owner=user, status=ListingStatus.DRAFT, title="Draft one")
    ListingFactory(title="Someone else's")
    client.force_login(user)
    response = client.get("/my/listings/")
    html = response.content.decode()
    assert "Active one" in html and "Draft one" in html
    assert "Someone else" not in html
    assert "7 views" in html
    assert f'href="/wallet/promote/{active.pk}/"' in html
    tabs = {value: count for value, _, count in response.context["tabs"]}
    assert tabs[""] == 2 and tabs["active"] == 1 and tabs["draft"] == 1
    drafts = client.get("/my/listings/", {"status": "draft"})
    assert [x.title for x in drafts.context["listings"]] == ["Draft one"]


def test_dashboard_query_count_is_constant(
    client, user, catalogue, django_assert_max_num_queries
):
    ListingFactory.create_batch(2, owner=user)
    client.force_login(user)
    client.get("/my/listings/")
    with django_assert_max_num_queries(14) as few:
        client.get("/my/listings/")
    ListingFactory.create_batch(15, owner=user)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get("/my/listings/")
    assert len(response.context["listings"]) == 17


def test_dashboard_is_paginated_within_its_status_tab(client, user, catalogue):
    # A seller with 68 listings got one long page; ?page=2 was ignored.
    drafts = ListingFactory.create_batch(30, owner=user, status=ListingStatus.DRAFT)
    ListingFactory.create_batch(3, owner=user)
    client.force_login(user)
    everything = client.get("/my/listings/")
    assert len(everything.context["listings"]) == 24
    first = client.get("/my/listings/", {"status": "draft"})
    newest_first = [listing.pk for listing in reversed(drafts)]
    assert [x.pk for x in first.context["listings"]] == newest_first[:24]
    html = first.content.decode()
    assert 'href="?status=draft&amp;page=2" rel="next"' in html
    # the tabs start again from the first page of their status
    assert 'href="/my/listings/?status=active"' in html
    second = client.get("/my/listings/", {"status": "draft", "page": "2"})
    assert [x.pk for x in second.context["listings"]] == newest_first[24:]
    assert 'href="?status=draft&amp;page=1" rel="prev"' in second.content.decode()
    tabs = {value: count for value, _, count in second.context["tabs"]}
    assert tabs[""] == 33 and tabs["draft"] == 30


@pytest.mark.parametrize(
    ("page", "number", "shown"),
    [("0", 1, 2), ("abc", 1, 2), ("", 1, 2), ("9" * 30, int("9" * 30), 0)],
)
def test_dashboard_with_a_bad_page_number_is_not_an_error(
    client, user, page, number, shown
):
    ListingFactory.create_batch(2, owner=user)
    client.force_login(user)
    response = client.get("/my/listings/", {"page": page})
    assert response.status_code == 200
    assert response.context["page"].number == number
    assert len(response.context["listings"]) == shown
    html = response.content.decode()
    if not shown:
        assert "This page is past your last listing." in html
        assert "You have not posted anything yet." not in html


def test_dashboard_later_page_query_count_is_constant(
    client, user, catalogue, django_assert_max_num_queries
):
    ListingFactory.create_batch(2, owner=user)
    client.force_login(user)
    client.get("/my/listings/")
    with django_assert_max_num_queries(14) as few:
        client.get("/my/listings/")
    ListingFactory.create_batch(40, owner=user)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get("/my/listings/", {"page": "2"})
    assert len(response.context["listings"]) == 18


@pytest.mark.parametrize(
    ("action", "start", "end"),
    [
        ("sold", ListingStatus.ACTIVE, ListingStatus.SOLD),
        ("archive", ListingStatus.ACTIVE, ListingStatus.ARCHIVED),
        ("renew", ListingStatus.EXPIRED, ListingStatus.ACTIVE),
        ("publish", ListingStatus.DRAFT, ListingStatus.ACTIVE),
    ],
)
def test_owner_actions_change_the_status(client, user, action, start, end):
    listing = ListingFactory(owner=user, status=start)
    client.force_login(user)
    response = client.post(
        f"/listings/{listing.pk}/{action}/", {"next": "/my/listings/?status=active"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/my/listings/?status=active"
    listing.refresh_from_db()
    assert listing.status == end


def test_action_in_the_wrong_state_flashes_the_reason(client, user):
    listing = ListingFactory(owner=user, status=ListingStatus.SOLD)
    client.force_login(user)
    response = client.post(f"/listings/{listing.pk}/sold/", follow=True)
    assert "Only an active listing can be marked sold." in response.content.decode()
    listing.refresh_from_db()
    assert listing.status == ListingStatus.SOLD


def test_actions_by_others_are_404_and_change_nothing(client, user):
    listing = ListingFactory(owner=user)
    client.force_login(UserFactory())
    for action in ("sold", "archive", "renew", "publish"):
        assert client.post(f"/listings/{listing.pk}/{action}/").status_code == 404
    assert client.post(f"/listings/{listing.pk}/delete/").status_code == 404
    listing.refresh_from_db()
    assert listing.status == ListingStatus.ACTIVE


def test_off_site_next_is_ignored(client, user):
    listing = ListingFactory(owner=user)
    client.force_login(user)
    response = client.post(
        f"/listings/{listing.pk}/archive/", {"next": "https://evil.example/"}
    )
    assert response["Location"] == "/my/listings/"


def test_delete_asks_for_confirmation_then_deletes(client, user):
    listing = ListingFactory(owner=user, title="To delete")
    client.force_login(user)
    confirm = client.get(f"/listings/{listing.pk}/delete/")
    assert confirm.status_code == 200
    assert "Delete this listing?" in confirm.content.decode()
    assert Listing.objects.filter(pk=listing.pk).exists()
    response = client.post(f"/listings/{listing.pk}/delete/")
    assert response.status_code == 302
    assert response["Location"] == "/my/listings/"
    assert not Listing.objects.filter(pk=listing.pk).exists()


def test_actions_need_post(client, user):
    listing = ListingFactory(owner=user)
    client.force_login(user)
    assert client.get(f"/listings/{listing.pk}/archive/").status_code == 405
    listing.refresh_from_db()
    assert listing.status == ListingStatus.ACTIVE


def test_editing_a_sold_listing_is_refused_with_the_reason(client, user, catalogue):
    listing = owned_car(user, catalogue)
    listing.status = ListingStatus.SOLD
    listing.save()
    client.force_login(user)
    page = client.get(f"/listings/{listing.pk}/edit/")
    assert "Sold listings cannot be edited." in page.content.decode()
    response = client.post(
        f"/listings/{listing.pk}/edit/", car_form(catalogue, title="Changed")
    )
    assert response.status_code == 400
    assert "Sold and archived listings cannot be edited." in response.content.decode()
    listing.refresh_from_db()
    assert listing.title == "Old title"


# --- The dashboard offers only the moves a status allows ----------


def state_listing(user, status, archived_from="", **fields):
    never_live = status in (ListingStatus.DRAFT, ListingStatus.PENDING)
    return ListingFactory(
        owner=user,
        status=status,
        archived_from=archived_from,
        published_at=None if never_live else timezone.now(),
        **fields,
    )


def dashboard_buttons(client, listing) -> set[str]:
    """The edit, action and delete URLs of the listing's dashboard row."""
    html = client.get("/my/listings/").content.decode()
    item = re.search(rf'data-listing-id="{listing.pk}".*?</li>', html, re.S)
    return set(re.findall(rf"/listings/{listing.pk}/(\w+)/", item.group(0)))


S = ListingStatus
STATE_BUTTONS = [
    (S.DRAFT, "", {"edit", "publish", "delete"}),
    (S.PENDING, "", {"edit", "delete"}),
    (S.ACTIVE, "", {"edit", "sold", "archive", "delete"}),
    (S.EXPIRED, "", {"edit", "renew", "archive", "delete"}),
    (S.SOLD, "", {"archive", "delete"}),
    (S.ARCHIVED, S.ACTIVE, {"renew", "delete"}),
    (S.ARCHIVED, S.EXPIRED, {"renew", "delete"}),
    (S.ARCHIVED, S.SOLD, {"delete"}),
    (S.REJECTED, "", {"edit", "publish", "delete"}),
]


@pytest.mark.parametrize(("status", "archived_from", "buttons"), STATE_BUTTONS)
def test_dashboard_offers_only_what_the_status_allows(
    client, user, status, archived_from, buttons
):
    listing = state_listing(user, status, archived_from)
    client.force_login(user)
    assert dashboard_buttons(client, listing) == buttons


def test_dashboard_offers_renew_once_the_owner_was_warned(client, user):
    listing = ListingFactory(owner=user, expiry_warned_at=timezone.now())
    client.force_login(user)
    assert "renew" in dashboard_buttons(client, listing)


@pytest.mark.parametrize(("status", "archived_from", "buttons"), STATE_BUTTONS)
def test_every_dashboard_action_button_succeeds(
    client, user, status, archived_from, buttons
):
    client.force_login(user)
    for action in sorted(buttons - {"edit", "delete"}):
        listing = state_listing(user, status, archived_from)
        response = client.post(f"/listings/{listing.pk}/{action}/", follow=True)
        html = response.content.decode()
        assert "flash-error" not in html, (action, html)
        listing.refresh_from_db()
        assert listing.status != status


def test_archived_sold_listing_page_does_not_suggest_renewing(client, user, catalogue):
    listing = state_listing(user, S.ARCHIVED, S.SOLD)
    client.force_login(user)
    html = client.get(f"/listings/{listing.pk}/edit/").content.decode()
    assert "Archived listings cannot be edited." in html
    assert "Renew it from" not in html
    dashboard = client.get("/my/listings/").content.decode()
    assert "Sold before it was archived" in dashboard


# --- A rejected listing is fixed and resubmitted from the pages ----------


def rejected_car(user, catalogue):
    listing = owned_car(user, catalogue)
    listing.status = ListingStatus.REJECTED
    listing.rejection_reason = "Blurry photos"
    listing.save()
    return listing


def test_rejected_listing_pages_offer_resubmit_and_show_the_reason(
    client, user, catalogue
):
    listing = rejected_car(user, catalogue)
    client.force_login(user)
    publish_url = f'action="/listings/{listing.pk}/publish/"'
    detail = client.get(f"/listings/{listing.pk}/").content.decode()
    assert publish_url in detail and "Resubmit for review" in detail
    edit = client.get(f"/listings/{listing.pk}/edit/").content.decode()
    assert 'name="action" value="publish"' in edit
    assert "Resubmit for review" in edit and "Reason: Blurry photos" in edit
    tab = client.get("/my/listings/", {"status": "rejected"}).content.decode()
    assert publish_url in tab and "Resubmit for review" in tab
    assert "Blurry photos" in tab


def test_edit_and_resubmit_sends_a_rejected_listing_to_review(client, user, catalogue):
    listing = rejected_car(user, catalogue)
    client.force_login(user)
    response = client.post(
        f"/listings/{listing.pk}/edit/",
        car_form(catalogue, title="Sharp photos now", action="publish"),
        follow=True,
    )
    assert "goes live after a quick review" in response.content.decode()
    listing.refresh_from_db()
    assert (listing.status, listing.title, listing.rejection_reason) == (
        ListingStatus.PENDING,
        "Sharp photos now",
        "",
    )


def test_saving_a_rejected_listing_keeps_it_rejected(client, user, catalogue):
    listing = rejected_car(user, catalogue)
    client.force_login(user)
    response = client.post(
        f"/listings/{listing.pk}/edit/",
        car_form(catalogue, title="Sharp photos now", action="save"),
    )
    assert response.status_code == 302
    listing.refresh_from_db()
    assert (listing.status, listing.title) == (
        ListingStatus.REJECTED,
        "Sharp photos now",
    )


def test_resubmit_from_the_dashboard(client, user, catalogue):
    listing = rejected_car(user, catalogue)
    client.force_login(user)
    client.post(f"/listings/{listing.pk}/publish/")
    listing.refresh_from_db()
    assert listing.status == ListingStatus.PENDING


def test_edit_form_refuses_an_unknown_city_and_changes_nothing(client, user, catalogue):
    listing = owned_car(user, catalogue)
    before = Listing.objects.values().get(pk=listing.pk)
    client.force_login(user)
    response = client.post(
        f"/listings/{listing.pk}/edit/", car_form(catalogue, city="Atlantis")
    )
    assert response.status_code == 400
    assert response.context["form"].errors["city"]
    assert Listing.objects.values().get(pk=listing.pk) == before
