"""API scopes carried in the JWT `scope` claim and checked by `HasScope`.

`read` lets a token call safe (GET) endpoints, `write` the others; `admin`
opens the moderation endpoints under `/api/v1/admin/`, which also re-check
that the user is still staff. A browser session has every scope its user has.
"""

READ = "read"
WRITE = "write"
ADMIN = "admin"


def scopes_for_user(user) -> list[str]:
    from accounts.roles import Role, role_of

    scopes = [READ, WRITE]
    if user.is_staff and role_of(user) in (Role.MODERATOR, Role.ADMIN):
        scopes.append(ADMIN)
    return scopes
