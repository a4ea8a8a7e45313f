from django.conf import settings
from django.utils.functional import SimpleLazyObject


def site(request):
    """Site-wide template context: name, currency, the bell's unread count.

    The count is lazy: one COUNT query, run only when a template shows it, and
    at most once per request however often it is used.
    """
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        from accounts.selectors import notification_unread_count

        unread = SimpleLazyObject(lambda: notification_unread_count(user=user))
    else:
        unread = 0
    return {
        "SITE_NAME": settings.SITE_NAME,
        "SITE_CURRENCY": settings.SITE_CURRENCY,
        "notifications_unread": unread,
    }
