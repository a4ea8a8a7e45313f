"""Listing lifecycle, favourites, views, saved searches, expiry, moderation."""

from datetime import timedelta

import pytest
from django.contrib.gis.geos import Point
from django.utils import timezone

from accounts.models import Notification
from core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from core.models import AuditLogEntry
from listings import services
from listings.models import (
    Category,
    Favourite,
    Listing,
    ListingStatus,
    ListingView,
    SavedSearch,
)
from listings.search import listing_search, parse_search_params
from listings.tests.factories import ListingFactory

pytestmark = pytest.mark.django_db


def create(owner, category, **overrides):
    data = {
        "owner": owner,
        "category": category,
        "title": "Toyota Camry 2018",
        "description": "One owner, full service history.",
        "price": 1_200_000_000,
        "condition": "used",
        "city": "Almaty",
        "attributes": {"make": "Toyota", "model": "Camry", "year": 2018},
    }
    data.update(overrides)
    return services.listing_create(**data)


# --- Create, edit, lifecycle ----------------------------------------------------


def test_create_draft_with_city_centre_location(user, tree):
    listing = create(user, tree["cars"])
    listing.refresh_from_db()
    assert listing.status == ListingStatus.DRAFT
    assert listing.currency == "KZT"
    assert (listing.lat, listing.lng) == (43.2567, 76.9286)
    assert listing.attributes == {"make": "Toyota", "model": "Camry", "year": 2018}
    assert listing.published_at is None


def test_create_with_a_picked_point_and_publish(user, tree, settings):
    settings.LISTING_LIFETIME_DAYS = 30
    before = timezone.now()
    listing = create(user, tree["cars"], lat=43.3, lng=76.95, publish=True)
    listing.refresh_from_db()
    assert (listing.lat, listing.lng) == (43.3, 76.95)
    assert listing.status == ListingStatus.ACTIVE
    assert listing.published_at >= before
    assert listing.expires_at - listing.published_at == timedelta(days=30)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"title": "abcd"}, "title"),
        ({"title": "\u200b" * 10}, "title"),  # zero-width spaces show nothing
        ({"title": "ab\u200b\u200c\u2060\ufeffc"}, "title"),
        ({"title": "x" * 121}, "title"),
        ({"description": "Too short"}, "description"),
        ({"description": ""}, "description"),
        ({"price": -1}, "price"),
        ({"price": 10.5}, "price"),
        ({"currency": "BTC"}, "currency"),
        ({"condition": "broken"}, "condition"),
        ({"city": "Atlantis"}, "city"),
        ({"lat": 43.2}, "lng"),
        ({"lat": 91, "lng": 10}, "lat"),
        ({"lat": float("nan"), "lng": 10}, "lat"),
        ({"attributes": {"make": "Tesla", "year": 2018}}, "attr_make"),
        ({"title": "Toyota\x00Camry"}, "title"),
        ({"description": "Fine\x00"}, "description"),
    ],
)
def test_create_rejects_bad_input_and_writes_nothing(user, tree, overrides, field):
    with pytest.raises(ValidationError) as exc:
        create(user, tree["cars"], **overrides)
    assert exc.value.field == field
    assert not Listing.objects.exists()


def test_the_api_and_the_form_apply_the_same_lengths(api_client, user, tree):
    from rest_framework.test import APIClient

    from listings.forms import ListingForm
    from listings.services import DESCRIPTION_MIN_LENGTH, TITLE_MIN_LENGTH

    form = ListingForm()
    assert form.fields["title"].min_length == TITLE_MIN_LENGTH == 5
    assert form.fields["description"].min_length == DESCRIPTION_MIN_LENGTH == 10
    client = APIClient()
    client.force_authenticate(user)
    payload = {
        "category": "cars",
        "title": "Audi",
        "description": "short",
        "price": 100,
        "condition": "used",
        "city": "Almaty",
        "attributes": {"make": "Audi", "year": 2015},
    }
    response = client.post("/api/v1/listings/", payload, format="json")
    assert response.status_code == 400
    assert set(response.json()["errors"]) >= {"title", "description"}
    assert not Listing.objects.exists()


def test_an_emoji_title_keeps_its_joiners(user, tree):
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467 stroller"
    assert create(user, tree["cars"], title=family).title == family


def test_create_needs_a_leaf_category(user, tree):
    with pytest.raises(ValidationError) as exc:
        create(user, tree["vehicles"], attributes={})
    assert exc.value.field == "category"


