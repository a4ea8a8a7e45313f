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
    from urllib.parse import urlsplit

    from django.conf import settings
    from django.contrib.sites.models import Site
    from django.db import connections

    from accounts.services import moderator_group_sync

    tables = connections[using].introspection.table_names()
    if "auth_group" in tables:  # not after `migrate accounts zero`
        moderator_group_sync()
    if "django_site" in tables:
        # allauth's e-mails name the site and link to it: keep the Site row in
        # line with SITE_NAME / SITE_URL instead of Django's "example.com".
        Site.objects.using(using).update_or_create(
            pk=settings.SITE_ID,
            defaults={
                "domain": urlsplit(settings.SITE_URL).netloc or "localhost",
                "name": settings.SITE_NAME,
            },
        )
