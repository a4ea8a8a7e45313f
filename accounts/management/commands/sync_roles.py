"""Bring the Moderators group in line with accounts.roles; idempotent."""

from django.core.management.base import BaseCommand

from accounts.roles import MODERATORS_GROUP


class Command(BaseCommand):
    help = (
        "Create or update the Moderators group so it has exactly the "
        "permissions in accounts.roles.MODERATOR_PERMISSIONS."
    )

    def handle(self, *args, **options):
        from accounts.services import moderator_group_sync

        group = moderator_group_sync()
        count = group.permissions.count()
        self.stdout.write(
            self.style.SUCCESS(f"{MODERATORS_GROUP}: {count} permissions in sync.")
        )
