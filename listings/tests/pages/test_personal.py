import pytest
from django.template import Context, Template
from django.test import RequestFactory

from accounts.tests.factories import UserFactory
from listings.models import Favourite, ListingStatus, SavedSearch
from listings.tests.factories import ListingFactory

pytestmark = pytest.mark.django_db


# --- Favourites ----------


def test_favourite_add_and_remove_with_a_plain_form(client, user):
    listing = ListingFactory()
    client.force_login(user)
    response = client.post(
        f"/listings/{listing.pk}/favourite/",
        {"action": "add", "next": f"/listings/{listing.pk}/"},
    )
    assert response.status_code == 302
    assert response["Location"] == f"/listings/{listing.pk}/"
    assert Favourite.objects.filter(user=user, listing=listing).count() == 1
    listing.refresh_from_db()
    assert listing.favourite_count == 1
    client.post(f"/listings/{listing.pk}/favourite/", {"action": "remove"})
    assert not Favourite.objects.filter(user=user).exists()


def test_favourite_toggle_answers_json_for_the_heart_button(client, user):
    listing = ListingFactory()
    client.force_login(user)
    response = client.post(
        f"/listings/{listing.pk}/favourite/",
        {"action": "add"},
        headers={"accept": "application/json"},
    )
    assert response.status_code == 200
    assert response.json() == {"is_favourite": True, "listing": listing.pk}


def test_favouriting_own_listing_is_refused_with_a_message(client, user):
    listing = ListingFactory(owner=user)
    client.force_login(user)
    response = client.post(
        f"/listings/{listing.pk}/favourite/",
        {"action": "add"},
        headers={"accept": "application/json"},
    )
    assert response.status_code == 400
    assert response.json() == {"detail": "You cannot favourite your own listing."}
    assert not Favourite.objects.exists()


def test_favourite_of_a_hidden_listing_is_404(client, user):
    draft = ListingFactory(status=ListingStatus.DRAFT)
    client.force_login(user)
    response = client.post(f"/listings/{draft.pk}/favourite/", {"action": "add"})
    assert response.status_code == 404
    assert not Favourite.objects.exists()


def test_anonymous_favourite_goes_to_login(client):
    listing = ListingFactory()
    response = client.post(f"/listings/{listing.pk}/favourite/", {"action": "add"})
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
    assert not Favourite.objects.exists()


def test_favourites_page_lists_mine_with_status(client, user):
    live = ListingFactory(title="Live bike")
    gone = ListingFactory(title="Sold sofa")
    Favourite.objects.create(user=user, listing=live)
    Favourite.objects.create(user=user, listing=gone)
    gone.status = ListingStatus.SOLD
    gone.save()
    Favourite.objects.create(
        user=UserFactory(), listing=ListingFactory(title="Not mine")
    )
    client.force_login(user)
    html = client.get("/favourites/").content.decode()
    assert "Live bike" in html and "Sold sofa" in html
    assert "Not mine" not in html
    assert "Sold</span>" in html
    assert html.count('aria-label="Remove from favourites"') == 2


def test_favourites_page_query_count_is_constant(
    client, user, django_assert_max_num_queries
):
    for listing in ListingFactory.create_batch(2):
        Favourite.objects.create(user=user, listing=listing)
    client.force_login(user)
    client.get("/favourites/")
    with django_assert_max_num_queries(12) as few:
        client.get("/favourites/")
    for listing in ListingFactory.create_batch(12):
        Favourite.objects.create(user=user, listing=listing)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get("/favourites/")
    assert len(response.context["favourites"]) == 14