def test_update_revalidates_attributes_for_a_new_category(user, tree):
    listing = create(user, tree["cars"])
    with pytest.raises(ValidationError) as exc:
        services.listing_update(listing=listing, actor=user, category=tree["phones"])
    assert exc.value.field == "attr_make"
    updated = services.listing_update(
        listing=listing,
        actor=user,
        category=tree["phones"],
        attributes={"brand": "Apple"},
        title="iPhone 15",
        price=45_000_000,
    )
    assert (updated.category, updated.attributes, updated.price) == (
        tree["phones"],
        {"brand": "Apple"},
        45_000_000,
    )


def test_update_by_another_user_changes_nothing(user, other_user, tree):
    listing = create(user, tree["cars"], publish=True)
    with pytest.raises(PermissionDenied):
        services.listing_update(listing=listing, actor=other_user, title="Mine now")
    listing.refresh_from_db()
    assert listing.title == "Toyota Camry 2018"


def test_others_do_not_learn_that_a_draft_exists(user, other_user, tree):
    draft = create(user, tree["cars"])
    for service in (
        services.listing_publish,
        services.listing_archive,
        services.listing_delete,
    ):
        with pytest.raises(NotFound):
            service(listing=draft, actor=other_user)
    draft.refresh_from_db()
    assert draft.status == ListingStatus.DRAFT


def test_lifecycle_archive_renew(user, tree):
    listing = create(user, tree["cars"], publish=True)
    archived = services.listing_archive(listing=listing, actor=user)
    assert (archived.status, archived.archived_from) == ("archived", "active")
    renewed = services.listing_renew(listing=listing, actor=user)
    assert (renewed.status, renewed.archived_from) == ("active", "")
    assert renewed.expires_at > timezone.now() + timedelta(days=29)


def test_lifecycle_a_sold_listing_stays_archived(user, tree):
    listing = create(user, tree["cars"], publish=True)
    sold = services.listing_mark_sold(listing=listing, actor=user)
    assert sold.status == ListingStatus.SOLD
    with pytest.raises(Conflict):
        services.listing_mark_sold(listing=listing, actor=user)
    archived = services.listing_archive(listing=listing, actor=user)
    assert (archived.status, archived.archived_from) == ("archived", "sold")
    with pytest.raises(Conflict, match="A sold listing stays archived"):
        services.listing_renew(listing=listing, actor=user)
    listing.refresh_from_db()
    assert (listing.status, listing.archived_from) == ("archived", "sold")


def test_a_never_published_draft_cannot_be_renewed(user, tree):
    draft = create(user, tree["cars"])
    with pytest.raises(Conflict):
        services.listing_renew(listing=draft, actor=user)


def test_review_holds_new_listings(user, tree, settings):
    settings.LISTINGS_REQUIRE_REVIEW = True
    listing = create(user, tree["cars"], publish=True)
    assert listing.status == ListingStatus.PENDING
    assert listing.published_at is None


def test_with_review_only_content_changes_send_a_live_listing_back(
    user, tree, settings
):
    listing = create(user, tree["cars"], lat=43.3, lng=76.95, publish=True)
    settings.LISTINGS_REQUIRE_REVIEW = True
    # the whole form again, only the price changed: stays live, keeps its point
    same = services.listing_update(
        listing=listing,
        actor=user,
        title=listing.title,
        description=listing.description,
        category=listing.category,
        attributes=listing.attributes,
        city="Almaty",
        price=1_000_000_000,
    )
    assert same.status == ListingStatus.ACTIVE
    assert (same.lat, same.lng) == (43.3, 76.95)
    changed = services.listing_update(listing=listing, actor=user, title="Camry XV70")
    assert changed.status == ListingStatus.PENDING


def test_update_to_an_unknown_city_without_a_point_is_refused(user, tree):
    listing = create(user, tree["cars"], city="Astana")
    before = Listing.objects.values().get(pk=listing.pk)
    with pytest.raises(ValidationError) as exc:
        services.listing_update(listing=listing, actor=user, city="Atlantis")
    assert (exc.value.field, exc.value.message) == (
        "city",
        "Pick the place on the map or choose a known city.",
    )
    assert Listing.objects.values().get(pk=listing.pk) == before


def test_update_to_an_unknown_city_with_a_point_keeps_the_point(user, tree):
    listing = create(user, tree["cars"], city="Astana")
    updated = services.listing_update(
        listing=listing, actor=user, city="Atlantis", lat=40.0, lng=70.0
    )
    updated.refresh_from_db()
    assert (updated.city, updated.lat, updated.lng) == ("Atlantis", 40.0, 70.0)


