"""Page views of the listings app, split by audience."""

from listings.views.browse import attribute_fields, category, detail, home, search
from listings.views.manage import (
    listing_action,
    listing_create,
    listing_delete,
    listing_edit,
    my_listings,
)
from listings.views.personal import (
    favourite_toggle,
    favourites,
    saved_search_create,
    saved_search_delete,
    saved_search_update,
    saved_searches,
)

__all__ = [
    "attribute_fields",
    "category",
    "detail",
    "favourite_toggle",
    "favourites",
    "home",
    "listing_action",
    "listing_create",
    "listing_delete",
    "listing_edit",
    "my_listings",
    "saved_search_create",
    "saved_search_delete",
    "saved_search_update",
    "saved_searches",
    "search",
]
