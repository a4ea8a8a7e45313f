"""Roles: ordinary users, moderators (a group) and admins (superusers)."""

MODERATORS_GROUP = "Moderators"

# Exactly what moderation needs in the admin: (app_label, model, actions).
# Apps append their models as they arrive (listings, reports, disputes, ...).
MODERATOR_PERMISSIONS = [
    ("accounts", "user", ("view", "change")),
    ("accounts", "notification", ("view",)),
    ("core", "auditlogentry", ("view",)),
    ("chat", "report", ("view", "change")),
]
