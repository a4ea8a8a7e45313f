"""Data migrations of the listings app, run on the test database."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("listings", "0006_search_rum_indexes")]
AFTER = [("listings", "0007_archived_from")]


@pytest.mark.django_db(transaction=True)
def test_0007_settles_listings_archived_before_it(django_user_model):
    # given listings archived before `archived_from` existed
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    apps = executor.loader.project_state(BEFORE).apps
    Category = apps.get_model("listings", "Category")
    Listing = apps.get_model("listings", "Listing")
    owner = apps.get_model(*django_user_model._meta.label.split(".")).objects.create(
        email="old@example.com"
    )
    category = Category.objects.create(name="Books", slug="books", path="/1/")
    common = {"owner_id": owner.pk, "category": category, "price": 1, "city": "x"}
    hidden = Listing.objects.create(
        **common, status="archived", rejection_reason="Scam", title="hidden"
    )
    draft = Listing.objects.create(**common, status="archived", title="draft")
    once_live = Listing.objects.create(
        **common, status="archived", title="live", published_at="2025-01-01T00:00Z"
    )
    active = Listing.objects.create(**common, status="active", title="active")
    # when the migration runs
    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)
    # then each is where it can be recovered from, and nothing else moved
    Listing = executor.loader.project_state(AFTER).apps.get_model("listings", "Listing")
    settled = {
        x.pk: (x.status, x.archived_from)
        for x in Listing.objects.filter(pk__in=[hidden.pk, draft.pk, once_live.pk])
    }
    assert settled == {
        hidden.pk: ("rejected", ""),
        draft.pk: ("draft", ""),
        once_live.pk: ("archived", "expired"),
    }
    assert Listing.objects.get(pk=active.pk).archived_from == ""
