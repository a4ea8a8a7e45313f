"""/api/v1/notifications/...: the caller's notifications and preferences."""

from rest_framework.routers import SimpleRouter

from accounts.api.views_notifications import NotificationViewSet

router = SimpleRouter()
router.register("notifications", NotificationViewSet, basename="api_notifications")

urlpatterns = router.urls
