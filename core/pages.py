"""Page helpers. The page side of domain errors: one helper turns them into
form errors or flash messages, as `core.api.exceptions` does for the API;
where a form may send the user back to; and pages of a user's own lists."""

from django.contrib import messages
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.paginator import Page
from django.utils.http import url_has_allowed_host_and_scheme

from core.errors import DomainError
from core.paginator import ProbePaginator

# A user's own list (their listings, their favourites) is short next to the
# search, and its OFFSET runs over that user's rows only: more pages than the
# search's 50 may be reached, but still a bounded number (no huge OFFSET).
OWN_LIST_MAX_PAGES = 500


def add_error_to_form(form, exc: Exception) -> None:
    """Attach a service's error to the form: on its field when it names one."""
    if isinstance(exc, DomainError):
        field = exc.field if exc.field in form.fields else None
        form.add_error(field, exc.message)
    elif isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            form.add_error(None, exc.messages)
    else:
        raise exc


def flash_error(request, exc: DomainError) -> None:
    messages.error(request, exc.message)


def safe_next_url(request, default: str) -> str:
    """The form's `next` when it points into this site, else `default` (no open
    redirects)."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def own_list_page(request, rows, *, per_page: int) -> Page:
    """The `?page=` page of a user's own list, read as the search pages read
    theirs (`ProbePaginator`: no COUNT, one row past the page): a page number
    that is not a whole number from 1 gives the first page, one past the end
    an empty page."""
    paginator = ProbePaginator(rows, per_page, max_pages=OWN_LIST_MAX_PAGES)
    return paginator.get_page(request.GET.get("page"))
