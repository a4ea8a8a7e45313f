from django.urls import path

from accounts import views, views_notifications

app_name = "accounts"

urlpatterns = [
    path("users/<int:pk>/", views.profile, name="profile"),
    path("account/settings/", views.settings_view, name="settings"),
    # --- notifications (accounts/views_notifications.py) ---
    path(
        "notifications/",
        views_notifications.notifications,
        name="notifications",
    ),
    path(
        "notifications/read/",
        views_notifications.notifications_mark_read,
        name="notifications_mark_read",
    ),
    path(
        "notifications/<int:pk>/open/",
        views_notifications.notification_open,
        name="notification_open",
    ),
    path(
        "notifications/settings/",
        views_notifications.notification_settings,
        name="notification_settings",
    ),
    path(
        "notifications/unsubscribe/<str:token>/",
        views_notifications.notifications_unsubscribe,
        name="notifications_unsubscribe",
    ),
]
