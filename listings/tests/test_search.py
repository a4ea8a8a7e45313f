"""The search service: every filter, ordering and distance, on whichever
database the run uses (SpatiaLite in pass 1, PostGIS in pass 2)."""

import math
from datetime import timedelta

import pytest
from django.contrib.gis.geos import Point
from django.utils import timezone

from core.errors import ValidationError
from listings.models import ListingImage, ListingStatus
from listings.search import (
    SearchParams,
    listing_search,
    parse_search_params,
    search_card_rows,
    search_plan,
)
from listings.tests.factories import ListingFactory

pytestmark = pytest.mark.django_db

ALMATY = (43.2567, 76.9286)  # lat, lng


def haversine_m(lat1, lng1, lat2, lng2) -> float:
    """Great-circle distance on a sphere of the mean Earth radius."""
    r = 6_371_008.8
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(a))


def search(**data):
    """The search's listings, checked against what the API reads for it."""
    params = parse_search_params({k: str(v) for k, v in data.items()})
    found = list(listing_search(params))
    stop = len(found) + 1
    # The API reads the same search from statements compiled once per shape
    # (core.compiled), as card rows: the same listings in the same order, at
    # the same distances, the first time (compiled) and the next (reused).
    for _ in range(2):
        cards = search_card_rows(search_plan(params, reach=stop), 0, stop)
        assert [card["id"] for card in cards] == pks(found)
        assert [card.get("distance_m") for card in cards] == [
            getattr(x, "distance_m", None) for x in found
        ]
    return found


def pks(listings):
    return [x.pk for x in listings]


def at(lat, lng, **kwargs):
    return ListingFactory(location=Point(lng, lat, srid=4326), **kwargs)


# --- Parameters -----------------------------------------------------------------


def test_params_convert_major_price_units_and_round_trip(tree):
    params = parse_search_params(
        {
            "q": "  red   bike ",
            "category": "cars",
            "price_min": "15000",
            "price_max": "250000.50",
            "condition": "used",
            "city": "almaty",
            "lat": "43.25",
            "lng": "76.9",
            "radius_km": "10",
            "attr_year_min": "2015",
            "attr_fuel": "petrol",
            "has_photos": "true",
            "posted_within_days": "7",
            "ordering": "price_asc",
            "page": "3",
        }
    )
    assert params == SearchParams(
        q="red bike",
        category="cars",
        price_min=1_500_000,
        price_max=25_000_050,
        condition="used",
        city="Almaty",
        lat=43.25,
        lng=76.9,
        radius_km=10.0,
        attrs={"year": {"min": 2015}, "fuel": "petrol"},
        has_photos=True,
        posted_within_days=7,
        ordering="price_asc",
    )
    assert parse_search_params(params.to_query_dict()) == params
    assert "price_min=15000&price_max=250000.5" in params.to_query()
    assert "page=2" in params.to_query(page=2)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"price_min": "cheap"}, "price_min"),
        ({"price_min": "-5"}, "price_min"),
        ({"price_min": "10.001"}, "price_min"),
        ({"price_min": "500", "price_max": "100"}, "price_min"),
        ({"condition": "broken"}, "condition"),
        # 1e-999999999 underflowed to a price of 0 (9e6 is fine: 9,000,000).
        ({"price_min": "1e-999999999"}, "price_min"),
        ({"price_min": "0.001"}, "price_min"),
        ({"price_max": "Infinity"}, "price_max"),
        ({"price_min": "-5"}, "price_min"),
        ({"lat": "91", "lng": "10"}, "lat"),
        ({"lat": "nan", "lng": "10"}, "lat"),
        ({"lat": "43"}, "lng"),
        ({"lat": "43", "lng": "181"}, "lng"),
        ({"radius_km": "5"}, "radius_km"),
        ({"lat": "43", "lng": "76", "radius_km": "0"}, "radius_km"),
        ({"lat": "43", "lng": "76", "radius_km": "501"}, "radius_km"),
        ({"ordering": "distance"}, "ordering"),
        ({"ordering": "cheapest"}, "ordering"),
        ({"category": "no-such"}, "category"),
        ({"posted_within_days": "0"}, "posted_within_days"),
        ({"has_photos": "perhaps"}, "has_photos"),
        ({"q": "x" * 201}, "q"),
        ({"attr_year_min": "2015"}, "attr_year_min"),
        # NUL: PostgreSQL refuses it in text (the city and category filters
        # sent it to the database: a 500 on PostGIS).
        ({"q": "bmw\x00"}, "q"),
        ({"city": "Al\x00maty"}, "city"),
        ({"category": "cars\x00"}, "category"),
        ({"category": "cars", "attr_model": "\x00"}, "attr_model"),
    ],
)
def test_bad_params_name_the_field(tree, data, field):
    with pytest.raises(ValidationError) as exc:
        parse_search_params(data)
    assert exc.value.field == field


# --- Filters --------------------------------------------------------------------


