from rest_framework import serializers

from accounts.models import Notification, NotificationKind
from accounts.selectors_notifications import notification_frequency_choices


class NotificationSerializer(serializers.ModelSerializer):
    """A notification as its owner sees it."""

    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    is_read = serializers.BooleanField(read_only=True)

    class Meta:
        model = Notification
        fields = [
            "id",
            "kind",
            "kind_label",
            "title",
            "body",
            "url",
            "is_read",
            "read_at",
            "created_at",
        ]
        read_only_fields = fields


class NotificationReadAllSerializer(serializers.Serializer):
    marked_read = serializers.IntegerField(help_text="How many were unread.")


class NotificationUnreadCountSerializer(serializers.Serializer):
    unread = serializers.IntegerField(help_text="Unread notifications of the caller.")


def _frequency_fields(*, required: bool) -> dict:
    return {
        kind: serializers.ChoiceField(
            choices=notification_frequency_choices(kind),
            required=required,
            help_text=f"E-mails about: {label}.",
        )
        for kind, label in NotificationKind.choices
    }


class _PreferencesInputBase(serializers.Serializer):
    def validate(self, attrs):
        unknown = sorted(set(self.initial_data) - set(self.fields))
        if unknown:
            raise serializers.ValidationError(
                {k: ["Unknown notification kind."] for k in unknown}
            )
        if not attrs:
            raise serializers.ValidationError("Give at least one notification kind.")
        return attrs


# One field per NotificationKind, so a new kind appears here by itself.
NotificationPreferencesSerializer = type(
    "NotificationPreferencesSerializer",
    (serializers.Serializer,),
    {
        "__doc__": "The e-mail frequency of every notification kind.",
        "__module__": __name__,
        **_frequency_fields(required=True),
    },
)

NotificationPreferencesInput = type(
    "NotificationPreferencesInput",
    (_PreferencesInputBase,),
    {
        "__doc__": "Kinds to change (any subset); kinds left out keep theirs.",
        "__module__": __name__,
        **_frequency_fields(required=False),
    },
)
