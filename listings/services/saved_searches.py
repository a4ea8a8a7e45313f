"""Saved searches and their notifications (instant and daily)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.db.models import Q, TextChoices
from django.utils import timezone

from core.errors import Conflict, NotFound, ValidationError
from listings.models import (
    Listing,
    ListingStatus,
    SavedSearch,
    SavedSearchMatch,
)
from listings.search import SearchParams, listing_search, parse_search_params
from listings.selectors import (
    category_ancestors,
)
from listings.services._common import (
    SAVED_SEARCHES_PER_USER,
    _clean_text,
)

logger = logging.getLogger(__name__)


@transaction.atomic
def saved_search_create(
    *, user, name: str, params: SearchParams, frequency: str
) -> SavedSearch:
    """Save the user's current search to be told about new matches."""
    name = _clean_text(name or "", field="name", max_length=120)
    if frequency not in SavedSearch.Frequency.values:
        raise ValidationError("Frequency is instant or daily.", field="frequency")
    # Judged on what matches, not on what was sent: a search with only an
    # order, or a text with no words in it, would announce every new listing.
    if not params.narrows_results():
        raise ValidationError(
            "This search has no filter, so it would match every new listing: "
            "add a search word (letters or digits) or a filter before saving it.",
            field="params",
            code="no_filter",
        )
    stored = params.to_query_dict()
    stored.pop("ordering", None)  # the order does not change what matches
    if SavedSearch.objects.filter(user=user, params=stored).exists():
        raise Conflict("You have already saved this search.", code="duplicate")
    if SavedSearch.objects.filter(user=user).count() >= SAVED_SEARCHES_PER_USER:
        raise Conflict(
            f"You can keep at most {SAVED_SEARCHES_PER_USER} saved searches.",
            code="too_many",
        )
    return SavedSearch.objects.create(
        user=user,
        name=name,
        params=stored,
        frequency=frequency,
        last_notified_at=timezone.now(),
    )


@transaction.atomic
def saved_search_update(*, saved_search: SavedSearch, user, frequency: str):
    """Change how often a saved search notifies its owner."""
    if saved_search.user_id != user.pk:
        raise NotFound("No such saved search.")
    if frequency not in SavedSearch.Frequency.values:
        raise ValidationError("Frequency is instant or daily.", field="frequency")
    saved_search.frequency = frequency
    saved_search.save(update_fields=["frequency"])
    return saved_search


@transaction.atomic
def saved_search_delete(*, saved_search: SavedSearch, user) -> None:
    """Delete one of the user's saved searches."""
    if saved_search.user_id != user.pk:
        raise NotFound("No such saved search.")
    saved_search.delete()


class SavedSearchInactiveReason(TextChoices):
    """Why a saved search cannot notify; the labels are told to its owner."""

    NO_FILTER = (
        "no_filter",
        "This search has no filter, so it does not notify you: open it, add a "
        "filter and save it again, then delete this one.",
    )
    OUTDATED = (
        "outdated",
        "A category or a filter this search uses no longer exists, so it does "
        "not notify you: open it, choose the filters again and save it, then "
        "delete this one.",
    )


@dataclass(frozen=True)
class SavedSearchState:
    """Whether a saved search can notify: its parameters, or the reason why not."""

    params: SearchParams | None = None
    inactive_reason: SavedSearchInactiveReason | None = None
    # What the search parser said about an outdated search ("Unknown category.").
    detail: str = ""

    @property
    def notifies(self) -> bool:
        return self.inactive_reason is None

    @property
    def message(self) -> str:
        return self.inactive_reason.label if self.inactive_reason else ""


def saved_search_state(saved_search: SavedSearch) -> SavedSearchState:
    """Whether `saved_search` can notify its owner and, if not, why. The one
    rule for the notification jobs, the saved searches page and the API."""
    try:
        params = parse_search_params(saved_search.params)
    except ValidationError as exc:
        # The category or an attribute it filtered on is gone: nothing matches.
        return SavedSearchState(
            inactive_reason=SavedSearchInactiveReason.OUTDATED, detail=exc.message
        )
    if not params.narrows_results():
        # Saved before such searches were refused: it would announce everything.
        return SavedSearchState(inactive_reason=SavedSearchInactiveReason.NO_FILTER)
    return SavedSearchState(params=params)


