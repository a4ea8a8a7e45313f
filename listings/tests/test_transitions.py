"""The owner's moves between listing statuses (listings/services/transitions.py):
every allowed and refused one, through the services."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.errors import Conflict
from listings import services
from listings.models import Listing, ListingStatus
from listings.tests.factories import ListingFactory

pytestmark = pytest.mark.django_db

S = ListingStatus
SERVICES = {
    "publish": services.listing_publish,
    "renew": services.listing_renew,
    "sold": services.listing_mark_sold,
    "archive": services.listing_archive,
}
# Every state a listing can be in: (status, archived_from).
STATES = [
    (S.DRAFT, ""),
    (S.PENDING, ""),
    (S.ACTIVE, ""),
    (S.EXPIRED, ""),
    (S.SOLD, ""),
    (S.ARCHIVED, S.ACTIVE),
    (S.ARCHIVED, S.EXPIRED),
    (S.ARCHIVED, S.SOLD),
    (S.REJECTED, ""),
]


def listing_in(user, status, archived_from=""):
    never_live = status in (S.DRAFT, S.PENDING)
    return ListingFactory(
        owner=user,
        status=status,
        archived_from=archived_from,
        rejection_reason="Blurry photos" if status == S.REJECTED else "",
        published_at=None if never_live else timezone.now() - timedelta(days=40),
        expires_at=None if never_live else timezone.now() - timedelta(days=10),
    )


def row(listing):
    return Listing.objects.values().get(pk=listing.pk)


# --- Allowed moves ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "start", "archived_from", "end", "end_archived_from"),
    [
        ("publish", S.DRAFT, "", S.ACTIVE, ""),
        ("publish", S.REJECTED, "", S.PENDING, ""),
        ("sold", S.ACTIVE, "", S.SOLD, ""),
        ("archive", S.ACTIVE, "", S.ARCHIVED, S.ACTIVE),
        ("archive", S.EXPIRED, "", S.ARCHIVED, S.EXPIRED),
        ("archive", S.SOLD, "", S.ARCHIVED, S.SOLD),
        ("renew", S.ACTIVE, "", S.ACTIVE, ""),
        ("renew", S.EXPIRED, "", S.ACTIVE, ""),
        ("renew", S.ARCHIVED, S.ACTIVE, S.ACTIVE, ""),
        ("renew", S.ARCHIVED, S.EXPIRED, S.ACTIVE, ""),
    ],
)
def test_allowed_move(user, action, start, archived_from, end, end_archived_from):
    listing = listing_in(user, start, archived_from)
    SERVICES[action](listing=listing, actor=user)
    listing.refresh_from_db()
    assert (listing.status, listing.archived_from) == (end, end_archived_from)
    if action == "renew":
        assert listing.expires_at > timezone.now() + timedelta(days=29)
        assert listing.expiry_warned_at is None


# --- Refused moves ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "start", "archived_from", "message"),
    [
        (
            "archive",
            S.DRAFT,
            "",
            "A draft cannot be archived; delete the draft instead.",
        ),
        (
            "archive",
            S.PENDING,
            "",
            "A listing in review cannot be archived; wait for the review, or "
            "delete it.",
        ),
        (
            "archive",
            S.REJECTED,
            "",
            "A rejected listing cannot be archived; edit it and resubmit it for "
            "review, or delete it.",
        ),
        ("archive", S.ARCHIVED, S.ACTIVE, "The listing is already archived."),
        (
            "renew",
            S.ARCHIVED,
            S.SOLD,
            "A sold listing stays archived: it is not for sale again. Post a new "
            "listing to sell another one.",
        ),
        ("renew", S.SOLD, "", "A sold listing cannot be renewed."),
        ("renew", S.DRAFT, "", "A draft cannot be renewed."),
        ("renew", S.PENDING, "", "A listing in review cannot be renewed."),
        ("renew", S.REJECTED, "", "A rejected listing cannot be renewed."),
        ("publish", S.ACTIVE, "", "An active listing cannot be published."),
        ("publish", S.EXPIRED, "", "An expired listing cannot be published."),
        ("publish", S.ARCHIVED, S.ACTIVE, "An archived listing cannot be published."),
        ("publish", S.PENDING, "", "A listing in review cannot be published."),
        ("publish", S.SOLD, "", "A sold listing cannot be published."),
        ("sold", S.EXPIRED, "", "Only an active listing can be marked sold."),
        ("sold", S.ARCHIVED, S.ACTIVE, "Only an active listing can be marked sold."),
    ],
)
def test_refused_move_says_why_and_changes_nothing(
    user, action, start, archived_from, message
):
    listing = listing_in(user, start, archived_from)
    before = row(listing)
    with pytest.raises(Conflict) as exc:
        SERVICES[action](listing=listing, actor=user)
    assert exc.value.message == message
    assert exc.value.status_code == 409
    assert row(listing) == before


# --- What the pages offer equals what the services allow ---------------------------


@pytest.mark.parametrize(
    ("status", "archived_from", "actions"),
    [
        (S.DRAFT, "", {"edit", "publish", "delete"}),
        (S.PENDING, "", {"edit", "delete"}),
        (S.ACTIVE, "", {"edit", "renew", "sold", "archive", "delete"}),
        (S.EXPIRED, "", {"edit", "renew", "archive", "delete"}),
        (S.SOLD, "", {"archive", "delete"}),
        (S.ARCHIVED, S.ACTIVE, {"renew", "delete"}),
        (S.ARCHIVED, S.EXPIRED, {"renew", "delete"}),
        (S.ARCHIVED, S.SOLD, {"delete"}),
        (S.REJECTED, "", {"edit", "publish", "delete"}),
    ],
)
def test_owner_actions_per_state(user, status, archived_from, actions):
    listing = listing_in(user, status, archived_from)
    assert services.listing_owner_actions(listing) == actions


@pytest.mark.parametrize(("status", "archived_from"), STATES)
@pytest.mark.parametrize("action", sorted(SERVICES))
def test_a_service_allows_exactly_what_owner_actions_offers(
    user, status, archived_from, action
):
    listing = listing_in(user, status, archived_from)
    offered = action in services.listing_owner_actions(listing)
    try:
        SERVICES[action](listing=listing, actor=user)
    except Conflict:
        allowed = False
    else:
        allowed = True
    assert allowed == offered


# --- Review and the database's guard ----------------------------------------------


def test_renew_needs_no_review_because_archived_content_is_unchanged(user, settings):
    settings.LISTINGS_REQUIRE_REVIEW = True
    listing = listing_in(user, S.ARCHIVED, S.EXPIRED)
    renewed = services.listing_renew(listing=listing, actor=user)
    assert renewed.status == S.ACTIVE


def test_with_review_new_content_on_an_expired_listing_goes_to_review(user, settings):
    settings.LISTINGS_REQUIRE_REVIEW = True
    listing = listing_in(user, S.EXPIRED)
    edited = services.listing_update(listing=listing, actor=user, title="New title")
    assert edited.status == S.PENDING
    with pytest.raises(Conflict):
        services.listing_renew(listing=edited, actor=user)
    edited.refresh_from_db()
    assert edited.status == S.PENDING


@pytest.mark.parametrize(
    ("status", "archived_from"),
    [(S.ARCHIVED, ""), (S.ARCHIVED, S.REJECTED), (S.ACTIVE, S.ACTIVE)],
)
def test_database_refuses_archived_from_that_does_not_match(
    user, status, archived_from
):
    with pytest.raises(IntegrityError), transaction.atomic():
        ListingFactory(owner=user, status=status, archived_from=archived_from)
