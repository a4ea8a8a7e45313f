"""Listings in Chromium: post with photos, find by text and on the map."""

import io
import re

import pytest
from django.contrib.gis.geos import Point
from PIL import Image
from playwright.sync_api import expect

from listings.models import (
    AttributeType,
    CategoryAttribute,
    Listing,
    ListingStatus,
    SavedSearch,
)
from listings.selectors import category_tree_invalidate
from listings.tests.factories import CategoryFactory, ListingFactory

pytestmark = pytest.mark.browser

# Map tiles cannot load offline: every tile is this 1x1 PNG instead.
BLANK_TILE = (
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR4"
    "2mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="
)


@pytest.fixture(autouse=True)
def _offline_tiles(settings):
    settings.MAP_TILE_URL = BLANK_TILE
    settings.MAP_TILE_ATTRIBUTION = "Test tiles"


@pytest.fixture
def cars(db):
    vehicles = CategoryFactory(name="Vehicles", slug="vehicles")
    cars = CategoryFactory(name="Cars", slug="cars", parent=vehicles)
    CategoryFactory(name="Electronics", slug="electronics")
    CategoryAttribute.objects.create(
        category=cars,
        name="mileage",
        label="Mileage",
        type=AttributeType.NUMBER,
        unit="km",
        is_required=True,
    )
    CategoryAttribute.objects.create(
        category=cars,
        name="fuel",
        label="Fuel",
        type=AttributeType.CHOICE,
        choices=["petrol", "diesel"],
    )
    category_tree_invalidate()
    return cars


def jpeg(name, size, color):
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format="JPEG")
    return {"name": name, "mimeType": "image/jpeg", "buffer": buffer.getvalue()}


def map_of(page, selector):
    """Run JS against the Leaflet map inside `selector`."""
    return f"document.querySelector('{selector}').leafletMap"


def test_post_a_listing_with_two_photos_then_find_it_by_text_and_on_the_map(
    page, live_url, login_as, user, cars
):
    login_as(user)

    # Given the seller opens the form and picks a category: its fields appear
    page.goto(f"{live_url}/listings/new/")
    expect(page.locator("#attribute-fields input[name=attr_mileage]")).to_have_count(0)
    page.select_option("select[name=category]", label="Cars")
    expect(page.get_by_label("Mileage (km)")).to_be_visible()
    page.get_by_label("Title").fill("Zhiguli 2107 Quasar edition")
    page.get_by_label("Description").fill("Runs well, new tyres, winter ready.")
    page.get_by_label("Price", exact=True).fill("1250000")
    page.get_by_label("Used").check()
    page.get_by_label("Mileage (km)").fill("180000")
    page.get_by_label("Fuel").select_option("petrol")
    page.get_by_label("City").select_option("Almaty")

    # and marks the place on the map (the click sets the hidden lat/lng)
    picker = page.locator("[data-map=picker]")
    expect(picker).to_be_visible()
    picker.click(position={"x": 200, "y": 150})
    lat = float(page.locator("input[name=lat]").input_value())
    lng = float(page.locator("input[name=lng]").input_value())
    assert 42.5 < lat < 44 and 76 < lng < 78

    # and adds two photos, previewed, then moves the second one first
    page.set_input_files(
        "input[name=photos]",
        [jpeg("small.jpg", (64, 48), "red"), jpeg("wide.jpg", (96, 48), "blue")],
    )
    previews = page.locator("[data-photo-previews] li")
    expect(previews).to_have_count(2)
    previews.nth(1).get_by_role("button", name="Move wide.jpg earlier").click()
    expect(previews.first.locator("img")).to_have_attribute("alt", re.compile("wide"))

    # When they publish
    page.get_by_role("button", name="Publish").click()

    # Then the listing is live with both photos, the wide one as the cover
    expect(page).to_have_url(re.compile(r"/listings/\d+/$"))
    listing = Listing.objects.get(title="Zhiguli 2107 Quasar edition")
    assert listing.status == ListingStatus.ACTIVE
    assert listing.price == 125_000_000
    assert listing.attributes == {"mileage": 180000, "fuel": "petrol"}
    assert [(i.width, i.height) for i in listing.images.order_by("position")] == [
        (96, 48),
        (64, 48),
    ]
    expect(page.locator(".gallery-thumbs li")).to_have_count(2)
    expect(page.locator(".detail-price").first).to_contain_text("1 250 000")
    expect(page.locator("[data-map=listing] .leaflet-interactive")).to_have_count(1)

    # And a buyer finds it by text on the search page
    page.context.clear_cookies()
    page.goto(f"{live_url}/search/?q=quasar")
    cards = page.locator("#results .listing-card")
    expect(cards).to_have_count(1)
    expect(cards.first).to_contain_text("Zhiguli 2107 Quasar edition")

    # and by distance on the map view: a marker with a popup
    ListingFactory(
        category=cars, title="Far away Volga", city="Astana", location=Point(71.4, 51.1)
    )
    page.goto(
        f"{live_url}/search/?view=map&lat={lat:.4f}&lng={lng:.4f}&radius_km=5"
        "&ordering=distance"
    )
    markers = page.locator("#results-map .leaflet-marker-icon")
    expect(markers).to_have_count(1)
    markers.first.click()
    expect(page.locator(".leaflet-popup-content")).to_contain_text("Zhiguli")
    expect(page.locator("#results .listing-card .meta").first).to_contain_text(
        re.compile(r"\d+ m away")
    )
    assert page.js_errors == []


