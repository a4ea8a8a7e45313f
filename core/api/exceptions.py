"""One exception handler for the API: domain errors become 4xx JSON answers."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import OperationalError
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core import errors


def exception_handler(exc, context):
    if isinstance(exc, errors.DomainError):
        body = {"detail": exc.message, "code": exc.code}
        if exc.field:
            body["errors"] = {exc.field: [exc.message]}
        # Busy (503): nothing was changed; tell the client when to retry.
        headers = {"Retry-After": "1"} if exc.status_code == 503 else None
        return Response(body, status=exc.status_code, headers=headers)
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            detail = {
                k: [str(m) for m in v.messages] for k, v in exc.message_dict.items()
            }
            return Response(
                {"detail": "Invalid input.", "code": "invalid", "errors": detail},
                status=status.HTTP_400_BAD_REQUEST,
            )
        return Response(
            {"detail": " ".join(exc.messages), "code": "invalid"},
            status=status.HTTP_400_BAD_REQUEST,
        )
    if isinstance(exc, OperationalError) and "locked" in str(exc):
        # SQLite under write contention: tell the client to retry.
        return Response(
            {"detail": "The database is busy; retry the request.", "code": "busy"},
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": "1"},
        )
    return drf_exception_handler(exc, context)
