import pytest

from listings.search import listing_search, parse_search_params
from listings.selectors import category_tree
from listings.tests.factories import CategoryFactory, ListingFactory

pytestmark = pytest.mark.django_db


def test_search_finds_text_and_category_descendants():
    # given a parent category with a child holding two listings
    parent = CategoryFactory(slug="electronics")
    child = CategoryFactory(slug="phones", parent=parent)
    phone = ListingFactory(category=child, title="iPhone 13 Pro", price=30_000_000)
    ListingFactory(category=child, title="Samsung Galaxy", price=20_000_000)
    # when searching the parent for "iphone"
    params = parse_search_params({"q": "iphone", "category": "electronics"})
    results = list(listing_search(params))
    # then only the iPhone comes back
    assert [x.pk for x in results] == [phone.pk]
    tree = category_tree()
    assert tree[0].slug == "electronics"
    assert tree[0].listing_count == 2
    assert tree[0].children[0].listing_count == 2


def test_distance_annotation_and_price_filter():
    listing = ListingFactory(price=1_500_000)
    params = parse_search_params(
        {
            "lat": "43.25",
            "lng": "76.92",
            "radius_km": "5",
            "price_max": "15000",
            "ordering": "distance",
        }
    )
    results = list(listing_search(params))
    assert [x.pk for x in results] == [listing.pk]
    assert 0 < results[0].distance_m < 5000
    assert "price_max=15000" in params.to_query()
