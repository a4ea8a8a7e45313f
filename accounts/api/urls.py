from django.urls import path
from rest_framework.routers import SimpleRouter

from accounts.api import views

router = SimpleRouter()
router.register("admin/users", views.AdminUserViewSet, basename="api_admin_users")

urlpatterns = [
    path("me/", views.MeView.as_view(), name="api_me"),
    path("me/avatar/", views.MeAvatarView.as_view(), name="api_me_avatar"),
    path("users/<int:pk>/", views.PublicUserView.as_view(), name="api_user"),
    *router.urls,
]