def test_search_this_area_sends_the_visible_area(page, live_url, cars):
    # Given listings in Almaty and in Astana, and the map view of all of them
    ListingFactory(category=cars, title="Almaty Lada", location=Point(76.93, 43.25))
    ListingFactory(
        category=cars, title="Astana Volga", city="Astana", location=Point(71.43, 51.13)
    )
    page.goto(f"{live_url}/search/?view=map")
    expect(page.locator("#results-map .leaflet-marker-icon")).to_have_count(2)
    button = page.get_by_role("button", name="Search this area")
    expect(button).to_be_hidden()

    # When the buyer zooms the map in on Almaty and searches this area
    page.evaluate(f"{map_of(page, '#results-map')}.setView([43.25, 76.93], 12)")
    expect(button).to_be_visible()
    button.click()

    # Then the search is limited to the visible area around Almaty
    expect(page).to_have_url(re.compile(r"lat=43\.2\d*&lng=76\.9\d*&radius_km=\d"))
    expect(page.locator("#results-map .leaflet-marker-icon")).to_have_count(1)
    expect(page.locator("#results .listing-card")).to_have_count(1)
    expect(page.locator("#results .listing-card")).to_contain_text("Almaty Lada")
    assert page.js_errors == []


def test_favourite_heart_toggles_in_place(page, live_url, login_as, user, cars):
    listing = ListingFactory(category=cars, title="Heart me")
    login_as(user)
    page.goto(f"{live_url}/listings/{listing.pk}/")
    button = page.get_by_role("button", name="Add to favourites")
    button.click()
    expect(page.get_by_role("button", name="Remove from favourites")).to_be_visible()
    assert page.url == f"{live_url}/listings/{listing.pk}/"
    assert listing.favourites.filter(user=user).count() == 1
    page.goto(f"{live_url}/favourites/")
    expect(page.locator(".listing-card")).to_contain_text(["Heart me"])
    assert page.js_errors == []


def logged_in_context(browser, live_url, user, **options):
    """A browser context of its own (`options` as `browser.new_context`),
    logged in as `user` through a session cookie."""
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(user)
    context = browser.new_context(**options)
    context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_url,
            }
        ]
    )
    return context


