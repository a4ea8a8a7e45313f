from django.urls import path, re_path

from listings import views

app_name = "listings"

urlpatterns = [
    path("search/", views.search, name="search"),
    path("c/<slug:slug>/", views.category, name="category"),
    path("listings/new/", views.listing_create, name="create"),
    path(
        "listings/attribute-fields/",
        views.attribute_fields,
        name="attribute_fields",
    ),
    path("listings/<int:pk>/", views.detail, name="detail"),
    path("listings/<int:pk>/edit/", views.listing_edit, name="edit"),
    path("listings/<int:pk>/delete/", views.listing_delete, name="delete"),
    re_path(
        r"^listings/(?P<pk>[0-9]+)/(?P<action>publish|renew|sold|archive)/$",
        views.listing_action,
        name="action",
    ),
    path("listings/<int:pk>/favourite/", views.favourite_toggle, name="favourite"),
    path("my/listings/", views.my_listings, name="my_listings"),
    path("favourites/", views.favourites, name="favourites"),
    path("saved-searches/", views.saved_searches, name="saved_searches"),
    path("saved-searches/new/", views.saved_search_create, name="saved_search_create"),
    path(
        "saved-searches/<int:pk>/",
        views.saved_search_update,
        name="saved_search_update",
    ),
    path(
        "saved-searches/<int:pk>/delete/",
        views.saved_search_delete,
        name="saved_search_delete",
    ),
]