def test_only_active_listings_are_found():
    active = ListingFactory(title="Bike one")
    for status in set(ListingStatus.values) - {ListingStatus.ACTIVE}:
        ListingFactory(title=f"Bike {status}", status=status)
    assert pks(search(q="bike")) == [active.pk]


def test_free_text_needs_every_word_and_matches_prefixes():
    red = ListingFactory(title="Red mountain bicycle", description="Barely used.")
    ListingFactory(title="Blue mountain bicycle")
    described = ListingFactory(title="Bike", description="A red frame, new tyres.")
    assert set(pks(search(q="red"))) == {red.pk, described.pk}
    assert pks(search(q="red mountain")) == [red.pk]
    assert set(pks(search(q="bicyc"))) == {red.pk, red.pk + 1}
    assert search(q="green") == []
    # punctuation never reaches the query parser
    assert pks(search(q="red & | ! mountain:*")) == [red.pk]


def test_relevance_puts_title_matches_before_description_matches():
    in_description = ListingFactory(title="Bicycle", description="Comes with a helmet")
    in_title = ListingFactory(title="Helmet, size M", description="Bicycle helmet")
    results = search(q="helmet")
    assert pks(results) == [in_title.pk, in_description.pk]


def test_category_includes_descendants(tree):
    phone = ListingFactory(category=tree["phones"], attributes={"brand": "Apple"})
    laptop = ListingFactory(category=tree["laptops"], attributes={"brand": "HP"})
    ListingFactory(category=tree["furniture"])
    assert set(pks(search(category="electronics"))) == {phone.pk, laptop.pk}
    assert pks(search(category="phones")) == [phone.pk]


def test_price_range_is_inclusive_in_major_units():
    cheap = ListingFactory(price=1_000_000)  # 10 000 KZT
    middle = ListingFactory(price=1_500_000)
    ListingFactory(price=2_000_100)
    found = search(price_min="10000", price_max="15000", ordering="price_asc")
    assert pks(found) == [cheap.pk, middle.pk]


def test_condition_and_city_filters():
    new_almaty = ListingFactory(condition="new", city="Almaty")
    ListingFactory(condition="used", city="Almaty")
    ListingFactory(condition="new", city="Astana")
    assert pks(search(condition="new", city="ALMATY")) == [new_almaty.pk]


def test_attribute_ranges_and_choices(tree):
    def car(year, mileage, fuel):
        return ListingFactory(
            category=tree["cars"],
            attributes={"make": "Kia", "year": year, "mileage": mileage, "fuel": fuel},
        )

    old = car(2008, 250_000, "petrol")
    recent = car(2019, 40_000, "petrol")
    diesel = car(2020, 10_000, "diesel")
    assert set(pks(search(category="cars", attr_year_min=2015))) == {
        recent.pk,
        diesel.pk,
    }
    assert pks(search(category="cars", attr_year_max=2010)) == [old.pk]
    assert pks(
        search(category="cars", attr_fuel="petrol", attr_mileage_max=50_000)
    ) == [recent.pk]
    assert pks(search(category="cars", attr_make="Lada")) == []
    # vehicles declares no attributes itself: its children's are not filters
    with pytest.raises(ValidationError):
        search(category="vehicles", attr_fuel="diesel")


def test_boolean_and_text_attributes(tree):
    def flat(furnished):
        return ListingFactory(
            category=tree["apartments"],
            attributes={"deal": "rent", "rooms": 2, "furnished": furnished},
        )

    furnished, bare = flat(True), flat(False)
    assert pks(search(category="apartments", attr_furnished="true")) == [furnished.pk]
    assert pks(search(category="real-estate", attr_furnished="false")) == [bare.pk]
    camry = ListingFactory(
        category=tree["cars"],
        attributes={"make": "Toyota", "model": "Camry 70", "year": 2019},
    )
    assert pks(search(category="cars", attr_model="camry")) == [camry.pk]


def test_has_photos():
    with_photo = ListingFactory()
    ListingImage.objects.create(
        listing=with_photo, image="a.jpg", thumbnail="a_t.jpg", position=0
    )
    ListingFactory()
    assert pks(search(has_photos="true")) == [with_photo.pk]


def test_posted_within_days():
    now = timezone.now()
    fresh = ListingFactory(published_at=now - timedelta(days=2))
    ListingFactory(published_at=now - timedelta(days=10))
    assert pks(search(posted_within_days=7)) == [fresh.pk]


# --- Distance -------------------------------------------------------------------

# (lat, lng) around Almaty: 0.9 km to ~300 km away, in several directions.
PLACES = [
    (43.2650, 76.9286),
    (43.2567, 77.0000),
    (43.1000, 76.8000),
    (43.5000, 77.5000),
    (42.9000, 74.6000),  # Bishkek, ~190 km
    (44.8500, 75.5000),  # ~215 km
    (43.2567, 80.5000),  # ~290 km due east
]


