from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def sandbox_payments_in_production(app_configs, **kwargs):
    """The sandbox lets anyone approve their own top-up: fine for demos only."""
    if settings.PAYMENT_PROVIDER == "sandbox":
        return [
            Warning(
                "PAYMENT_PROVIDER is 'sandbox': anyone can top up their wallet "
                "for free through the sandbox checkout.",
                hint="Set PAYMENT_PROVIDER=stripe with the Stripe secrets.",
                id="wallet.W001",
            )
        ]
    return []
