import json
import re
from datetime import timedelta

import pytest
from django.contrib.gis.geos import Point
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import UserFactory
from listings.models import ListingImage, ListingStatus, ListingView
from listings.selectors import category_tree_invalidate
from listings.tests.factories import ListingFactory

pytestmark = pytest.mark.django_db


def add_photo(listing, position=0):
    return ListingImage.objects.create(
        listing=listing,
        image=f"listings/test-{listing.pk}-{position}.jpg",
        thumbnail=f"listings/thumbs/test-{listing.pk}-{position}.jpg",
        width=640,
        height=480,
        position=position,
    )


def queries_of(client, path, data=None):
    """Queries of one request, after a first one warmed caches and the session."""
    client.get(path, data)
    with CaptureQueriesContext(connection) as context:
        response = client.get(path, data)
    return len(context.captured_queries), response


def make_listings(category, count, **kwargs):
    listings = []
    for i in range(count):
        listing = ListingFactory(category=category, **kwargs)
        add_photo(listing, 0)
        add_photo(listing, 1)
        listings.append(listing)
        if i % 2:
            listing.featured_until = timezone.now() + timedelta(days=3)
            listing.save(update_fields=["featured_until"])
    category_tree_invalidate()
    return listings


# --- Home ----------


def test_home_shows_categories_with_counts_featured_and_newest(client, catalogue):
    # given two active car listings (one featured) and one draft
    cars = make_listings(catalogue["cars"], 2, title="Toyota Camry")
    ListingFactory(category=catalogue["cars"], status=ListingStatus.DRAFT)
    category_tree_invalidate()
    # when the home page is shown
    response = client.get("/")
    # then the category grid counts the active listings of the tree
    assert response.status_code == 200
    html = response.content.decode()
    assert 'href="/c/vehicles/"' in html
    assert "2 listings" in html
    assert "0 listings" in html  # electronics
    # and the newest and featured listings are there with their first photo
    assert [x.pk for x in response.context["newest"]] == [cars[1].pk, cars[0].pk]
    assert [x.pk for x in response.context["featured"]] == [cars[1].pk]
    assert f"/media/listings/thumbs/test-{cars[0].pk}-0.jpg" in html
    assert "Buy and sell near you" in html


def test_home_query_count_does_not_grow_with_listings(
    client, catalogue, django_assert_max_num_queries
):
    # given a logged-in visitor (favourite hearts) and a few listings
    client.force_login(UserFactory())
    make_listings(catalogue["cars"], 2)
    few, _ = queries_of(client, "/")
    assert few <= 14
    # when many more listings are shown, then no query is added
    make_listings(catalogue["electronics"], 12)
    client.get("/")
    with django_assert_max_num_queries(few):
        response = client.get("/")
    assert len(response.context["newest"]) == 12
    assert len(response.context["featured"]) == 7


# --- Search ----------


def test_search_finds_by_text_and_shows_count(client, catalogue):
    camry = ListingFactory(category=catalogue["cars"], title="Toyota Camry 2015")
    ListingFactory(category=catalogue["electronics"], title="Sony TV")
    response = client.get("/search/", {"q": "camry"})
    assert response.status_code == 200
    assert [x.pk for x in response.context["listings"]] == [camry.pk]
    html = response.content.decode()
    assert "Toyota Camry 2015" in html
    assert "Sony TV" not in html
    assert "1 listing" in html


def test_search_shows_category_filters_only_for_the_chosen_category(client, catalogue):
    response = client.get("/search/")
    assert 'name="attr_mileage_min"' not in response.content.decode()
    response = client.get("/search/", {"category": "cars"})
    html = response.content.decode()
    assert 'name="attr_mileage_min"' in html
    assert 'name="attr_year_max"' in html
    assert '<option value="diesel">diesel</option>' in html
    assert 'name="attr_has_warranty"' in html


def test_search_filters_by_attribute_range_and_price(client, catalogue):
    low = ListingFactory(
        category=catalogue["cars"], attributes={"mileage": 50_000}, price=500_000_000
    )
    ListingFactory(category=catalogue["cars"], attributes={"mileage": 250_000})
    ListingFactory(
        category=catalogue["cars"], attributes={"mileage": 10_000}, price=900_000_000
    )
    response = client.get(
        "/search/",
        {"category": "cars", "attr_mileage_max": "100000", "price_max": "6000000"},
    )
    assert response.status_code == 200
    assert [x.pk for x in response.context["listings"]] == [low.pk]


def test_search_with_bad_parameter_is_a_400_with_the_message(client, catalogue):
    ListingFactory(category=catalogue["cars"])
    response = client.get("/search/", {"price_min": "lots"})
    assert response.status_code == 400
    assert "Enter a price as a number." in response.content.decode()
    assert response.context["listings"] == []


