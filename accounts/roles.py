"""Roles: ordinary users, moderators (a group) and admins (superusers)."""

MODERATORS_GROUP = "Moderators"

# Exactly what moderation needs in the admin: (app_label, model, actions).
# Apps append their models as they arrive (listings, reports, disputes, ...).
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
