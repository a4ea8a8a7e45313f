from django.urls import path
from rest_framework.routers import SimpleRouter

from wallet.api import views

router = SimpleRouter()
router.register(
    "wallet/transactions", views.TransactionViewSet, basename="wallet-transaction"
)
router.register("wallet/top-ups", views.TopUpViewSet, basename="wallet-top-up")
router.register(
    "wallet/promotions", views.PromotionPurchaseViewSet, basename="wallet-promotion"
)
router.register(
    "promotions/products", views.PromotionProductViewSet, basename="promotion-product"
)

urlpatterns = [
    path("wallet/", views.WalletView.as_view(), name="api_wallet"),
    path(
        "listings/<int:pk>/promotions/",
        views.ListingPromotionView.as_view(),
        name="api_listing_promotions",
    ),
    *router.urls,
]
