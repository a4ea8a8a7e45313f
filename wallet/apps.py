from django.apps import AppConfig
from django.conf import settings
from django.db.models.signals import post_save


class WalletConfig(AppConfig):
    name = "wallet"
    verbose_name = "Wallet"

    def ready(self):
        from wallet import checks, receivers  # noqa: F401 - registers checks

        # Every new user gets a wallet, however the user was created (sign-up,
        # admin, createsuperuser); the receiver only calls the service.
        post_save.connect(
            receivers.open_wallet_for_new_user,
            sender=settings.AUTH_USER_MODEL,
            dispatch_uid="wallet_open_for_new_user",
        )
