# Notifications live in their own module; these names are the public entry
# points every app uses (`accounts.services.notification_send`).
from accounts.services_notifications import (  # noqa: F401
    notification_digest_send,
    notification_email_send,
    notification_mark_all_read,
    notification_mark_read,
    notification_preferences_update,
    notification_send,
    notification_unsubscribe,
)


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
