"""The page side of domain errors: one helper turns them into form errors or
flash messages, as `core.api.exceptions` does for the API."""

from django.contrib import messages
from django.core.exceptions import ValidationError as DjangoValidationError

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
