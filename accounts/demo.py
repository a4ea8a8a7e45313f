"""Demo users for a newcomer's first run. Idempotent."""

from dataclasses import dataclass, field

from allauth.account.models import EmailAddress
from django.contrib.gis.geos import Point
from django.db import transaction

from accounts.models import User
from accounts.services import moderator_group_sync

DEMO_PASSWORD = "demo-pass-2026"  # noqa: S105 - printed demo password, local only

DEMO_USERS = [
    # email, display name, city, (lng, lat), role
    ("admin@example.com", "Aigerim (admin)", "Almaty", (76.9286, 43.2567), "admin"),
    (
        "moderator@example.com",
        "Marat (moderator)",
        "Astana",
        (71.4304, 51.1282),
        "moderator",
    ),
    ("seller@example.com", "Dana Seller", "Almaty", (76.9450, 43.2380), "seller"),
    ("buyer@example.com", "Yerlan Buyer", "Almaty", (76.8897, 43.2220), "buyer"),
    (
        "shymkent@example.com",
        "Saule from Shymkent",
        "Shymkent",
        (69.5901, 42.3417),
        "seller",
    ),
    ("astana@example.com", "Timur from Astana", "Astana", (71.4491, 51.1694), "seller"),
]


@dataclass
class DemoUsers:
    by_role: dict = field(default_factory=dict)
    all: list = field(default_factory=list)
    credentials: list = field(default_factory=list)


@transaction.atomic
def seed_users() -> DemoUsers:
    group = moderator_group_sync()
    result = DemoUsers()
    for email, name, city, (lng, lat), role in DEMO_USERS:
        user, created = User.objects.get_or_create(
            email=email,
            defaults={
                "display_name": name,
                "city": city,
                "home_location": Point(lng, lat, srid=4326),
                "is_staff": role in ("admin", "moderator"),
                "is_superuser": role == "admin",
                "is_verified": role in ("admin", "seller"),
            },
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        if role == "moderator":
            user.groups.add(group)
        EmailAddress.objects.get_or_create(
            user=user, email=email, defaults={"verified": True, "primary": True}
        )
        result.by_role.setdefault(role, user)
        result.all.append(user)
        result.credentials.append((user, DEMO_PASSWORD, role))
    return result
