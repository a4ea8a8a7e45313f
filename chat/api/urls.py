from django.urls import path
from rest_framework.routers import SimpleRouter

from chat.api import views

router = SimpleRouter()
router.register("conversations", views.ConversationViewSet, basename="api_conversation")

urlpatterns = [
    *router.urls,
    path(
        "conversations/<int:pk>/messages/<int:message_pk>/image/",
        views.MessageImageView.as_view(),
        name="api_conversation_message_image",
    ),
    path("users/<int:pk>/block/", views.UserBlockView.as_view(), name="api_user_block"),
    path("blocks/", views.BlockListView.as_view(), name="api_block_list"),
]
