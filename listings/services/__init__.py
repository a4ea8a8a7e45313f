"""Every write of the listings app: one public function per use case, each in
one transaction; side effects that leave the database run on commit.

Split by topic; import from here (`from listings import services`)."""

from listings.services._common import (
    DESCRIPTION_MAX_LENGTH,
    DESCRIPTION_MIN_LENGTH,
    TITLE_MAX_LENGTH,
    TITLE_MIN_LENGTH,
)
from listings.services.categories import (
    category_attribute_delete,
    category_attribute_save,
    category_save,
)
from listings.services.expiry import listings_expire, listings_warn_expiring
from listings.services.favourites import (
    favourite_add,
    favourite_remove,
    favourites_forget_user,
)
from listings.services.listings import (
    listing_archive,
    listing_create,
    listing_delete,
    listing_mark_sold,
    listing_publish,
    listing_renew,
    listing_update,
    listing_view_count_sync,
    listing_view_record,
)
from listings.services.moderation import MODERATION_ACTIONS, listing_moderate
from listings.services.photos import (
    listing_image_add,
    listing_image_delete,
    listing_images_reorder,
)
from listings.services.promotions import (
    PROMOTION_KINDS,
    listing_apply_promotion,
    listings_promotions_expire,
)
from listings.services.saved_searches import (
    SavedSearchInactiveReason,
    SavedSearchState,
    saved_search_create,
    saved_search_delete,
    saved_search_state,
    saved_search_update,
    saved_searches_notify,
    saved_searches_notify_listing,
)
from listings.services.transitions import (
    listing_owner_actions,
    listing_owner_refusal,
)
from listings.services.with_photos import (
    listing_create_with_photos,
    listing_update_with_photos,
)

__all__ = [
    "DESCRIPTION_MAX_LENGTH",
    "DESCRIPTION_MIN_LENGTH",
    "MODERATION_ACTIONS",
    "PROMOTION_KINDS",
    "TITLE_MAX_LENGTH",
    "TITLE_MIN_LENGTH",
    "SavedSearchInactiveReason",
    "SavedSearchState",
    "category_attribute_delete",
    "category_attribute_save",
    "category_save",
    "favourite_add",
    "favourite_remove",
    "favourites_forget_user",
    "listing_apply_promotion",
    "listing_archive",
    "listing_create",
    "listing_create_with_photos",
    "listing_delete",
    "listing_image_add",
    "listing_image_delete",
    "listing_images_reorder",
    "listing_mark_sold",
    "listing_moderate",
    "listing_owner_actions",
    "listing_owner_refusal",
    "listing_publish",
    "listing_renew",
    "listing_update",
    "listing_update_with_photos",
    "listing_view_count_sync",
    "listing_view_record",
    "listings_expire",
    "listings_promotions_expire",
    "listings_warn_expiring",
    "saved_search_create",
    "saved_search_delete",
    "saved_search_state",
    "saved_search_update",
    "saved_searches_notify",
    "saved_searches_notify_listing",
]
