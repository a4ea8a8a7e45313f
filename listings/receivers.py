"""Adapters from other apps' events to listings services."""


def forget_deleted_users_favourites(sender, instance, **kwargs):
    from listings.services import favourites_forget_user

    favourites_forget_user(user=instance)
