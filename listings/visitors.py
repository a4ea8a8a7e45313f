"""Who is looking: a stable, anonymous key per visitor for counting views."""

import hashlib

from django.conf import settings


def visitor_key_for_request(request) -> str:
    """'u:<id>' for a logged-in user; else a hash of the session key, or of the
    client address and browser when there is no session (never stored raw)."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"u:{user.pk}"
    session = getattr(request, "session", None)
    basis = session.session_key if session is not None else None
    if not basis:
        address = request.META.get("REMOTE_ADDR", "")
        agent = request.META.get("HTTP_USER_AGENT", "")[:200]
        basis = f"{address}|{agent}"
    digest = hashlib.sha256(f"{settings.SECRET_KEY}|{basis}".encode()).hexdigest()
    return f"a:{digest[:48]}"