def test_update_to_a_known_city_moves_the_point_to_its_centre(user, tree):
    listing = create(user, tree["cars"], city="Astana", lat=51.2, lng=71.5)
    updated = services.listing_update(listing=listing, actor=user, city="Almaty")
    updated.refresh_from_db()
    assert (updated.lat, updated.lng) == (43.2567, 76.9286)


# --- Favourites and views -------------------------------------------------------


def test_favourites_are_unique_and_counted(user):
    listing = ListingFactory()
    services.favourite_add(user=user, listing=listing)
    services.favourite_add(user=user, listing=listing)
    listing.refresh_from_db()
    assert listing.favourite_count == 1
    assert Favourite.objects.filter(user=user).count() == 1
    assert services.favourite_remove(user=user, listing=listing) is True
    assert services.favourite_remove(user=user, listing=listing) is False
    listing.refresh_from_db()
    assert listing.favourite_count == 0


def test_deleting_a_user_takes_their_favourites_off_the_counts(user):
    from accounts.tests.factories import UserFactory

    fan, other = UserFactory(), UserFactory()
    liked = ListingFactory()
    own = ListingFactory(owner=fan)
    for listing in (liked, own):
        services.favourite_add(user=other, listing=listing)
    services.favourite_add(user=fan, listing=liked)
    assert Listing.objects.get(pk=liked.pk).favourite_count == 2
    fan.delete()  # the admin's delete: favourites go by cascade
    assert Listing.objects.get(pk=liked.pk).favourite_count == 1
    assert not Listing.objects.filter(pk=own.pk).exists()


def test_cannot_favourite_own_or_inactive_listing(user):
    with pytest.raises(ValidationError):
        services.favourite_add(user=user, listing=ListingFactory(owner=user))
    with pytest.raises(Conflict):
        services.favourite_add(user=user, listing=ListingFactory(status="sold"))
    assert not Favourite.objects.exists()


def test_views_count_once_per_visitor_per_day(django_capture_on_commit_callbacks):
    listing = ListingFactory()
    with django_capture_on_commit_callbacks(execute=True):
        assert services.listing_view_record(listing=listing, visitor_key="a:1")
        assert not services.listing_view_record(listing=listing, visitor_key="a:1")
        assert services.listing_view_record(listing=listing, visitor_key="u:7")
    listing.refresh_from_db()
    assert listing.view_count == 2
    # yesterday's view by the same visitor counted on its own day
    ListingView.objects.create(
        listing=listing,
        visitor_key="a:1",
        day=timezone.localdate() - timedelta(days=1),
    )
    services.listing_view_count_sync(listing_id=listing.pk)
    listing.refresh_from_db()
    assert listing.view_count == 3


# --- Expiry ---------------------------------------------------------------------


def test_expiry_job_expires_only_overdue_listings_and_is_idempotent():
    now = timezone.now()
    overdue = ListingFactory(expires_at=now - timedelta(minutes=1))
    fresh = ListingFactory(expires_at=now + timedelta(days=5))
    sold = ListingFactory(status="sold", expires_at=now - timedelta(days=1))
    assert services.listings_expire() == 1
    assert services.listings_expire() == 0
    statuses = dict(Listing.objects.values_list("pk", "status"))
    assert statuses == {overdue.pk: "expired", fresh.pk: "active", sold.pk: "sold"}
    notes = Notification.objects.filter(kind="listing_expiring")
    assert [(n.user_id, n.title) for n in notes] == [
        (overdue.owner_id, f"“{overdue.title}” has expired")
    ]


def test_expiry_warning_is_sent_once_and_renewal_resets_it(settings):
    settings.LISTING_EXPIRY_WARNING_DAYS = 3
    now = timezone.now()
    soon = ListingFactory(expires_at=now + timedelta(days=2, hours=1))
    ListingFactory(expires_at=now + timedelta(days=10))
    assert services.listings_warn_expiring() == 1
    assert services.listings_warn_expiring() == 0
    assert Notification.objects.get(user=soon.owner).title == (
        f"“{soon.title}” expires in 2 days"
    )
    renewed = services.listing_renew(listing=soon, actor=soon.owner)
    assert renewed.expiry_warned_at is None
    assert services.listings_warn_expiring(now=renewed.expires_at - timedelta(days=1))
    assert Notification.objects.filter(user=soon.owner).count() == 2


