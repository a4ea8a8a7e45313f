"""Adapters from other apps' events to wallet services."""


def open_wallet_for_new_user(sender, instance, created, raw=False, **kwargs):
    if created and not raw:
        from wallet.services import wallet_open_for_new_user

        wallet_open_for_new_user(user=instance)
