"""API permissions based on the scopes in the JWT `scope` claim."""

from rest_framework import permissions

from accounts.scopes import READ, WRITE, scopes_for_user


def request_scopes(request) -> set[str]:
    """The scopes the request carries.

    A JWT access token carries its `scope` claim (space separated), limited to
    what the user may still have now; a browser session carries every scope
    its user has.
    """
    user = request.user
    if not user or not user.is_authenticated:
        return set()
    allowed = set(scopes_for_user(user))
    claims = request.auth
    if isinstance(claims, dict):
        claimed = claims.get("scope", "")
        if not isinstance(claimed, str):
            return set()
        return set(claimed.split()) & allowed
    return allowed


class HasScope(permissions.BasePermission):
    """Grant access when the request carries every scope the view requires.

    The view says which with `required_scopes` (a list); without it, safe
    methods need `read` and the others `write`.
    """

    message = "Your access token does not carry the scope this endpoint needs."

    def has_permission(self, request, view):
        required = getattr(view, "required_scopes", None)
        if required is None:
            required = [READ] if request.method in permissions.SAFE_METHODS else [WRITE]
        missing = set(required) - request_scopes(request)
        if missing:
            self.message = (
                "Your access token lacks the scope(s) this endpoint needs: "
                + ", ".join(sorted(missing))
                + "."
            )
            return False
        return True


class IsStaff(permissions.BasePermission):
    """Moderators and admins only."""

    message = "Only moderators and admins can use this endpoint."

    def has_permission(self, request, view):
        user = request.user
        return bool(user and user.is_authenticated and user.is_active and user.is_staff)
