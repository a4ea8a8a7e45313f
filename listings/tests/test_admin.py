"""Moderation in the admin, as a moderator (staff in the Moderators group)."""

import json

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME

from accounts.models import Notification
from core.models import AuditLogEntry
from listings.models import CategoryAttribute, ListingImage, ListingStatus
from listings.tests.factories import ListingFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/listings/listing/"


@pytest.fixture
def moderator_client(client, moderator):
    client.force_login(moderator)
    return client


def test_changelist_with_filters_and_previews(
    moderator_client, tree, django_assert_max_num_queries
):
    for i in range(15):
        listing = ListingFactory(category=tree["books"], city="Shymkent")
        ListingImage.objects.create(
            listing=listing, image=f"{i}.jpg", thumbnail=f"t{i}.jpg", position=0
        )
    with django_assert_max_num_queries(20):
        response = moderator_client.get(
            CHANGELIST, {"status__exact": "active", "city": "Shymkent", "q": "Listing"}
        )
    assert response.status_code == 200
    assert response.content.count(b"/media/t") == 15


def test_bulk_approve(moderator_client, moderator, settings):
    pending = [ListingFactory(status=ListingStatus.PENDING) for _ in range(2)]
    response = moderator_client.post(
        CHANGELIST,
        {"action": "approve_listings", ACTION_CHECKBOX_NAME: [x.pk for x in pending]},
    )
    assert response.status_code == 302
    for listing in pending:
        listing.refresh_from_db()
        assert listing.status == ListingStatus.ACTIVE
    assert AuditLogEntry.objects.filter(action="listing.approve").count() == 2


def test_bulk_reject_asks_for_a_reason_first(moderator_client):
    listing = ListingFactory(status=ListingStatus.PENDING)
    data = {"action": "reject_listings", ACTION_CHECKBOX_NAME: [listing.pk]}
    # first the form for the reason: nothing changes yet
    response = moderator_client.post(CHANGELIST, data)
    assert response.status_code == 200
    assert b"tell the owners why" in response.content
    listing.refresh_from_db()
    assert listing.status == ListingStatus.PENDING
    # an empty reason is refused
    response = moderator_client.post(CHANGELIST, {**data, "apply": "1", "reason": ""})
    assert response.status_code == 200
    listing.refresh_from_db()
    assert listing.status == ListingStatus.PENDING
    # with a reason the owner is told and the decision audited
    response = moderator_client.post(
        CHANGELIST, {**data, "apply": "1", "reason": "Prohibited item"}
    )
    assert response.status_code == 302
    listing.refresh_from_db()
    assert (listing.status, listing.rejection_reason) == ("rejected", "Prohibited item")
    assert Notification.objects.get(user=listing.owner, kind="moderation")
    assert AuditLogEntry.objects.get().reason == "Prohibited item"


def test_hide_a_live_listing(moderator_client):
    listing = ListingFactory()
    moderator_client.post(
        CHANGELIST,
        {
            "action": "hide_listings",
            ACTION_CHECKBOX_NAME: [listing.pk],
            "apply": "1",
            "reason": "Reported as a scam",
        },
    )
    listing.refresh_from_db()
    assert listing.status == ListingStatus.REJECTED
    assert AuditLogEntry.objects.get().action == "listing.hide"


def test_ordinary_user_has_no_admin(client, user):
    listing = ListingFactory(status=ListingStatus.PENDING)
    client.force_login(user)
    response = client.post(
        CHANGELIST, {"action": "approve_listings", ACTION_CHECKBOX_NAME: [listing.pk]}
    )
    assert response.status_code == 302
    assert "/login/" in response["Location"]
    listing.refresh_from_db()
    assert listing.status == ListingStatus.PENDING


def test_category_admin_orders_inline(moderator_client, tree):
    response = moderator_client.get("/admin/listings/category/")
    assert response.status_code == 200
    assert b'name="form-0-order"' in response.content
    change = moderator_client.get(f"/admin/listings/category/{tree['cars'].pk}/change/")
    assert change.status_code == 200
    assert b"attributes-0-name" in change.content


