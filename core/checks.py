from django.conf import settings
from django.core.checks import Warning, register


@register(deploy=True)
def check_redis_in_production(app_configs, **kwargs):
    """Several server processes need Redis to share the cache and channel layer."""
    if settings.DEBUG or settings.REDIS_URL:
        return []
    return [
        Warning(
            "REDIS_URL is not set: the cache, the websocket channel layer and "
            "background jobs stay inside each server process.",
            hint=(
                "Set REDIS_URL=redis://... in production; without it run exactly "
                "one server process."
            ),
            id="core.W001",
        )
    ]