@pytest.mark.parametrize(
    "status", [ListingStatus.ARCHIVED, ListingStatus.EXPIRED, ListingStatus.REJECTED]
)
def test_a_favourite_that_is_no_longer_public_can_be_removed_on_the_page(
    client, user, status
):
    # The Favourites page showed its remove form, but the POST answered 404.
    listing = ListingFactory(title="Gone bike", favourite_count=1)
    Favourite.objects.create(user=user, listing=listing)
    listing.status = status
    if status == ListingStatus.ARCHIVED:
        listing.archived_from = ListingStatus.ACTIVE
    listing.save()
    client.force_login(user)
    assert "Gone bike" in client.get("/favourites/").content.decode()
    response = client.post(
        f"/listings/{listing.pk}/favourite/",
        {"action": "remove", "next": "/favourites/"},
    )
    assert response.status_code == 302
    assert response["Location"] == "/favourites/"
    assert not Favourite.objects.exists()
    listing.refresh_from_db()
    assert listing.favourite_count == 0


def test_removing_a_gone_favourite_answers_json_and_goes_back_to_favourites(
    client, user
):
    listing = ListingFactory(favourite_count=1)
    Favourite.objects.create(user=user, listing=listing)
    listing.status = ListingStatus.ARCHIVED
    listing.archived_from = ListingStatus.ACTIVE
    listing.save()
    client.force_login(user)
    response = client.post(
        f"/listings/{listing.pk}/favourite/",
        {"action": "remove"},
        headers={"accept": "application/json"},
    )
    assert response.status_code == 200
    assert response.json() == {"is_favourite": False, "listing": listing.pk}
    assert not Favourite.objects.exists()


def test_without_next_removing_a_gone_favourite_goes_to_the_favourites_page(
    client, user
):
    listing = ListingFactory(status=ListingStatus.EXPIRED)
    Favourite.objects.create(user=user, listing=listing)
    client.force_login(user)
    response = client.post(f"/listings/{listing.pk}/favourite/", {"action": "remove"})
    assert response["Location"] == "/favourites/"
    assert not Favourite.objects.exists()


@pytest.mark.parametrize(
    "status", [ListingStatus.ARCHIVED, ListingStatus.EXPIRED, ListingStatus.DRAFT]
)
def test_a_listing_that_is_not_public_cannot_be_added(client, user, status):
    listing = ListingFactory(status=status)
    client.force_login(user)
    response = client.post(f"/listings/{listing.pk}/favourite/", {"action": "add"})
    assert response.status_code == 404
    assert not Favourite.objects.exists()


def test_removing_a_hidden_listing_one_never_favourited_is_404(client, user):
    # Only one's own favourites are reachable whatever their status: someone
    # else's favourite does not reveal an archived listing.
    listing = ListingFactory(status=ListingStatus.ARCHIVED, favourite_count=1)
    theirs = Favourite.objects.create(user=UserFactory(), listing=listing)
    client.force_login(user)
    response = client.post(
        f"/listings/{listing.pk}/favourite/",
        {"action": "remove"},
        headers={"accept": "application/json"},
    )
    assert response.status_code == 404
    assert list(Favourite.objects.all()) == [theirs]
    listing.refresh_from_db()
    assert listing.favourite_count == 1


def _favourite_many(user, count):
    """`count` favourites of the user, the first one created the oldest."""
    listings = ListingFactory.create_batch(count)
    for listing in listings:
        Favourite.objects.create(user=user, listing=listing)
    return listings


def test_favourites_page_is_paginated(client, user):
    listings = _favourite_many(user, 30)
    client.force_login(user)
    first = client.get("/favourites/")
    newest_first = [listing.pk for listing in reversed(listings)]
    assert [f.listing_id for f in first.context["favourites"]] == newest_first[:24]
    assert first.context["favourite_ids"] == set(newest_first[:24])
    assert 'href="?page=2" rel="next"' in first.content.decode()
    second = client.get("/favourites/", {"page": "2"})
    assert [f.listing_id for f in second.context["favourites"]] == newest_first[24:]
    html = second.content.decode()
    assert 'href="?page=1" rel="prev"' in html
    assert 'rel="next"' not in html