def test_posting_works_without_javascript(browser, live_url, user, cars):
    # Given a browser with JavaScript off, logged in
    context = logged_in_context(browser, live_url, user, java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(f"{live_url}/listings/new/")
        # the category's fields come with the "Show the fields" button
        page.select_option("select[name=category]", label="Cars")
        page.get_by_role("button", name="Show the fields of this category").click()
        page.get_by_label("Mileage (km)").fill("90000")
        page.get_by_label("Title").fill("Moskvich without scripts")
        page.get_by_label("Description").fill("Plain HTML form, no JavaScript.")
        page.get_by_label("Price", exact=True).fill("450000")
        page.get_by_label("New", exact=True).check()
        page.get_by_label("City").select_option("Astana")
        expect(page.locator("[data-map=picker]")).to_be_hidden()
        page.set_input_files(
            "input[name=photos]",
            [jpeg("a.jpg", (64, 48), "green"), jpeg("b.jpg", (80, 60), "gray")],
        )
        # When they publish
        page.get_by_role("button", name="Publish").click()
        # Then the listing is live at the city centre with both photos in order
        expect(page).to_have_url(re.compile(r"/listings/\d+/$"))
        listing = Listing.objects.get(title="Moskvich without scripts")
        assert listing.status == ListingStatus.ACTIVE
        assert (round(listing.location.y, 2), round(listing.location.x, 2)) == (
            51.13,
            71.43,
        )
        assert [(i.width, i.height) for i in listing.images.order_by("position")] == [
            (64, 48),
            (80, 60),
        ]
        expect(page.locator(".gallery-thumbs li")).to_have_count(2)
    finally:
        context.close()


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_a_refused_save_shows_its_error_in_the_popover(
    browser, live_url, user, cars, javascript
):
    # Given a search the user has saved already
    SavedSearch.objects.create(user=user, name="Cars", params={"category": "cars"})
    context = logged_in_context(browser, live_url, user, java_script_enabled=javascript)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        # When they save it again from the popover under another name
        page.goto(f"{live_url}/search/?category=cars")
        popover = page.locator("details.save-search")
        popover.locator("summary").click()
        popover.get_by_label("Name").fill("My cars")
        popover.get_by_role("button", name="Save search").click()
        # Then they are back on the same search, the popover open with the
        # reason at its top and what they typed
        expect(page).to_have_url(f"{live_url}/search/?category=cars")
        expect(popover).to_have_attribute("open", "")
        expect(popover.get_by_role("alert")).to_have_text(
            "You have already saved this search."
        )
        expect(popover.get_by_label("Name")).to_have_value("My cars")
        assert errors == []
    finally:
        context.close()


def box_inside(inner, outer) -> bool:
    return (
        inner["x"] >= outer["x"] - 0.5
        and inner["y"] >= outer["y"] - 0.5
        and inner["x"] + inner["width"] <= outer["x"] + outer["width"] + 0.5
        and inner["y"] + inner["height"] <= outer["y"] + outer["height"] + 0.5
    )


def test_filter_buttons_are_in_reach_and_never_clipped_on_a_laptop(
    page, live_url, cars
):
    # Given a laptop screen and a category with extra filters (a long form)
    page.set_viewport_size({"width": 1280, "height": 800})
    ListingFactory.create_batch(3, category=cars)
    page.goto(f"{live_url}/search/?category=cars&price_min=5")
    card = page.locator("aside.filters")
    reset = card.get_by_role("link", name="Reset")
    show = card.get_by_role("button", name="Show results")
    # Then both buttons are on screen at once, inside the card, not cut off
    expect(reset).to_be_in_viewport(ratio=1)
    expect(show).to_be_in_viewport(ratio=1)
    assert box_inside(reset.bounding_box(), card.bounding_box())
    assert card.evaluate("el => getComputedStyle(el).overflowY") == "visible"
    # and at the end of the card they sit inside it, below the last filter
    card.locator("select[name=attr_fuel]").scroll_into_view_if_needed()
    page.mouse.wheel(0, 400)
    expect(reset).to_be_in_viewport(ratio=1)
    assert box_inside(reset.bounding_box(), card.bounding_box())
    # When the buyer resets, then the filters are gone
    reset.click()
    expect(page).to_have_url(f"{live_url}/search/")
    assert page.js_errors == []


def test_pages_fit_a_phone_screen(browser, live_url, user, cars):
    # Given a phone-sized browser, logged in, and a listing with a long title
    listing = ListingFactory(
        category=cars,
        title="Toyota Land Cruiser Prado 150 with a very long title indeed",
        attributes={"mileage": 293_000, "fuel": "diesel"},
    )
    context = logged_in_context(
        browser,
        live_url,
        user,
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
    )
    page = context.new_page()
    try:
        # Then no page scrolls sideways
        for path in ("/", "/search/", f"/listings/{listing.pk}/", "/listings/new/"):
            page.goto(f"{live_url}{path}")
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width == 390, f"{path} is {width}px wide"
        # and the post form's buttons stay in one row on screen
        buttons = [
            page.get_by_role("button", name="Publish"),
            page.get_by_role("button", name="Save as draft"),
            page.get_by_role("link", name="Cancel"),
        ]
        tops = {round(button.bounding_box()["y"]) for button in buttons}
        assert len(tops) == 1
        for button in buttons:
            expect(button).to_be_in_viewport(ratio=1)
        # and the folded filters open with both buttons in reach
        page.goto(f"{live_url}/search/?category=cars")
        page.locator("#filters-heading").click()
        expect(page.get_by_role("link", name="Reset")).to_be_in_viewport(ratio=1)
        expect(page.get_by_role("button", name="Show results")).to_be_in_viewport(
            ratio=1
        )
    finally:
        context.close()
