from django.urls import path

from wallet import views

app_name = "wallet"

urlpatterns = [
    path("wallet/", views.wallet_home, name="home"),
    path("wallet/top-up/", views.top_up, name="top_up"),
    path("wallet/top-ups/<int:pk>/", views.top_up_detail, name="top_up_detail"),
    path("wallet/top-ups/<int:pk>/cancel/", views.top_up_cancel, name="top_up_cancel"),
    path("wallet/promotions/", views.promotions, name="promotions"),
    path("wallet/promote/<int:listing_id>/", views.promote, name="promote"),
    path(
        "payments/sandbox/checkout/<str:reference>/",
        views.sandbox_checkout,
        name="sandbox_checkout",
    ),
    path(
        "payments/webhooks/<slug:provider>/",
        views.payment_webhook,
        name="payment_webhook",
    ),
]