@pytest.mark.parametrize(
    ("page", "number", "shown"),
    [("0", 1, 3), ("-1", 1, 3), ("abc", 1, 3), ("1.5", 1, 3), ("99999", 99999, 0)],
)
def test_favourites_page_with_a_bad_page_number_is_not_an_error(
    client, user, page, number, shown
):
    # As on the search pages: not a page number -> the first page; past the
    # end -> an empty page with a way back.
    _favourite_many(user, 3)
    client.force_login(user)
    response = client.get("/favourites/", {"page": page})
    assert response.status_code == 200
    assert response.context["page"].number == number
    assert len(response.context["favourites"]) == shown
    if not shown:
        assert "Back to the first page" in response.content.decode()


def test_favourites_later_page_query_count_is_constant(
    client, user, django_assert_max_num_queries
):
    _favourite_many(user, 2)
    client.force_login(user)
    client.get("/favourites/")
    with django_assert_max_num_queries(12) as few:
        client.get("/favourites/")
    _favourite_many(user, 40)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get("/favourites/", {"page": "2"})
    assert len(response.context["favourites"]) == 18


def test_heart_state_shows_on_search_results(client, user):
    liked = ListingFactory(title="Liked one")
    ListingFactory(title="Other one")
    Favourite.objects.create(user=user, listing=liked)
    client.force_login(user)
    response = client.get("/search/")
    assert response.context["favourite_ids"] == {liked.pk}
    html = response.content.decode()
    assert html.count('aria-pressed="true"') == 1
    # each card's heart is a real form that can be posted without JavaScript
    assert html.count('<form method="post" action="/listings/') == 2
    assert html.count('name="csrfmiddlewaretoken"') >= 3  # hearts + save search


# --- Saved searches ----------


def test_save_this_search_button_is_on_the_search_page(client, user, catalogue):
    client.force_login(user)
    html = client.get("/search/", {"q": "camry", "category": "cars"}).content.decode()
    assert "Save this search" in html
    assert 'value="camry in Cars"' in html
    assert 'name="query" value="q=camry&amp;category=cars"' in html


def test_anonymous_save_search_links_to_login(client, catalogue):
    html = client.get("/search/", {"q": "camry"}).content.decode()
    assert "/accounts/login/?next=/search/%3Fq%3Dcamry" in html