def test_stale_attribute_filters_are_dropped_when_the_category_changes(
    client, catalogue
):
    # given the cars filters were applied and the user picks another category
    tv = ListingFactory(category=catalogue["electronics"], title="Sony TV")
    response = client.get(
        "/search/",
        {"category": "electronics", "prev_category": "cars", "attr_mileage_max": "5"},
    )
    # then the old filter is ignored instead of failing
    assert response.status_code == 200
    assert [x.pk for x in response.context["listings"]] == [tv.pk]


def test_search_paginates(client, catalogue):
    ListingFactory.create_batch(30, category=catalogue["electronics"])
    first = client.get("/search/")
    second = client.get("/search/", {"page": "2"})
    assert len(first.context["listings"]) == 24
    assert len(second.context["listings"]) == 6
    assert 'href="?page=2"' in first.content.decode()
    ids = {x.pk for x in first.context["listings"]} | {
        x.pk for x in second.context["listings"]
    }
    assert len(ids) == 30


def test_search_pages_beyond_the_first_show_their_range(client, catalogue):
    ListingFactory.create_batch(30, category=catalogue["electronics"])
    first = client.get("/search/").content.decode()
    assert "Listings 1\u201324" in first
    assert 'href="?page=2"' in first
    # The last page knows the total.
    assert "30 listings" in client.get("/search/", {"page": "2"}).content.decode()
    assert "No more listings" in client.get("/search/", {"page": "5"}).content.decode()


def test_search_by_distance_sorts_nearest_first_and_shows_distance(client, catalogue):
    near = ListingFactory(
        category=catalogue["cars"], location=Point(76.93, 43.25, srid=4326)
    )
    far = ListingFactory(
        category=catalogue["cars"], location=Point(76.99, 43.30, srid=4326)
    )
    ListingFactory(
        category=catalogue["cars"], city="Astana", location=Point(71.43, 51.13)
    )
    response = client.get(
        "/search/",
        {"lat": "43.25", "lng": "76.93", "radius_km": "20", "ordering": "distance"},
    )
    assert [x.pk for x in response.context["listings"]] == [near.pk, far.pk]
    html = response.content.decode()
    assert "km away" in html or " m away" in html
    assert '<option value="distance" selected>' in html


def test_map_view_gives_markers_with_rounded_coordinates(client, catalogue):
    listing = ListingFactory(
        category=catalogue["cars"],
        title="Camry",
        location=Point(76.928612, 43.256734, srid=4326),
    )
    response = client.get("/search/", {"view": "map"})
    html = response.content.decode()
    data = re.search(
        r'<script id="map-markers" type="application/json">(.*?)</script>', html
    ).group(1)
    markers = json.loads(data)
    assert markers == [
        {
            "id": listing.pk,
            "lat": 43.26,
            "lng": 76.93,
            "title": "Camry",
            "price": "1\u00a0000\u00a0₸",
            "url": f"/listings/{listing.pk}/",
            "thumb": "",
            "city": "Almaty",
        }
    ]
    assert "43.256734" not in html
    assert 'data-map="results"' in html
    assert "leaflet/leaflet.js" in html
    assert 'id="search-area"' in html


def test_search_query_count_does_not_grow_with_results(
    client, catalogue, django_assert_max_num_queries
):
    client.force_login(UserFactory())
    make_listings(catalogue["cars"], 2, attributes={"mileage": 1000})
    query = {"category": "cars", "attr_mileage_max": "5000", "q": "listing"}
    few, response = queries_of(client, "/search/", query)
    assert len(response.context["listings"]) == 2
    assert few <= 20
    make_listings(catalogue["cars"], 20, attributes={"mileage": 1000})
    client.get("/search/", query)
    with django_assert_max_num_queries(few):
        response = client.get("/search/", query)
    assert len(response.context["listings"]) == 22
    with django_assert_max_num_queries(few):
        response = client.get("/search/", {**query, "view": "map"})
    assert len(response.context["markers"]) == 22


# --- Category page ----------


def test_category_page_lists_the_tree_below_it_with_subcategories(client, catalogue):
    car = ListingFactory(category=catalogue["cars"], title="Lada Niva")
    ListingFactory(category=catalogue["electronics"], title="Sony TV")
    category_tree_invalidate()
    response = client.get("/c/vehicles/")
    assert response.status_code == 200
    assert [x.pk for x in response.context["listings"]] == [car.pk]
    html = response.content.decode()
    assert "<h1>Vehicles</h1>" in html
    assert 'href="/c/cars/' in html  # the subcategory chip


def test_category_page_has_breadcrumbs_and_attribute_filters(client, catalogue):
    response = client.get(reverse("listings:category", kwargs={"slug": "cars"}))
    html = response.content.decode()
    assert '<a href="/c/vehicles/">Vehicles</a>' in html
    assert 'name="attr_mileage_min"' in html
    assert 'action="/c/cars/"' in html


def test_unknown_category_is_404(client, catalogue):
    assert client.get("/c/no-such-thing/").status_code == 404