def _params_to_notify(saved_search: SavedSearch) -> SearchParams | None:
    state = saved_search_state(saved_search)
    if not state.notifies:
        logger.info(
            "Saved search %s does not notify (%s); skipped",
            saved_search.pk,
            state.inactive_reason.value,
        )
    return state.params


def _search_url(saved_search: SavedSearch) -> str:
    from urllib.parse import urlencode

    return f"/search/?{urlencode(saved_search.params)}"


@transaction.atomic
def saved_searches_notify_listing(*, listing_id: int) -> int:
    """Notify owners of instant saved searches that a just-published listing
    matches (once per saved search and listing). Returns notifications sent."""
    from accounts.services import notification_send

    listing = Listing.objects.filter(pk=listing_id, status=ListingStatus.ACTIVE).first()
    if listing is None:
        return 0
    slugs = [c.slug for c in category_ancestors(listing.category)]
    slugs.append(listing.category.slug)
    candidates = (
        SavedSearch.objects.filter(frequency=SavedSearch.Frequency.INSTANT)
        .filter(Q(params__category__in=slugs) | Q(params__category__isnull=True))
        .exclude(user_id=listing.owner_id)
        .exclude(matches__listing=listing)
        .select_related("user")
        .order_by("pk")
    )
    sent = 0
    for saved_search in candidates:
        params = _params_to_notify(saved_search)
        if params is None:
            continue
        if not listing_search(params).filter(pk=listing.pk).exists():
            continue
        _, created = SavedSearchMatch.objects.get_or_create(
            saved_search=saved_search, listing=listing
        )
        if not created:
            continue
        notification_send(
            user=saved_search.user,
            kind="saved_search",
            title=f"New for “{saved_search.name}”: {listing.title}",
            body=f"A new listing matches your saved search “{saved_search.name}”.",
            url=listing.get_absolute_url(),
        )
        SavedSearch.objects.filter(pk=saved_search.pk).update(
            last_notified_at=timezone.now()
        )
        sent += 1
    return sent


def saved_searches_notify(*, frequency: str = "daily", now=None) -> int:
    """Periodic job: notify each saved search of `frequency` about listings
    published since it last notified (daily digest; for instant ones it
    catches what the per-listing trigger missed). Idempotent: a listing is
    announced once per saved search. Returns notifications sent."""
    if frequency not in SavedSearch.Frequency.values:
        raise ValueError(f"Unknown frequency: {frequency}")
    now = now or timezone.now()
    sent = 0
    for pk in SavedSearch.objects.filter(frequency=frequency).values_list(
        "pk", flat=True
    ):
        sent += _saved_search_digest(saved_search_id=pk, now=now)
    return sent


@transaction.atomic
def _saved_search_digest(*, saved_search_id: int, now) -> int:
    from accounts.services import notification_send

    saved_search = (
        SavedSearch.objects.select_for_update()
        .select_related("user")
        .filter(pk=saved_search_id)
        .first()
    )
    if saved_search is None:
        return 0
    since = saved_search.last_notified_at or saved_search.created_at
    if saved_search.frequency == SavedSearch.Frequency.DAILY and (
        now - since < timedelta(hours=23)
    ):
        return 0
    params = _params_to_notify(saved_search)
    if params is None:
        return 0
    # Look back a little past the watermark so that a listing whose
    # transaction committed late is not missed; matches dedupe it.
    new = list(
        listing_search(params)
        .filter(published_at__gt=since - timedelta(hours=1), published_at__lte=now)
        .exclude(owner_id=saved_search.user_id)
        .exclude(saved_search_matches__saved_search=saved_search)
        .order_by("-published_at")
        .values_list("pk", "title")[:100]
    )
    saved_search.last_notified_at = now
    saved_search.save(update_fields=["last_notified_at"])
    if not new:
        return 0
    SavedSearchMatch.objects.bulk_create(
        [SavedSearchMatch(saved_search=saved_search, listing_id=pk) for pk, _ in new],
        ignore_conflicts=True,
    )
    titles = ", ".join(title for _, title in new[:3])
    count = len(new)
    notification_send(
        user=saved_search.user,
        kind="saved_search",
        title=(
            f"{count} new listing{'s' if count != 1 else ''} for “{saved_search.name}”"
        ),
        body=f"New matches: {titles}{'…' if count > 3 else ''}",
        url=_search_url(saved_search),
    )
    return 1
