"""One exception handler for the API: every error answer has one JSON shape.

    {"detail": "Ensure this value is greater than or equal to 0.",
     "code": "invalid",
     "errors": {"price": ["Ensure this value is greater than or equal to 0."]}}

`detail` is a sentence for people (the first message when there are several),
`code` a stable word for programs (`invalid`, `not_authenticated`,
`permission_denied`, `not_found`, `conflict`, ...), and `errors` the messages
by field, nested fields as dotted paths (`image_ids.0`), messages about no
field under `non_field_errors`; `errors` is `{}` when the error is not about
input fields. Domain errors (`core.errors`), Django's `ValidationError` and
DRF's own exceptions (validation, authentication, permission, 404, 405, parse
errors, unsupported media type, throttling) all come out in this shape.
"""

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import OperationalError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler

from core import errors

INVALID_INPUT = "Invalid input."


def error_body(detail: str, code: str, field_errors: dict | None = None) -> dict:
    """The JSON body of every error answer of the API."""
    return {"detail": detail, "code": code, "errors": field_errors or {}}


def flatten_errors(detail, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error detail as {dotted.path: [messages]}."""
    flat: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = api_settings.NON_FIELD_ERRORS_KEY if key == NON_FIELD_ERRORS else key
            path = f"{prefix}.{name}" if prefix else str(name)
            for sub, messages in flatten_errors(value, path).items():
                flat.setdefault(sub, []).extend(messages)
    elif isinstance(detail, list | tuple):
        if all(not isinstance(item, dict | list | tuple) for item in detail):
            key = prefix or api_settings.NON_FIELD_ERRORS_KEY
            flat.setdefault(key, []).extend(str(item) for item in detail)
        else:
            for index, item in enumerate(detail):
                path = f"{prefix}.{index}" if prefix else str(index)
                for sub, messages in flatten_errors(item, path).items():
                    flat.setdefault(sub, []).extend(messages)
    else:
        flat.setdefault(prefix or api_settings.NON_FIELD_ERRORS_KEY, []).append(
            str(detail)
        )
    return flat


def _first_message(field_errors: dict[str, list[str]]) -> str:
    for messages in field_errors.values():
        if messages:
            return messages[0]
    return INVALID_INPUT


def _code_of(exc: exceptions.APIException) -> str:
    codes = exc.get_codes()
    if isinstance(codes, str):
        return codes
    return exc.default_code


def _retry_after(exc: errors.DomainError) -> dict | None:
    """The Retry-After header of a domain error that a later retry can pass."""
    if isinstance(exc, errors.Busy):
        return {"Retry-After": "1"}
    if isinstance(exc, errors.RateLimited) and exc.retry_after is not None:
        return {"Retry-After": str(exc.retry_after)}
    return None


def exception_handler(exc, context):
    if isinstance(exc, errors.DomainError):
        field_errors = {exc.field: [exc.message]} if exc.field else {}
        headers = _retry_after(exc)
        return Response(
            error_body(exc.message, exc.code, field_errors),
            status=exc.status_code,
            headers=headers,
        )
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            field_errors = flatten_errors(
                {k: [str(m) for m in v] for k, v in exc.message_dict.items()}
            )
        else:
            field_errors = {api_settings.NON_FIELD_ERRORS_KEY: list(exc.messages)}
        return Response(
            error_body(_first_message(field_errors), "invalid", field_errors),
            status=status.HTTP_400_BAD_REQUEST,
        )
    if isinstance(exc, OperationalError) and "locked" in str(exc):
        # SQLite under write contention: tell the client to retry.
        return Response(
            error_body("The database is busy; retry the request.", "busy"),
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": "1"},
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(*exc.args)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(*exc.args)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # a real bug: Django answers 500 and logs it
    if isinstance(exc, exceptions.ValidationError):
        field_errors = flatten_errors(exc.detail)
        response.data = error_body(
            _first_message(field_errors), "invalid", field_errors
        )
    elif isinstance(exc.detail, dict | list):
        field_errors = flatten_errors(exc.detail)
        response.data = error_body(
            _first_message(field_errors), _code_of(exc), field_errors
        )
    else:
        response.data = error_body(str(exc.detail), _code_of(exc))
    return response
