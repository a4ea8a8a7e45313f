from django.conf import settings


def site(request):
    """Site-wide template context: name, currency, the bell's unread count."""
    from accounts.selectors import notification_unread_count

    user = getattr(request, "user", None)
    unread = 0
    if user is not None and user.is_authenticated:
        unread = notification_unread_count(user=user)
    return {
        "SITE_NAME": settings.SITE_NAME,
        "SITE_CURRENCY": settings.SITE_CURRENCY,
        "notifications_unread": unread,
    }