def test_category_page_query_count_is_constant(
    client, catalogue, django_assert_max_num_queries
):
    make_listings(catalogue["cars"], 2)
    few, _ = queries_of(client, "/c/vehicles/")
    assert few <= 16
    make_listings(catalogue["cars"], 15)
    client.get("/c/vehicles/")
    with django_assert_max_num_queries(few):
        response = client.get("/c/vehicles/")
    assert len(response.context["listings"]) == 17


# --- Detail ----------


def test_detail_shows_listing_with_rounded_location_and_no_exact_point(
    client, catalogue
):
    listing = ListingFactory(
        category=catalogue["cars"],
        title="Toyota Camry",
        description="One owner.\nGarage kept.",
        price=650_000_000,
        attributes={"mileage": 120_000, "fuel": "petrol", "has_warranty": False},
        location=Point(76.928612, 43.256734, srid=4326),
    )
    add_photo(listing, 0)
    response = client.get(f"/listings/{listing.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Toyota Camry" in html
    assert "6\u00a0500\u00a0000\u00a0₸" in html
    assert "<dt>Mileage</dt><dd>120000 km</dd>" in html
    assert "<dt>Under warranty</dt><dd>No</dd>" in html
    assert 'data-lat="43.26" data-lng="76.93"' in html
    assert "43.2567" not in html and "76.9286" not in html
    assert f'href="/messages/start/{listing.pk}/"' in html or (
        f"next=/messages/start/{listing.pk}/" in html
    )
    assert "Buy with safe deal" not in html  # no deals:start URL yet
    assert f"test-{listing.pk}-0.jpg" in html


def test_detail_records_a_view_once_per_visitor_and_day(
    client, catalogue, django_capture_on_commit_callbacks
):
    listing = ListingFactory(category=catalogue["cars"])
    with django_capture_on_commit_callbacks(execute=True):
        client.get(f"/listings/{listing.pk}/")
        client.get(f"/listings/{listing.pk}/")
    assert ListingView.objects.filter(listing=listing).count() == 1
    listing.refresh_from_db()
    assert listing.view_count == 1


def test_owner_sees_stats_edit_and_promote_and_no_view_is_counted(client, catalogue):
    listing = ListingFactory(category=catalogue["cars"])
    client.force_login(listing.owner)
    response = client.get(f"/listings/{listing.pk}/")
    html = response.content.decode()
    assert f'href="/listings/{listing.pk}/edit/"' in html
    assert f'href="/wallet/promote/{listing.pk}/"' in html
    assert "0 views" in html
    assert "Message seller" not in html
    assert ListingView.objects.filter(listing=listing).count() == 0


def test_draft_is_hidden_from_others_and_shown_to_its_owner(client, catalogue):
    draft = ListingFactory(category=catalogue["cars"], status=ListingStatus.DRAFT)
    assert client.get(f"/listings/{draft.pk}/").status_code == 404
    client.force_login(UserFactory())
    assert client.get(f"/listings/{draft.pk}/").status_code == 404
    client.force_login(draft.owner)
    response = client.get(f"/listings/{draft.pk}/")
    assert response.status_code == 200
    assert "only you can see it" in response.content.decode()


def test_detail_of_missing_listing_is_404(client, catalogue):
    assert client.get("/listings/999999/").status_code == 404


def test_safe_deal_button_appears_when_deals_start_url_exists(
    client, catalogue, settings
):
    from listings.templatetags.listings_tags import optional_url

    assert optional_url("deals:start", 1) == ""
    assert optional_url("listings:detail", 7) == "/listings/7/"


def test_detail_query_count_does_not_grow_with_similar_listings(
    client, catalogue, django_assert_max_num_queries
):
    listing = ListingFactory(category=catalogue["cars"])
    add_photo(listing)
    make_listings(catalogue["cars"], 2)
    add_photo(ListingFactory(category=catalogue["cars"], owner=listing.owner))
    # the first visit of an anonymous visitor is counted, so measure that
    with CaptureQueriesContext(connection) as context:
        client.get(f"/listings/{listing.pk}/")
    few = len(context.captured_queries)
    assert few <= 20
    make_listings(catalogue["cars"], 10)
    for _ in range(5):
        extra = ListingFactory(category=catalogue["cars"], owner=listing.owner)
        add_photo(extra)
    ListingView.objects.all().delete()
    with django_assert_max_num_queries(few):
        response = client.get(f"/listings/{listing.pk}/")
    assert len(response.context["similar"]) == 8
    assert len(response.context["others"]) == 6


def test_a_search_that_takes_too_long_is_a_503_with_the_message(
    client, catalogue, monkeypatch
):
    from core.errors import Busy
    from listings.views import browse

    def too_slow(qs, start, stop):
        raise Busy("This search took too long.")

    monkeypatch.setattr(browse, "search_page_rows", too_slow)
    response = client.get("/search/", {"q": "anything"})
    assert response.status_code == 503
    assert "This search took too long." in response.content.decode()
