from allauth.headless.tokens.strategies.jwt import JWTTokenStrategy


class ScopedJWTTokenStrategy(JWTTokenStrategy):
    """allauth's JWT strategy with the caller's API scopes as a claim."""

    def get_claims(self, user):
        from accounts.scopes import scopes_for_user

        return {"scope": " ".join(scopes_for_user(user))}
