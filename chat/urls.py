from django.urls import path

from chat import views

app_name = "chat"

urlpatterns = [
    path("messages/", views.inbox, name="inbox"),
    path("messages/<int:pk>/", views.conversation, name="conversation"),
    path("messages/<int:pk>/read/", views.conversation_read, name="read"),
    path("messages/<int:pk>/archive/", views.conversation_archive, name="archive"),
    path("messages/<int:pk>/block/", views.conversation_block, name="block"),
    path("messages/<int:pk>/report/", views.conversation_report, name="report"),
    path("messages/start/<int:listing_id>/", views.conversation_start, name="start"),
    path("account/blocked/", views.blocked_users, name="blocked"),
    path("account/blocked/<int:user_id>/unblock/", views.unblock, name="unblock"),
]
