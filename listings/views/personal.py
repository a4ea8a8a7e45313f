"""A buyer's own pages: favourites and saved searches."""

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, JsonResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from core.errors import DomainError, NotFound
from core.pages import add_error_to_form, flash_error, own_list_page, safe_next_url
from listings import selectors, services
from listings.forms import SavedSearchFrequencyForm, SaveSearchForm
from listings.search import parse_search_params

FAVOURITES_PAGE_SIZE = 24


def _wants_json(request) -> bool:
    return "application/json" in request.headers.get("Accept", "")


@login_required
@require_POST
def favourite_toggle(request, pk):
    """Add (`action=add`) or remove (`action=remove`) a listing from favourites."""
    adding = request.POST.get("action", "add") != "remove"
    try:
        listing = selectors.favourite_toggle_listing(request.user, pk, adding=adding)
    except NotFound as exc:
        if _wants_json(request):
            return JsonResponse({"detail": exc.message}, status=404)
        raise Http404(exc.message) from exc
    # A listing that is no longer public has no page to go back to.
    is_public = listing.status in selectors.PUBLIC_STATUSES
    back = listing.get_absolute_url() if is_public else reverse("listings:favourites")
    try:
        if adding:
            services.favourite_add(user=request.user, listing=listing)
        else:
            services.favourite_remove(user=request.user, listing=listing)
    except DomainError as exc:
        if _wants_json(request):
            return JsonResponse({"detail": exc.message}, status=exc.status_code)
        flash_error(request, exc)
        return redirect(safe_next_url(request, back))
    if _wants_json(request):
        return JsonResponse({"is_favourite": adding, "listing": listing.pk})
    messages.success(
        request, "Saved to your favourites." if adding else "Removed from favourites."
    )
    return redirect(safe_next_url(request, back))


@login_required
def favourites(request):
    page = own_list_page(
        request,
        selectors.favourite_list(user=request.user),
        per_page=FAVOURITES_PAGE_SIZE,
    )
    items = page.object_list
    return render(
        request,
        "listings/favourites.html",
        {
            "favourites": items,
            "page": page,
            # Every heart on this page is on: unliking one removes it.
            "favourite_ids": {item.listing_id for item in items},
        },
    )


def saved_search_summary(query: dict) -> str:
    """A short human description of saved search parameters."""
    parts = []
    if query.get("q"):
        parts.append(f"“{query['q']}”")
    if query.get("category"):
        parts.append(f"in {query['category'].replace('-', ' ')}")
    low, high = query.get("price_min"), query.get("price_max")
    if low and high:
        parts.append(f"{low} to {high}")
    elif low:
        parts.append(f"from {low}")
    elif high:
        parts.append(f"up to {high}")
    if query.get("condition"):
        parts.append(str(query["condition"]))
    if query.get("city"):
        parts.append(str(query["city"]))
    if query.get("radius_km"):
        parts.append(f"within {query['radius_km']} km")
    return " · ".join(parts)


@login_required
def saved_searches(request):
    items = list(selectors.saved_search_list(user=request.user))
    search_url = reverse("listings:search")
    for item in items:
        query = {k: v for k, v in (item.params or {}).items() if v not in (None, "")}
        item.url = f"{search_url}?{urlencode(query)}" if query else search_url
        item.summary = saved_search_summary(query)
        item.state = services.saved_search_state(item)
        item.frequency_form = SavedSearchFrequencyForm(
            initial={"frequency": item.frequency}, prefix=f"s{item.pk}"
        )
    return render(request, "listings/saved_searches.html", {"saved_searches": items})


@login_required
@require_POST
def saved_search_create(request):
    form = SaveSearchForm(request.POST)
    if form.is_valid():
        try:
            params = parse_search_params(QueryDict(form.cleaned_data["query"]))
            services.saved_search_create(
                user=request.user,
                name=form.cleaned_data["name"],
                params=params,
                frequency=form.cleaned_data["frequency"],
            )
        except DomainError as exc:
            add_error_to_form(form, exc)
        else:
            messages.success(
                request, "Search saved. We will tell you when new listings match it."
            )
            return redirect("listings:saved_searches")
    return _back_to_popover(request, form)