def test_saving_a_search_stores_its_normalised_parameters(client, user, catalogue):
    client.force_login(user)
    response = client.post(
        "/saved-searches/new/",
        {
            "name": "Cheap cars",
            "query": "category=cars&price_max=2000000&ordering=newest&page=3",
            "frequency": "daily",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == "/saved-searches/"
    saved = SavedSearch.objects.get()
    assert (saved.user, saved.name, saved.frequency) == (user, "Cheap cars", "daily")
    assert saved.params == {"category": "cars", "price_max": "2000000"}


def test_saving_an_invalid_search_goes_back_with_the_message(client, user):
    client.force_login(user)
    response = client.post(
        "/saved-searches/new/",
        {"name": "Bad", "query": "price_min=abc", "frequency": "daily"},
        follow=True,
    )
    assert "Enter a price as a number." in response.content.decode()
    assert not SavedSearch.objects.exists()


def _save_popover(html: str) -> str:
    """The "Save this search" popover of a search page."""
    start = html.index('<details class="save-search popover')
    return html[start : html.index("</details>", start)]


@pytest.mark.parametrize(
    ("data", "where", "message"),
    [
        (
            {"name": "Bikes", "query": "q=bike", "frequency": "hourly"},
            "save-search-frequency_error",
            "Choose how often to be notified: instantly or daily.",
        ),
        (
            {"name": "Bikes", "query": "q=" + "b" * 2100, "frequency": "daily"},
            'nonfield" role="alert',
            "This search is too long to save; remove some of its filters.",
        ),
        (
            {"name": "", "query": "q=bike", "frequency": "daily"},
            "save-search-name_error",
            "Give the search a name (up to 120 characters).",
        ),
        (
            {"name": "Sorted", "query": "ordering=price_desc", "frequency": "daily"},
            'nonfield" role="alert',
            "This search has no filter, so it would match every new listing",
        ),
        (
            {"name": "Bad", "query": "q=bike&price_min=abc", "frequency": "daily"},
            'nonfield" role="alert',
            "Enter a price as a number.",
        ),
    ],
    ids=["frequency", "long-query", "name", "ordering-only", "bad-price"],
)
def test_a_refused_save_shows_its_error_in_the_open_popover(
    client, user, data, where, message
):
    # given a logged-in user whose "Save this search" is refused
    client.force_login(user)
    response = client.post("/saved-searches/new/", data, follow=True)
    # then they are back on the search with the popover open and the error in
    # it, next to its field or at the form's top, and no separate message
    html = response.content.decode()
    popover = _save_popover(html)
    assert popover.startswith('<details class="save-search popover" open>')
    assert f'{where}"><li>{message}' in popover
    assert list(response.context["messages"]) == []
    assert not SavedSearch.objects.exists()


def test_a_refused_save_keeps_what_was_typed_and_shows_once(client, user, catalogue):
    # given a search the user saved already
    SavedSearch.objects.create(
        user=user, name="Cars", params={"category": "cars"}, frequency="daily"
    )
    client.force_login(user)
    # when they save it again under another name, instantly
    response = client.post(
        "/saved-searches/new/",
        {"name": "My cars", "query": "category=cars", "frequency": "instant"},
    )
    assert response["Location"] == "/search/?category=cars"
    page = client.get(response["Location"])
    # then the popover says why, with their name and frequency still in it
    popover = _save_popover(page.content.decode())
    assert (
        '<ul class="errorlist nonfield" role="alert"><li>You have already saved '
        "this search.</li></ul>" in popover
    )
    assert 'name="name" value="My cars"' in popover
    assert '<option value="instant" selected>' in popover
    assert 'name="query" value="category=cars"' in popover
    assert SavedSearch.objects.get().name == "Cars"
    # and the next visit of the page shows a fresh, closed popover
    again = _save_popover(client.get("/search/?category=cars").content.decode())
    assert again.startswith('<details class="save-search popover">')
    assert "errorlist" not in again and 'value="Cars"' in again


def test_a_refused_save_is_not_shown_on_another_search(client, user, catalogue):
    client.force_login(user)
    client.post(
        "/saved-searches/new/",
        {"name": "", "query": "q=bike", "frequency": "daily"},
    )
    # the user went elsewhere before the redirect was followed
    elsewhere = _save_popover(client.get("/search/?q=car").content.decode())
    assert elsewhere.startswith('<details class="save-search popover">')
    assert "errorlist" not in elsewhere
    # and it is not kept for later either
    later = _save_popover(client.get("/search/?q=bike").content.decode())
    assert "errorlist" not in later


def test_a_refused_search_goes_back_to_the_same_search(client, user):
    client.force_login(user)
    response = client.post(
        "/saved-searches/new/",
        {"name": "Bikes", "query": "q=bike&ordering=price_asc", "frequency": "weekly"},
    )
    assert response.status_code == 302
    assert response["Location"] == "/search/?q=bike&ordering=price_asc"


def test_saved_searches_page_lists_links_and_changes_frequency(client, user):
    saved = SavedSearch.objects.create(
        user=user, name="Bikes", params={"q": "bike", "price_max": "50000"}
    )
    SavedSearch.objects.create(user=UserFactory(), name="Not mine", params={"q": "x"})
    client.force_login(user)
    html = client.get("/saved-searches/").content.decode()
    assert "Bikes" in html and "Not mine" not in html
    assert 'href="/search/?q=bike&amp;price_max=50000"' in html
    response = client.post(
        f"/saved-searches/{saved.pk}/", {f"s{saved.pk}-frequency": "daily"}
    )
    assert response.status_code == 302
    saved.refresh_from_db()
    assert saved.frequency == "daily"


def test_saved_searches_page_says_which_searches_cannot_notify(client, user, catalogue):
    # given a working search, one saved before a filter was required, and one
    # whose category is gone
    SavedSearch.objects.create(user=user, name="Bikes", params={"q": "bike"})
    SavedSearch.objects.create(user=user, name="Everything", params={})
    SavedSearch.objects.create(
        user=user, name="Boats", params={"category": "boats", "q": "yacht"}
    )
    client.force_login(user)
    # when they open their saved searches
    html = client.get("/saved-searches/").content.decode()
    # then the two that cannot notify are marked, each with its reason
    items = {
        name: next(item for item in html.split('<li class="') if name in item)
        for name in ("Bikes", "Everything", "Boats")
    }
    assert items["Bikes"].startswith('card saved-item">')
    assert "Does not notify" not in items["Bikes"]
    assert items["Everything"].startswith('card saved-item is-inactive">')
    assert (
        '<span class="status-pill status-inactive">Does not notify</span>'
        in items["Everything"]
    )
    assert (
        '<p class="saved-inactive">This search has no filter, so it does not '
        "notify you: open it, add a filter and save it again, then delete this "
        "one.</p>" in items["Everything"]
    )
    assert items["Boats"].startswith('card saved-item is-inactive">')
    assert (
        '<p class="saved-inactive">A category or a filter this search uses no '
        "longer exists, so it does not notify you: open it, choose the filters "
        "again and save it, then delete this one. "
        '<span class="muted">(Unknown category.)</span></p>' in items["Boats"]
    )


def test_saved_search_delete(client, user):
    saved = SavedSearch.objects.create(user=user, name="Bikes", params={"q": "bike"})
    client.force_login(user)
    response = client.post(f"/saved-searches/{saved.pk}/delete/")
    assert response.status_code == 302
    assert not SavedSearch.objects.exists()


def test_other_users_saved_searches_are_404_and_unchanged(client, user):
    saved = SavedSearch.objects.create(
        user=user, name="Bikes", params={"q": "bike"}, frequency="instant"
    )
    client.force_login(UserFactory())
    update = client.post(
        f"/saved-searches/{saved.pk}/", {f"s{saved.pk}-frequency": "daily"}
    )
    delete = client.post(f"/saved-searches/{saved.pk}/delete/")
    assert (update.status_code, delete.status_code) == (404, 404)
    saved.refresh_from_db()
    assert saved.frequency == "instant"


def test_anonymous_saved_search_writes_go_to_login(client, user):
    saved = SavedSearch.objects.create(user=user, name="Bikes", params={"q": "bike"})
    response = client.post(f"/saved-searches/{saved.pk}/delete/")
    assert response.status_code == 302
    assert SavedSearch.objects.filter(pk=saved.pk).exists()


# --- Seller profile ----------


def test_seller_listings_tag_renders_active_listings_only(user):
    ListingFactory(owner=user, title="Active bike")
    ListingFactory(owner=user, title="Draft sofa", status=ListingStatus.DRAFT)
    ListingFactory(title="Someone else's lamp")
    request = RequestFactory().get("/")
    request.user = UserFactory()
    html = Template("{% load listings_tags %}{% seller_listings seller %}").render(
        Context({"seller": user, "request": request})
    )
    assert "Active bike" in html
    assert "Draft sofa" not in html
    assert "lamp" not in html


def test_public_profile_shows_the_sellers_active_listings(client, user):
    ListingFactory(owner=user, title="Active bike")
    ListingFactory(owner=user, title="Archived sofa", status=ListingStatus.ARCHIVED)
    response = client.get(f"/users/{user.pk}/")
    html = response.content.decode()
    assert response.status_code == 200
    assert f"Listings of {user.public_name}" in html
    assert "Active bike" in html
    assert "Archived sofa" not in html


def test_public_profile_query_count_is_constant(
    client, user, django_assert_max_num_queries
):
    ListingFactory.create_batch(2, owner=user)
    client.get(f"/users/{user.pk}/")
    with django_assert_max_num_queries(10) as few:
        client.get(f"/users/{user.pk}/")
    ListingFactory.create_batch(10, owner=user)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(f"/users/{user.pk}/")
    assert response.content.decode().count('class="listing-card') == 12
