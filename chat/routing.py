from django.urls import path

from chat import consumers

websocket_urlpatterns = [
    path("ws/chat/<int:pk>/", consumers.ConversationConsumer.as_asgi()),
    path("ws/user/", consumers.UserConsumer.as_asgi()),
]