# A refused save goes back to the search it came from, whose popover shows the
# errors next to the form, open, with what the user typed. They wait in the
# session for that one page view: the search page is not rendered here because
# its links, sort form and hearts are built from its own URL.
REFUSED_SAVE_SEARCH_KEY = "listings:refused-save-search"
SAVE_SEARCH_AUTO_ID = "save-search-%s"


def _back_to_popover(request, form):
    search_url = reverse("listings:search")
    target = _back_to_search(search_url, form.cleaned_data.get("query"))
    hidden = {name for name, field in form.fields.items() if field.widget.is_hidden}
    request.session[REFUSED_SAVE_SEARCH_KEY] = {
        "target": target,
        # Enough to show what was typed; the session never holds a huge post.
        "name": request.POST.get("name", "")[:200],
        "frequency": request.POST.get("frequency", "")[:20],
        # A hidden field's error (the query) and the search's own (a price
        # that is not a number) go at the form's top.
        "errors": [
            [field if field in form.fields and field not in hidden else None, error]
            for field, errors in form.errors.items()
            for error in errors
        ],
    }
    return redirect(target)


def _back_to_search(search_url: str, query: str | None) -> str:
    """The search the user tried to save (re-encoded: the posted text may
    hold anything), or the plain search page when it was not usable."""
    encoded = QueryDict(query).urlencode() if query else ""
    return f"{search_url}?{encoded}" if encoded else search_url


def save_search_form(request, *, initial: dict) -> SaveSearchForm:
    """The "Save this search" form of a search page: as the user sent it, with
    its errors, when a save was just refused and sent back to this very page;
    else a fresh one with `initial`."""
    refused = None
    if request.user.is_authenticated:
        # Read once: a later visit of the page shows a fresh form.
        refused = request.session.pop(REFUSED_SAVE_SEARCH_KEY, None)
    if not refused or refused.get("target") != request.get_full_path():
        return SaveSearchForm(initial=initial, auto_id=SAVE_SEARCH_AUTO_ID)
    data = {
        "name": refused["name"],
        "frequency": refused["frequency"],
        "query": initial.get("query", ""),
    }
    form = SaveSearchForm(data, auto_id=SAVE_SEARCH_AUTO_ID)
    # The errors the save got, not those of a new validation: a service's
    # reason (a duplicate, too many) cannot be worked out again here.
    form.full_clean()
    form.errors.clear()
    for field, error in refused["errors"]:
        form.add_error(field, error)
    return form


def _own_saved_search(request, pk):
    try:
        return selectors.access_saved_search(request.user, pk)
    except NotFound as exc:
        raise Http404(exc.message) from exc


@login_required
@require_POST
def saved_search_update(request, pk):
    saved = _own_saved_search(request, pk)
    form = SavedSearchFrequencyForm(request.POST, prefix=f"s{saved.pk}")
    if not form.is_valid():
        messages.error(request, "Choose how often to be notified.")
        return redirect("listings:saved_searches")
    try:
        services.saved_search_update(
            saved_search=saved,
            user=request.user,
            frequency=form.cleaned_data["frequency"],
        )
    except DomainError as exc:
        flash_error(request, exc)
    else:
        messages.success(request, f"“{saved.name}”: notifications updated.")
    return redirect("listings:saved_searches")


@login_required
@require_POST
def saved_search_delete(request, pk):
    saved = _own_saved_search(request, pk)
    try:
        services.saved_search_delete(saved_search=saved, user=request.user)
    except DomainError as exc:
        flash_error(request, exc)
    else:
        messages.success(request, f"“{saved.name}” is deleted.")
    return redirect("listings:saved_searches")