def test_category_admin_rejects_a_choice_attribute_without_choices(
    moderator_client, tree
):
    phones = tree["books"]
    data = {
        "name": phones.name,
        "slug": phones.slug,
        "icon": phones.icon,
        "order": phones.order,
        "is_active": "on",
        "parent": phones.parent_id,
        "attributes-TOTAL_FORMS": "1",
        "attributes-INITIAL_FORMS": "0",
        "attributes-MIN_NUM_FORMS": "0",
        "attributes-MAX_NUM_FORMS": "1000",
        "attributes-0-name": "genre",
        "attributes-0-label": "Genre",
        "attributes-0-type": "choice",
        "attributes-0-choices": "[]",
        "attributes-0-order": "0",
        "attributes-0-is_filterable": "on",
    }
    url = f"/admin/listings/category/{phones.pk}/change/"
    response = moderator_client.post(url, data)
    assert response.status_code == 200
    assert b"needs a list of choices" in response.content
    assert not CategoryAttribute.objects.filter(category=phones).exists()
    data["attributes-0-choices"] = '["novel", "poetry"]'
    response = moderator_client.post(url, data)
    assert response.status_code == 302
    assert CategoryAttribute.objects.get(category=phones).choices == ["novel", "poetry"]


def _category_form(category, **changes):
    data = {
        "name": category.name,
        "slug": category.slug,
        "icon": category.icon,
        "order": category.order,
        "is_active": "on",
        "parent": category.parent_id or "",
        "attributes-TOTAL_FORMS": "0",
        "attributes-INITIAL_FORMS": "0",
        "attributes-MIN_NUM_FORMS": "0",
        "attributes-MAX_NUM_FORMS": "1000",
    }
    data.update(changes)
    return data


@pytest.mark.parametrize(
    ("slug", "error"),
    [("___", b"Enter a slug of letters"), ("CARS", b"Another category has this slug")],
)
def test_category_admin_says_what_is_wrong_with_a_slug(
    moderator_client, tree, slug, error
):
    # The service slugifies: "___" leaves nothing, "CARS" becomes "cars".
    from listings.models import Category

    before = Category.objects.count()
    data = _category_form(tree["cars"], name="QA", slug=slug, parent="")
    response = moderator_client.post("/admin/listings/category/add/", data)
    assert response.status_code == 200
    assert error in response.content
    assert Category.objects.count() == before


def test_an_attribute_listings_filled_in_keeps_its_type_and_name(
    moderator_client, tree
):
    from core.errors import ValidationError
    from listings.services import category_attribute_save

    cars = tree["cars"]
    make = CategoryAttribute.objects.get(category=cars, name="make")
    mileage = CategoryAttribute.objects.get(category=cars, name="mileage")
    ListingFactory(category=cars, attributes={"make": "Toyota"})
    url = f"/admin/listings/category/{cars.pk}/change/"
    change = moderator_client.get(url)
    formset = change.context["inline_admin_formsets"][0].formset
    data = _category_form(cars)
    data.update(
        {
            k: ("" if v is None else v)
            for k, v in formset.management_form.initial.items()
            for k in [f"attributes-{k}"]
        }
    )
    for i, form in enumerate(formset.forms):
        for name, field in form.fields.items():
            value = form.initial.get(name, field.initial)
            if name == "choices":
                value = json.dumps(value or [])
            if isinstance(value, bool):
                if value:
                    data[f"attributes-{i}-{name}"] = "on"
                continue
            data[f"attributes-{i}-{name}"] = "" if value is None else value
    index = next(i for i, f in enumerate(formset.forms) if f.instance.pk == make.pk)
    data[f"attributes-{index}-type"] = "text"
    data[f"attributes-{index}-choices"] = "[]"
    response = moderator_client.post(url, data)
    assert response.status_code == 200
    assert "Listings already store values of “make”".encode() in response.content
    make.refresh_from_db()
    assert make.type == "choice"

    # Through the service too; an attribute nobody filled in may change.
    make.type = "text"
    with pytest.raises(ValidationError, match="already store values"):
        category_attribute_save(attribute=make)
    make.refresh_from_db()
    make.name = "brand"
    with pytest.raises(ValidationError, match="already store values"):
        category_attribute_save(attribute=make)
    mileage.type = "year"  # number <-> year: whole numbers either way
    category_attribute_save(attribute=mileage)
    mileage.type = "text"
    category_attribute_save(attribute=mileage)
