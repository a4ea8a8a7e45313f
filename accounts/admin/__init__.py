"""The accounts app's admin: users (roles, bans, the verified badge) and
notifications. Importing the modules registers them."""

from accounts.admin import notifications, users

__all__ = ["notifications", "users"]
