from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("users/<int:pk>/", views.profile, name="profile"),
    path("account/settings/", views.settings_view, name="settings"),
    path("notifications/", views.notifications, name="notifications"),
    path(
        "notifications/read/",
        views.notifications_mark_read,
        name="notifications_mark_read",
    ),
]
