"""Moderators approve, reject or hide listings."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from core.errors import Conflict, PermissionDenied, ValidationError
from core.services import audit_log_record
from listings.models import (
    Listing,
    ListingStatus,
)
from listings.services._common import (
    _announce_live,
    _go_live,
    _lock,
)
from listings.services.transitions import status_phrase

MODERATION_ACTIONS = ("approve", "reject", "hide")


@transaction.atomic
def listing_moderate(
    *, listing: Listing, moderator, action: str, reason: str = ""
) -> Listing:
    """A moderator approves a pending listing, rejects one (with a reason) or
    hides a live one; the owner is notified and the decision audited."""
    from accounts.services import notification_send

    if action not in MODERATION_ACTIONS:
        raise ValidationError(f"Unknown moderation action: {action}", field="action")
    if moderator is None or not moderator.has_perm("listings.change_listing"):
        raise PermissionDenied("Only moderators can moderate listings.")
    reason = (reason or "").strip()
    locked = _lock(listing)
    now = timezone.now()
    if action == "approve":
        if locked.status not in (ListingStatus.PENDING, ListingStatus.REJECTED):
            raise Conflict("Only pending or rejected listings can be approved.")
        _go_live(locked, now)
        locked.rejection_reason = ""
        title = f"“{locked.title}” is live"
        body = "A moderator approved your listing."
    else:
        allowed = (
            (ListingStatus.PENDING, ListingStatus.ACTIVE)
            if action == "reject"
            else (ListingStatus.ACTIVE, ListingStatus.SOLD, ListingStatus.PENDING)
        )
        if locked.status not in allowed:
            raise Conflict(
                f"{status_phrase(locked.status, capitalize=True)} cannot be "
                f"{'rejected' if action == 'reject' else 'hidden'}."
            )
        if not reason:
            raise ValidationError("Give the owner a reason.", field="reason")
        locked.status = ListingStatus.REJECTED
        locked.rejection_reason = reason
        verb = "was rejected" if action == "reject" else "was hidden by a moderator"
        title = f"“{locked.title}” {verb}"
        body = f"Reason: {reason}\nEdit the listing and resubmit it for review."
    locked.save()
    audit_log_record(
        actor=moderator,
        action=f"listing.{action}",
        target=locked,
        reason=reason,
        data={"status": locked.status},
    )
    notification_send(
        user=locked.owner,
        kind="moderation",
        title=title,
        body=body,
        url=locked.get_absolute_url(),
    )
    if locked.status == ListingStatus.ACTIVE:
        _announce_live(locked)
    return locked
