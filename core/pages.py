"""Page helpers. The page side of domain errors: one helper turns them into
form errors or flash messages, as `core.api.exceptions` does for the API; and
where a form may send the user back to."""

from django.contrib import messages
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.http import url_has_allowed_host_and_scheme

from core.errors import DomainError


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