@pytest.mark.parametrize(
    ("remaining", "words"),
    [
        (timedelta(hours=5), "within a day"),
        (timedelta(hours=23, minutes=59), "within a day"),
        (timedelta(days=1), "in 1 day"),
        (timedelta(days=1, hours=11), "in 1 day"),
        (timedelta(days=1, hours=23), "in 2 days"),
        (timedelta(days=2, hours=1), "in 2 days"),
        (timedelta(days=2, hours=23, minutes=59), "in 3 days"),
    ],
)
def test_expiry_warning_rounds_and_pluralises_the_days(remaining, words):
    from listings.services.expiry import expires_in_words

    assert expires_in_words(remaining) == words


def test_expiry_warning_a_little_under_two_days_says_in_2_days(settings):
    settings.LISTING_EXPIRY_WARNING_DAYS = 3
    now = timezone.now()
    listing = ListingFactory(expires_at=now + timedelta(days=1, hours=23))
    assert services.listings_warn_expiring(now=now) == 1
    assert Notification.objects.get(user=listing.owner).title == (
        f"“{listing.title}” expires in 2 days"
    )


def test_expired_listing_renews_in_one_click():
    listing = ListingFactory(expires_at=timezone.now() - timedelta(days=1))
    services.listings_expire()
    listing.refresh_from_db()
    renewed = services.listing_renew(listing=listing, actor=listing.owner)
    assert renewed.status == ListingStatus.ACTIVE


# --- Saved searches -------------------------------------------------------------


def save(user, name="Cheap Toyotas", frequency="instant", **query):
    params = parse_search_params(query)
    return services.saved_search_create(
        user=user, name=name, params=params, frequency=frequency
    )


def test_instant_saved_search_notifies_on_a_matching_new_listing(
    user, other_user, tree, django_capture_on_commit_callbacks
):
    # given a saved search for Toyotas under 15 million tenge in vehicles
    saved = save(other_user, q="toyota", category="vehicles", price_max="15000000")
    unrelated = save(other_user, name="Phones", q="iphone")
    # when a matching car and a too expensive one are published
    with django_capture_on_commit_callbacks(execute=True):
        match = create(user, tree["cars"], price=1_200_000_000, publish=True)
        create(user, tree["cars"], price=2_000_000_000, publish=True)
    # then exactly one notification, for the match, with its link
    notes = list(Notification.objects.filter(user=other_user, kind="saved_search"))
    assert [(n.title, n.url) for n in notes] == [
        (
            "New for “Cheap Toyotas”: Toyota Camry 2018",
            f"/listings/{match.pk}/",
        )
    ]
    assert list(saved.matches.values_list("listing_id", flat=True)) == [match.pk]
    assert not unrelated.matches.exists()
    # and running the catch-up job does not announce it again
    assert services.saved_searches_notify(frequency="instant") == 0


def test_own_listings_do_not_notify_own_saved_searches(
    user, tree, django_capture_on_commit_callbacks
):
    save(user, q="toyota")
    with django_capture_on_commit_callbacks(execute=True):
        create(user, tree["cars"], publish=True)
    assert not Notification.objects.filter(kind="saved_search").exists()


def test_daily_digest_collects_matches_once(user, other_user, tree):
    saved = save(other_user, name="Cars", frequency="daily", category="cars")
    SavedSearch.objects.filter(pk=saved.pk).update(
        last_notified_at=timezone.now() - timedelta(days=1)
    )
    for _ in range(2):
        create(user, tree["cars"], publish=True)
    assert services.saved_searches_notify(frequency="daily") == 1
    note = Notification.objects.get(user=other_user)
    assert note.title == "2 new listings for “Cars”"
    assert note.url == "/search/?category=cars"
    # the next run the same day sends nothing
    assert services.saved_searches_notify(frequency="daily") == 0
    later = timezone.now() + timedelta(days=1)
    assert services.saved_searches_notify(frequency="daily", now=later) == 0


def test_saved_search_rules(user, other_user):
    with pytest.raises(ValidationError):
        save(user, name="Everything")  # no filter at all
    saved = save(user, q="bike")
    with pytest.raises(Conflict):
        save(user, name="Same again", q="bike")
    with pytest.raises(ValidationError):
        services.saved_search_update(saved_search=saved, user=user, frequency="hourly")
    with pytest.raises(NotFound):
        services.saved_search_delete(saved_search=saved, user=other_user)
    assert SavedSearch.objects.filter(pk=saved.pk).exists()
    services.saved_search_update(saved_search=saved, user=user, frequency="daily")
    saved.refresh_from_db()
    assert saved.frequency == "daily"


