"""The seller's pages: post and edit a listing, "My listings" and its actions."""

from decimal import Decimal

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from core.errors import DomainError, NotFound
from core.pages import add_error_to_form, flash_error, own_list_page, safe_next_url
from listings import selectors, services
from listings.forms import ListingForm
from listings.models import Listing, ListingStatus

DASHBOARD_TABS = [
    ("", "All"),
    (ListingStatus.ACTIVE, "Active"),
    (ListingStatus.DRAFT, "Drafts"),
    (ListingStatus.PENDING, "In review"),
    (ListingStatus.SOLD, "Sold"),
    (ListingStatus.EXPIRED, "Expired"),
    (ListingStatus.ARCHIVED, "Archived"),
    (ListingStatus.REJECTED, "Rejected"),
]
DASHBOARD_PAGE_SIZE = 24


def owned_listing(request, pk) -> Listing:
    """The user's own listing, or 404 (others' listings are not editable)."""
    try:
        return selectors.access_listing_for_owner(request.user, pk)
    except NotFound as exc:
        raise Http404(exc.message) from exc


def form_error(form, exc) -> None:
    """A service error on the form; photo errors belong to the photos field."""
    if getattr(exc, "field", None) in ("image", "image_ids"):
        form.add_error("photos", exc.message)
    else:
        add_error_to_form(form, exc)


def _publish_message(listing) -> str:
    if listing.status == ListingStatus.ACTIVE:
        return "Your listing is live."
    if listing.status == ListingStatus.PENDING:
        return "Thanks! Your listing goes live after a quick review."
    return "Saved as a draft. Publish it when you are ready."


def _form_page(request, form, listing):
    return render(
        request,
        "listings/form.html",
        {
            "form": form,
            "listing": listing,
            "max_photos": settings.LISTING_MAX_IMAGES,
        },
        status=400 if form.is_bound and form.errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def listing_create(request):
    if request.method == "POST" and "refresh" not in request.POST:
        form = ListingForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                listing = services.listing_create_with_photos(
                    owner=request.user,
                    photos=form.cleaned_data["photos"],
                    publish=request.POST.get("action") == "publish",
                    **form.listing_fields(),
                )
            except DomainError as exc:
                form_error(form, exc)
            else:
                messages.success(request, _publish_message(listing))
                return redirect(listing.get_absolute_url())
    elif request.method == "POST":
        # "Update fields" without JavaScript: show the new category's fields.
        form = ListingForm(initial=request.POST.dict())
    else:
        initial = {"city": request.user.city}
        if request.GET.get("category"):
            initial["category"] = request.GET["category"]
        form = ListingForm(initial=initial)
    return _form_page(request, form, None)


@login_required
@require_http_methods(["GET", "POST"])
def listing_edit(request, pk):
    listing = owned_listing(request, pk)
    if request.method == "POST" and "refresh" not in request.POST:
        form = ListingForm(request.POST, request.FILES, listing=listing)
        if form.is_valid():
            status_before = listing.status
            try:
                listing = services.listing_update_with_photos(
                    listing=listing,
                    actor=request.user,
                    photos=form.cleaned_data["photos"],
                    delete_ids=form.cleaned_data.get("photo_delete") or [],
                    order=form.cleaned_data.get("photo_order") or [],
                    publish=request.POST.get("action") == "publish",
                    **form.listing_fields(),
                )
            except DomainError as exc:
                form_error(form, exc)
            else:
                if listing.status == status_before:
                    messages.success(request, "Your changes are saved.")
                else:
                    messages.success(request, _publish_message(listing))
                return redirect(listing.get_absolute_url())
    elif request.method == "POST":
        form = ListingForm(initial=request.POST.dict(), listing=listing)
    else:
        location = listing.location
        form = ListingForm(
            listing=listing,
            initial={
                "category": listing.category_id,
                "title": listing.title,
                "description": listing.description,
                "price": Decimal(listing.price) / 100,
                "is_negotiable": listing.is_negotiable,
                "condition": listing.condition,
                "city": listing.city,
                "lat": location.y if location else None,
                "lng": location.x if location else None,
            },
        )
    return _form_page(request, form, listing)


@login_required
def my_listings(request):
    status = request.GET.get("status", "")
    if status not in dict(DASHBOARD_TABS):
        status = ""
    page = own_list_page(
        request,
        selectors.listing_list_for_owner(user=request.user, status=status or None),
        per_page=DASHBOARD_PAGE_SIZE,
    )
    counts = selectors.listing_status_counts_for_owner(user=request.user)
    tabs = [
        (value, label, counts.get(value, 0) if value else sum(counts.values()))
        for value, label in DASHBOARD_TABS
    ]
    return render(
        request,
        "listings/my_listings.html",
        {"listings": page.object_list, "page": page, "tabs": tabs, "status": status},
    )


ACTIONS = {
    "publish": (services.listing_publish, "Your listing is published."),
    "renew": (services.listing_renew, "Your listing is renewed."),
    "sold": (services.listing_mark_sold, "Marked as sold. Congratulations!"),
    "archive": (services.listing_archive, "The listing is archived."),
}


@login_required
@require_POST
def listing_action(request, pk, action):
    listing = owned_listing(request, pk)
    service, message = ACTIONS[action]
    try:
        listing = service(listing=listing, actor=request.user) or listing
    except DomainError as exc:
        flash_error(request, exc)
    else:
        if action == "publish":
            message = _publish_message(listing)
        messages.success(request, message)
    return redirect(safe_next_url(request, reverse("listings:my_listings")))


@login_required
@require_http_methods(["GET", "POST"])
def listing_delete(request, pk):
    listing = owned_listing(request, pk)
    if request.method == "POST":
        try:
            services.listing_delete(listing=listing, actor=request.user)
        except DomainError as exc:
            flash_error(request, exc)
            return redirect(listing.get_absolute_url())
        messages.success(request, f"“{listing.title}” is deleted.")
        return redirect("listings:my_listings")
    return render(request, "listings/confirm_delete.html", {"listing": listing})