def test_distances_match_haversine_within_half_a_percent():
    listings = [at(lat, lng) for lat, lng in PLACES]
    found = {x.pk: x.distance_m for x in search(lat=ALMATY[0], lng=ALMATY[1])}
    assert set(found) == {x.pk for x in listings}
    for listing, (lat, lng) in zip(listings, PLACES, strict=True):
        expected = haversine_m(ALMATY[0], ALMATY[1], lat, lng)
        assert found[listing.pk] == pytest.approx(expected, rel=0.005)


def test_distance_ordering_is_nearest_first():
    listings = [at(lat, lng) for lat, lng in reversed(PLACES)]
    expected = sorted(
        listings,
        key=lambda x: haversine_m(ALMATY[0], ALMATY[1], x.location.y, x.location.x),
    )
    found = search(lat=ALMATY[0], lng=ALMATY[1], ordering="distance")
    assert pks(found) == pks(expected)
    distances = [x.distance_m for x in found]
    assert distances == sorted(distances)


@pytest.mark.parametrize("radius_km", [1, 8, 50, 200, 250, 500])
@pytest.mark.parametrize("ordering", ["distance", "newest"])
def test_radius_keeps_exactly_the_listings_inside(radius_km, ordering):
    listings = [at(lat, lng) for lat, lng in PLACES]
    inside = {
        x.pk
        for x in listings
        if haversine_m(ALMATY[0], ALMATY[1], x.location.y, x.location.x)
        <= radius_km * 1000
    }
    found = search(lat=ALMATY[0], lng=ALMATY[1], radius_km=radius_km, ordering=ordering)
    assert {x.pk for x in found} == inside


def test_listing_without_location_is_left_out_of_radius_search():
    ListingFactory(location=None)
    near = at(*PLACES[0])
    assert pks(search(lat=ALMATY[0], lng=ALMATY[1], radius_km=5)) == [near.pk]


# --- Ordering and promotion -----------------------------------------------------


def test_orderings():
    now = timezone.now()
    a = ListingFactory(price=300, bumped_at=now - timedelta(hours=3))
    b = ListingFactory(price=100, bumped_at=now - timedelta(hours=1))
    c = ListingFactory(price=200, bumped_at=now - timedelta(hours=2))
    assert pks(search()) == [b.pk, c.pk, a.pk]
    assert pks(search(ordering="newest")) == [b.pk, c.pk, a.pk]
    assert pks(search(ordering="price_asc")) == [b.pk, c.pk, a.pk]
    assert pks(search(ordering="price_desc")) == [a.pk, c.pk, b.pk]


def test_promoted_listings_come_first():
    now = timezone.now()
    newest = ListingFactory(price=100, bumped_at=now)
    top = ListingFactory(
        price=900, bumped_at=now - timedelta(days=3), top_until=now + timedelta(days=1)
    )
    featured = ListingFactory(
        price=800,
        bumped_at=now - timedelta(days=2),
        featured_until=now + timedelta(days=1),
    )
    lapsed = ListingFactory(
        price=50, bumped_at=now - timedelta(days=1), top_until=now - timedelta(hours=1)
    )
    results = search(ordering="price_asc")
    assert pks(results) == [featured.pk, top.pk, lapsed.pk, newest.pk]
    assert [x.is_promoted for x in results] == [True, True, False, False]
    assert pks(search()) == [featured.pk, top.pk, newest.pk, lapsed.pk]


def test_promotion_flag_follows_purchases_and_expiry():
    from django.db import transaction

    from listings import services

    listing, other = ListingFactory(), ListingFactory()
    with transaction.atomic():
        services.listing_apply_promotion(
            listing=listing, kind="top", duration=timedelta(days=3)
        )
    assert pks(search(ordering="price_asc"))[0] == listing.pk
    # nothing has run out yet
    assert services.listings_promotions_expire() == 0
    # four days later the flag is cleared, once
    later = timezone.now() + timedelta(days=4)
    assert services.listings_promotions_expire(now=later) == 1
    assert services.listings_promotions_expire(now=later) == 0
    listing.refresh_from_db()
    assert listing.is_promoted is False
    assert other.is_promoted is False


# --- Cost -----------------------------------------------------------------------


def test_query_count_does_not_grow_with_results(django_assert_num_queries, tree):
    for i in range(12):
        listing = ListingFactory(category=tree["books"], title=f"Book {i}")
        ListingImage.objects.create(
            listing=listing, image=f"{i}.jpg", thumbnail=f"{i}_t.jpg", position=0
        )
    params = parse_search_params({"q": "book", "category": "books"})
    # the listings (owner and category joined), the photos: the category was
    # read once by parse_search_params
    with django_assert_num_queries(2):
        results = list(listing_search(params)[:10])
        covers = [x.cover.thumbnail.name for x in results]
        owners = [x.owner.public_name for x in results]
        names = [x.category.name for x in results]
    assert len(covers) == len(owners) == len(names) == 10