@pytest.mark.parametrize(
    "query",
    [
        {"ordering": "price_asc"},  # answered 201 with params {} and matched all
        {"q": "🚗"},  # no searchable words: matched every listing
        {"q": "!!! ...", "ordering": "newest"},
        {"lat": "43.2", "lng": "76.9"},  # a point without a radius only measures
        {"has_photos": "false"},
    ],
)
def test_a_saved_search_without_an_effective_filter_is_refused(user, query):
    with pytest.raises(ValidationError) as refused:
        save(user, name="Everything", **query)
    assert refused.value.field == "params"
    assert "no filter" in refused.value.message
    assert not SavedSearch.objects.exists()


@pytest.mark.parametrize(
    ("query", "stored"),
    [
        ({"q": "🚗", "category": "cars"}, {"q": "🚗", "category": "cars"}),
        ({"q": "bmw", "ordering": "price_asc"}, {"q": "bmw"}),
        (
            {"lat": "43.2", "lng": "76.9", "radius_km": "5"},
            {"lat": "43.2", "lng": "76.9", "radius_km": "5"},
        ),
        ({"has_photos": "true"}, {"has_photos": "true"}),
    ],
)
def test_a_saved_search_with_a_filter_is_kept_without_its_order(
    user, tree, query, stored
):
    saved = save(user, name="Some", **query)
    assert saved.params == stored


def test_a_stored_search_without_a_filter_notifies_nobody(
    user, other_user, tree, django_capture_on_commit_callbacks
):
    # given a saved search from before such searches were refused
    SavedSearch.objects.create(
        user=other_user, name="Old", params={}, frequency="instant"
    )
    old_daily = SavedSearch.objects.create(
        user=other_user,
        name="Old daily",
        params={"q": "🚗"},
        frequency="daily",
        last_notified_at=timezone.now() - timedelta(days=2),
    )
    # when listings are published and the jobs run
    with django_capture_on_commit_callbacks(execute=True):
        create(user, tree["cars"], publish=True)
    assert services.saved_searches_notify(frequency="instant") == 0
    assert services.saved_searches_notify(frequency="daily") == 0
    # then nobody is told about everything
    assert not Notification.objects.filter(kind="saved_search").exists()
    assert not old_daily.matches.exists()


def test_saved_search_state_says_whether_and_why_not_it_notifies(user, tree):
    working = save(user, name="Petrol cars", category="cars", attr_fuel="petrol")
    no_filter = SavedSearch.objects.create(user=user, name="Old", params={})
    wordless = SavedSearch.objects.create(user=user, name="Car", params={"q": "🚗"})
    gone = SavedSearch.objects.create(
        user=user, name="Boats", params={"category": "boats"}
    )
    states = {
        s.name: services.saved_search_state(s)
        for s in (working, no_filter, wordless, gone)
    }
    assert states["Petrol cars"].notifies
    assert states["Petrol cars"].params == parse_search_params(working.params)
    assert (states["Petrol cars"].inactive_reason, states["Petrol cars"].message) == (
        None,
        "",
    )
    for name in ("Old", "Car"):
        assert not states[name].notifies
        assert states[name].params is None
        assert states[name].inactive_reason == "no_filter"
        assert states[name].message.startswith("This search has no filter")
    assert not states["Boats"].notifies
    assert (states["Boats"].inactive_reason, states["Boats"].detail) == (
        "outdated",
        "Unknown category.",
    )
    # a filter on an attribute the category no longer declares
    tree["cars"].attributes.filter(name="fuel").delete()
    working.refresh_from_db()
    state = services.saved_search_state(working)
    assert (state.notifies, state.inactive_reason) == (False, "outdated")
    assert state.detail == "Cars has no filter 'fuel'."


