"""API scopes carried in the JWT `scope` claim and checked by `HasScope`."""

READ = "read"
WRITE = "write"
ADMIN = "admin"


def scopes_for_user(user) -> list[str]:
    scopes = [READ, WRITE]
    if user.is_staff:
        scopes.append(ADMIN)
    return scopes
