"""Load demo data, idempotently: users first, then each app's own demo module."""

import importlib

from django.core.management.base import BaseCommand

DEMO_APPS = ["listings", "chat", "wallet", "deals"]


class Command(BaseCommand):
    help = "Create demo users (printed with their passwords) and demo content."

    def add_arguments(self, parser):
        parser.add_argument(
            "--listings", type=int, default=240, help="How many demo listings."
        )

    def handle(self, *args, **options):
        from accounts.demo import seed_users

        users = seed_users()
        for app in DEMO_APPS:
            try:
                module = importlib.import_module(f"{app}.demo")
            except ModuleNotFoundError as exc:
                if exc.name != f"{app}.demo":
                    raise
                continue
            module.seed(users=users, options=options, stdout=self.stdout)

        self.stdout.write(self.style.SUCCESS("Demo data ready. Log in with:"))
        for user, password, role in users.credentials:
            self.stdout.write(f"  {role:<10} {user.email:<28} {password}")
