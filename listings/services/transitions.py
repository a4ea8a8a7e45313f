"""The owner's side of the listing state machine, in one place.

Which of edit, publish, renew, mark sold, archive and delete a listing's
status allows, and why not. The services check their move here and the pages
offer only the moves `listing_owner_actions` allows, so a button never leads
to a refusal. Moderators' moves are in moderation.py, the expiry job's in
expiry.py.

    draft     -> publish: active (pending with review); no archive (delete it)
    pending   -> (a moderator approves or rejects); no archive
    active    -> renew: active (new lifetime); sold; archive
    expired   -> renew: active; archive
    sold      -> archive (and it stays archived: not for sale again)
    archived  -> renew: active, only if archived from active or expired
    rejected  -> publish: pending (back to review); no archive
"""

from __future__ import annotations

from core.errors import Conflict
from listings.models import ARCHIVABLE_STATUSES, Listing, ListingStatus

OWNER_ACTIONS = ("edit", "publish", "renew", "sold", "archive", "delete")

# A status as a noun phrase with its article, for messages ("an expired
# listing", never "a expired listing").
STATUS_PHRASES = {
    ListingStatus.DRAFT: "a draft",
    ListingStatus.PENDING: "a listing in review",
    ListingStatus.ACTIVE: "an active listing",
    ListingStatus.SOLD: "a sold listing",
    ListingStatus.ARCHIVED: "an archived listing",
    ListingStatus.EXPIRED: "an expired listing",
    ListingStatus.REJECTED: "a rejected listing",
}

# An archived listing may go live again only if it was for sale when archived.
RENEWABLE_ARCHIVED_FROM = (ListingStatus.ACTIVE, ListingStatus.EXPIRED)

_ARCHIVE_REFUSALS = {
    ListingStatus.DRAFT: "A draft cannot be archived; delete the draft instead.",
    ListingStatus.PENDING: "A listing in review cannot be archived; wait for the "
    "review, or delete it.",
    ListingStatus.REJECTED: "A rejected listing cannot be archived; edit it and "
    "resubmit it for review, or delete it.",
    ListingStatus.ARCHIVED: "The listing is already archived.",
}


def status_phrase(status: str, *, capitalize: bool = False) -> str:
    """The status as "an active listing", "a draft" (for messages)."""
    phrase = STATUS_PHRASES.get(status, "this listing")
    return phrase[0].upper() + phrase[1:] if capitalize else phrase


def listing_owner_refusal(listing: Listing, action: str) -> str | None:
    """Why the owner may not do `action` with the listing now; None if they may."""
    status = listing.status
    if action == "delete":
        return None
    if action == "edit":
        if status in (ListingStatus.SOLD, ListingStatus.ARCHIVED):
            return "Sold and archived listings cannot be edited."
        return None
    if action == "publish":
        if status in (ListingStatus.DRAFT, ListingStatus.REJECTED):
            return None
        return f"{status_phrase(status, capitalize=True)} cannot be published."
    if action == "sold":
        if status == ListingStatus.ACTIVE:
            return None
        return "Only an active listing can be marked sold."
    if action == "archive":
        if status in ARCHIVABLE_STATUSES:
            return None
        return _ARCHIVE_REFUSALS[status]
    if action == "renew":
        if status in (ListingStatus.ACTIVE, ListingStatus.EXPIRED):
            return None
        if status == ListingStatus.ARCHIVED:
            if listing.archived_from in RENEWABLE_ARCHIVED_FROM:
                return None
            if listing.archived_from == ListingStatus.SOLD:
                return (
                    "A sold listing stays archived: it is not for sale again. "
                    "Post a new listing to sell another one."
                )
        return f"{status_phrase(status, capitalize=True)} cannot be renewed."
    raise ValueError(f"Unknown owner action: {action}")


def listing_owner_actions(listing: Listing) -> frozenset[str]:
    """The moves the owner may make with the listing now (see OWNER_ACTIONS)."""
    return frozenset(
        action
        for action in OWNER_ACTIONS
        if listing_owner_refusal(listing, action) is None
    )


def _require_owner_action(listing: Listing, action: str) -> None:
    refusal = listing_owner_refusal(listing, action)
    if refusal is not None:
        raise Conflict(refusal, code="invalid_status")
