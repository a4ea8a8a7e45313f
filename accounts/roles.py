"""Roles: ordinary users, moderators (a group) and admins (superusers).

A user's role is derived from `is_superuser`, `is_staff` and membership of the
Moderators group; `accounts.services.user_set_role` is the only place that
changes those. The rules below are shared by the services (which enforce them)
and the admin forms (which show them as form errors before saving).
"""

from django.db import models

from core.errors import Conflict, PermissionDenied, ValidationError

MODERATORS_GROUP = "Moderators"

# Exactly what moderation needs in the admin: (app_label, model, actions).
# Apps append their models as they arrive (listings, reports, disputes, ...)
# and run `manage.py sync_roles` (it also runs after every `migrate`).
MODERATOR_PERMISSIONS = [
    ("accounts", "user", ("view", "change")),
    ("accounts", "notification", ("view",)),
    ("core", "auditlogentry", ("view",)),
    # Listings: moderate listings (admin actions), look at photos, keep the
    # category tree and its attribute declarations.
    ("listings", "listing", ("view", "change")),
    ("listings", "listingimage", ("view",)),
    ("listings", "category", ("view", "add", "change")),
    ("listings", "categoryattribute", ("view", "add", "change", "delete")),
    ("chat", "report", ("view", "change")),
    # Wallet: read the ledger and payments, adjust balances (with a reason).
    ("wallet", "wallet", ("view", "adjust")),
    ("wallet", "ledgertransaction", ("view",)),
    ("wallet", "ledgerentry", ("view",)),
    ("wallet", "hold", ("view",)),
    ("wallet", "payment", ("view",)),
    ("wallet", "paymentevent", ("view",)),
    ("wallet", "promotionproduct", ("view",)),
    ("wallet", "promotionpurchase", ("view",)),
]


class Role(models.TextChoices):
    USER = "user", "User"
    MODERATOR = "moderator", "Moderator"
    ADMIN = "admin", "Admin"


def role_of(user) -> str:
    """The user's role; reads `groups`, so prefetch it for lists."""
    if user.is_superuser:
        return Role.ADMIN
    if user.is_staff and any(g.name == MODERATORS_GROUP for g in user.groups.all()):
        return Role.MODERATOR
    return Role.USER


def can_moderate(actor) -> bool:
    """May `actor` ban, unban and verify users?"""
    return bool(
        actor is not None
        and actor.is_authenticated
        and actor.is_active
        and actor.is_staff
        and actor.has_perm("accounts.change_user")
    )


def check_role_change(*, actor, user, role: str) -> None:
    """Raise unless `actor` may give `user` the role `role`."""
    if role not in Role.values:
        choices = ", ".join(Role.values)
        raise ValidationError(f"Unknown role; choose one of: {choices}.", field="role")
    if not (actor.is_active and actor.is_superuser):
        raise PermissionDenied("Only admins can change roles.", field="role")
    if actor.pk == user.pk and role != Role.ADMIN:
        raise Conflict("You cannot take away your own admin role.", field="role")


def check_active_change(*, actor, user, is_active: bool, reason: str) -> None:
    """Raise unless `actor` may ban (`is_active=False`) or unban `user`."""
    if not can_moderate(actor):
        raise PermissionDenied("Only moderators can ban or unban users.")
    if actor.pk == user.pk:
        raise Conflict("You cannot ban or unban yourself.", field="is_active")
    if (user.is_staff or user.is_superuser) and not actor.is_superuser:
        raise PermissionDenied(
            "Only admins can ban or unban staff members.", field="is_active"
        )
    if not is_active and not reason.strip():
        raise ValidationError("Give a reason for the ban.", field="reason")


def check_verified_change(*, actor, user) -> None:
    """Raise unless `actor` may grant or remove `user`'s verified badge."""
    if not can_moderate(actor):
        raise PermissionDenied("Only moderators can change the verified badge.")
