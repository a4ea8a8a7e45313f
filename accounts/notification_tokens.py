"""Signed unsubscribe tokens: one link per user and set of kinds, no login."""

from django.core import signing

from accounts.models import MANDATORY_EMAIL_KINDS, NotificationKind
from core.errors import ValidationError

UNSUBSCRIBE_SALT = "accounts.notifications.unsubscribe"


def unsubscribe_token_make(*, user, kinds) -> str:
    """A signed, URL-safe token that switches off e-mails of `kinds` for `user`."""
    payload = {"u": user.pk, "k": sorted({str(k) for k in kinds})}
    return signing.dumps(payload, salt=UNSUBSCRIBE_SALT, compress=True)


def unsubscribe_token_read(token: str) -> tuple[int, list[str]]:
    """(user pk, kinds) from a token; ValidationError when forged or malformed."""
    invalid = ValidationError(
        "This unsubscribe link is not valid. Open your notification settings "
        "to change which e-mails you get.",
        code="invalid_token",
    )
    try:
        payload = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except (signing.BadSignature, ValueError, TypeError):
        raise invalid from None
    if not isinstance(payload, dict):
        raise invalid
    user_pk, kinds = payload.get("u"), payload.get("k")
    if (
        not isinstance(user_pk, int)
        or not isinstance(kinds, list)
        or not kinds
        or any(k not in NotificationKind.values for k in kinds)
        or any(k in MANDATORY_EMAIL_KINDS for k in kinds)
    ):
        raise invalid
    return user_pk, kinds
