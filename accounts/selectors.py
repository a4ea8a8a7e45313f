from django.db.models import Q, QuerySet

from accounts.models import User
from accounts.roles import MODERATORS_GROUP, Role

# Notification reads live in their own module; re-exported for callers here.
from accounts.selectors_notifications import (  # noqa: F401
    access_notification,
    notification_list,
    notification_preferences_get,
    notification_unread_count,
)
from core.errors import NotFound


def user_public_get(*, pk) -> User:
    """An active user, for public profiles; NotFound for banned or unknown."""
    try:
        return User.objects.get(pk=pk, is_active=True)
    except (User.DoesNotExist, ValueError, TypeError):
        raise NotFound("No such user.") from None


def user_list_for_staff(*, viewer) -> QuerySet[User]:
    """Every user, for moderators and admins; empty for anyone else."""
    if not (viewer.is_authenticated and viewer.is_active and viewer.is_staff):
        return User.objects.none()
    return User.objects.prefetch_related("groups")


def user_filter_by_role(queryset: QuerySet[User], role: str) -> QuerySet[User]:
    in_group = Q(is_staff=True, groups__name=MODERATORS_GROUP)
    if role == Role.ADMIN:
        return queryset.filter(is_superuser=True)
    if role == Role.MODERATOR:
        return queryset.filter(in_group, is_superuser=False).distinct()
    if role == Role.USER:
        moderators = User.objects.filter(in_group).values("pk")
        return queryset.filter(is_superuser=False).exclude(pk__in=moderators)
    return queryset.none()


def user_search(queryset: QuerySet[User], text: str) -> QuerySet[User]:
    """Users whose e-mail, name, phone or city contains `text`."""
    text = text.strip()
    if not text:
        return queryset
    return queryset.filter(
        Q(email__icontains=text)
        | Q(display_name__icontains=text)
        | Q(phone__icontains=text)
        | Q(city__icontains=text)
    )


def access_user(user, pk, for_update: bool = False) -> User:
    """A user as seen by a moderator or admin; NotFound for anyone else."""
    queryset = user_list_for_staff(viewer=user)
    if for_update:
        queryset = queryset.select_for_update()
    try:
        return queryset.get(pk=pk)
    except (User.DoesNotExist, ValueError, TypeError):
        raise NotFound("No such user.") from None
