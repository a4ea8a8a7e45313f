from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self):
        # After every `migrate`, bring the Moderators group in line with
        # accounts.roles.MODERATOR_PERMISSIONS (apps append theirs over time).
        post_migrate.connect(
            _sync_roles_after_migrate,
            sender=self,
            dispatch_uid="accounts.sync_roles_after_migrate",
        )


def _sync_roles_after_migrate(sender, using="default", plan=None, **kwargs):
    from django.db import connections

    from accounts.services import moderator_group_sync

    if "auth_group" not in connections[using].introspection.table_names():
        return  # `migrate accounts zero` and friends: nothing to sync into
    moderator_group_sync()
