from rest_framework.routers import SimpleRouter

from listings.api import views

router = SimpleRouter()
router.register("categories", views.CategoryViewSet, basename="api-category")
router.register("listings", views.ListingViewSet, basename="api-listing")
router.register("favourites", views.FavouriteViewSet, basename="api-favourite")
router.register("saved-searches", views.SavedSearchViewSet, basename="api-saved-search")

urlpatterns = router.urls
