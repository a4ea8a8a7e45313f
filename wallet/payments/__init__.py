"""Payment providers behind one interface (`base.PaymentProvider`): the
offline sandbox (default) and Stripe. PAYMENT_PROVIDER picks the one that
new top-ups use and whose webhooks are accepted."""

from django.conf import settings

from core.errors import NotFound
from wallet.payments.base import PaymentProvider
from wallet.payments.sandbox import SandboxProvider
from wallet.payments.stripe_provider import StripeProvider

PROVIDERS: dict[str, type[PaymentProvider]] = {
    SandboxProvider.name: SandboxProvider,
    StripeProvider.name: StripeProvider,
}


def get_provider(name: str | None = None) -> PaymentProvider:
    """The configured provider, or `name` if it is the configured one."""
    configured = settings.PAYMENT_PROVIDER
    if name is not None and name != configured:
        raise NotFound(f"Payment provider {name!r} is not enabled.")
    return PROVIDERS[configured]()
