from django.apps import AppConfig
from django.conf import settings
from django.db.models.signals import pre_delete


class ListingsConfig(AppConfig):
    name = "listings"
    verbose_name = "Listings"

    def ready(self):
        from listings import receivers

        # A deleted user's favourites go by cascade, past favourite_remove:
        # the listings' favourite counts must lose them too.
        pre_delete.connect(
            receivers.forget_deleted_users_favourites,
            sender=settings.AUTH_USER_MODEL,
            dispatch_uid="listings.forget_deleted_users_favourites",
        )
