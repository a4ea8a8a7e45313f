"""Domain errors raised by services, turned into HTTP answers in one place.

The DRF exception handler (`core.api.exceptions`) and the page helper
(`core.pages`) map each class to its status code; services never import either.
"""


class DomainError(Exception):
    """Base of every error a service raises on purpose."""

    status_code = 400
    code = "invalid"

    def __init__(self, message: str = "", *, field: str | None = None, code=None):
        super().__init__(message)
        self.message = message or self.__class__.__doc__ or "Invalid request."
        self.field = field
        if code:
            self.code = code


class ValidationError(DomainError):
    """The input is not valid."""

    status_code = 400
    code = "invalid"


class PermissionDenied(DomainError):
    """You are not allowed to do this."""

    status_code = 403
    code = "permission_denied"


class NotFound(DomainError):
    """Not found."""

    status_code = 404
    code = "not_found"


class Conflict(DomainError):
    """The object is not in a state that allows this."""

    status_code = 409
    code = "conflict"


class RateLimited(DomainError):
    """Too many requests; try again later."""

    status_code = 429
    code = "rate_limited"

    def __init__(self, message: str = "", *, retry_after: int | None = None, **kw):
        super().__init__(message, **kw)
        # Seconds until a retry can pass, when known (the API's Retry-After).
        self.retry_after = retry_after


class Busy(DomainError):
    """The system is busy; try again."""

    status_code = 503
    code = "busy"
