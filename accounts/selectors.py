# Notification reads live in their own module; re-exported for callers here.
from accounts.selectors_notifications import (  # noqa: F401
    access_notification,
    notification_list,
    notification_preferences_get,
    notification_unread_count,
)