def test_a_saved_search_whose_filter_is_gone_notifies_nobody(
    user, other_user, tree, django_capture_on_commit_callbacks, car_attributes
):
    # given saved searches for petrol cars and a petrol car they both match
    instant = save(other_user, name="Petrol", category="cars", attr_fuel="petrol")
    daily = save(
        other_user,
        name="Cheap petrol",
        frequency="daily",
        category="cars",
        attr_fuel="petrol",
        price_max="15000000",
    )
    SavedSearch.objects.filter(pk=daily.pk).update(
        last_notified_at=timezone.now() - timedelta(days=2)
    )
    with django_capture_on_commit_callbacks(execute=False):  # no instant trigger
        car = create(
            user, tree["cars"], attributes={**car_attributes, "fuel": "petrol"}
        )
        services.listing_publish(listing=car, actor=user)
    for saved in (instant, daily):
        params = services.saved_search_state(saved).params
        assert listing_search(params).filter(pk=car.pk).exists()
    # when the fuel attribute is removed and the jobs run
    tree["cars"].attributes.filter(name="fuel").delete()
    assert services.saved_searches_notify(frequency="instant") == 0
    assert services.saved_searches_notify(frequency="daily") == 0
    # then nothing is announced and nothing is recorded as announced
    assert not Notification.objects.filter(kind="saved_search").exists()
    assert not instant.matches.exists() and not daily.matches.exists()


# --- Moderation -----------------------------------------------------------------


def test_moderator_rejects_with_reason_notified_and_audited(moderator, user, tree):
    listing = create(user, tree["cars"], publish=True)
    services.listing_moderate(
        listing=listing, moderator=moderator, action="reject", reason="Stock photo"
    )
    listing.refresh_from_db()
    assert (listing.status, listing.rejection_reason) == ("rejected", "Stock photo")
    note = Notification.objects.get(user=user, kind="moderation")
    assert "Stock photo" in note.body
    entry = AuditLogEntry.objects.get()
    assert (entry.actor, entry.action, entry.target_id, entry.reason) == (
        moderator,
        "listing.reject",
        str(listing.pk),
        "Stock photo",
    )
    # a rejected listing goes back through review when published again
    again = services.listing_publish(listing=listing, actor=user)
    assert again.status == ListingStatus.PENDING


def test_moderator_approves_a_pending_listing(moderator, user, tree, settings):
    settings.LISTINGS_REQUIRE_REVIEW = True
    listing = create(user, tree["cars"], publish=True)
    approved = services.listing_moderate(
        listing=listing, moderator=moderator, action="approve"
    )
    assert approved.status == ListingStatus.ACTIVE
    assert approved.published_at is not None
    assert AuditLogEntry.objects.get().action == "listing.approve"


def test_hide_needs_a_reason_and_a_moderator(moderator, user, other_user, tree):
    listing = create(user, tree["cars"], publish=True)
    with pytest.raises(ValidationError):
        services.listing_moderate(listing=listing, moderator=moderator, action="hide")
    with pytest.raises(PermissionDenied):
        services.listing_moderate(
            listing=listing, moderator=other_user, action="hide", reason="x"
        )
    listing.refresh_from_db()
    assert listing.status == ListingStatus.ACTIVE
    assert not AuditLogEntry.objects.exists()


@pytest.mark.parametrize(
    ("status", "action", "message"),
    [
        (ListingStatus.DRAFT, "hide", "A draft cannot be hidden."),
        (ListingStatus.EXPIRED, "reject", "An expired listing cannot be rejected."),
        (ListingStatus.SOLD, "reject", "A sold listing cannot be rejected."),
    ],
)
def test_moderation_refusals_read_well(moderator, status, action, message):
    listing = ListingFactory(status=status)
    with pytest.raises(Conflict) as exc:
        services.listing_moderate(
            listing=listing, moderator=moderator, action=action, reason="Spam"
        )
    assert exc.value.message == message
    listing.refresh_from_db()
    assert listing.status == status


# --- Categories -----------------------------------------------------------------


def test_category_paths_follow_moves(tree):
    phones = tree["phones"]
    services.category_save(
        category=phones, parent=tree["vehicles"], name="Phones", slug="phones"
    )
    phones.refresh_from_db()
    assert phones.path == f"{tree['vehicles'].path}{phones.pk}/"
    with pytest.raises(ValidationError):
        services.category_save(
            category=tree["vehicles"],
            parent=phones,
            name="Vehicles",
            slug="vehicles",
        )
    assert Category.objects.get(slug="vehicles").path == tree["vehicles"].path


def test_category_slug_is_unique(tree):
    with pytest.raises(ValidationError) as exc:
        services.category_save(name="Cars again", slug="cars")
    assert exc.value.field == "slug"


def test_listing_location_from_two_floats_only(user, tree):
    listing = create(user, tree["cars"], lat="43.5", lng="77.1")
    assert listing.location == Point(77.1, 43.5, srid=4326)
    with pytest.raises(ValidationError):
        create(user, tree["cars"], lat="POINT(1 2)", lng="0")
