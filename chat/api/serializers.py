from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from chat import events
from chat.models import Conversation, Message, ReportReason
from core.api.urls import absolute_url

# --- output ---------------------------------------------------------------------


class UserBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(source="public_name")


class ListingBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    price = serializers.IntegerField(help_text="Minor units (tiyn, cents).")
    currency = serializers.CharField()
    status = serializers.CharField()
    thumbnail = serializers.SerializerMethodField()

    # Not OpenApiTypes.URI: that drops the Optional and a listing without
    # photos answers null.
    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_thumbnail(self, listing) -> str | None:
        images = getattr(listing, "ordered_images", None)
        if images is None:
            images = list(listing.images.order_by("position", "pk")[:1])
        if not images:
            return None
        url = images[0].thumbnail.url
        return absolute_url(self.context.get("request"), url)


class MessageSerializer(serializers.ModelSerializer):
    """The same shape as the websocket's `message` objects."""

    sender = UserBriefSerializer()
    image = serializers.SerializerMethodField()
    image_width = serializers.SerializerMethodField()
    image_height = serializers.SerializerMethodField()
    client_id = serializers.SerializerMethodField()
    warning = serializers.SerializerMethodField(
        help_text="phone or payment_link: show the receiver a safety warning."
    )

    class Meta:
        model = Message
        fields = [
            "id",
            "conversation",
            "sender",
            "text",
            "image",
            "image_width",
            "image_height",
            "client_id",
            "warning",
            "created_at",
            "read_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_image(self, message) -> str | None:
        return events.message_image_url(message)

    def get_image_width(self, message) -> int | None:
        return message.image_width or None

    def get_image_height(self, message) -> int | None:
        return message.image_height or None

    def get_client_id(self, message) -> str | None:
        return message.client_id or None

    def get_warning(self, message) -> str | None:
        return message.warning or None


class ConversationSerializer(serializers.ModelSerializer):
    listing = ListingBriefSerializer()
    buyer = UserBriefSerializer()
    seller = UserBriefSerializer()
    other_party = serializers.SerializerMethodField()
    last_message = MessageSerializer(allow_null=True)
    unread_count = serializers.SerializerMethodField()
    is_archived = serializers.SerializerMethodField()
    websocket = serializers.SerializerMethodField(
        help_text="Path of the conversation's websocket (add ?token=<access token>)."
    )

    class Meta:
        model = Conversation
        fields = [
            "id",
            "listing",
            "buyer",
            "seller",
            "other_party",
            "last_message",
            "last_message_at",
            "unread_count",
            "is_archived",
            "created_at",
            "websocket",
        ]
        read_only_fields = fields

    def _state(self, conversation):
        states = getattr(conversation, "my_states", None)
        if states is None:
            user = self.context["request"].user
            states = list(conversation.participants.filter(user=user))
            conversation.my_states = states
        return states[0] if states else None

    @extend_schema_field(UserBriefSerializer)
    def get_other_party(self, conversation):
        user = self.context["request"].user
        other = (
            conversation.seller
            if conversation.buyer_id == user.pk
            else conversation.buyer
        )
        return UserBriefSerializer(other).data

    def get_unread_count(self, conversation) -> int:
        state = self._state(conversation)
        return state.unread_count if state else 0

    def get_is_archived(self, conversation) -> bool:
        state = self._state(conversation)
        return bool(state and state.is_archived)

    def get_websocket(self, conversation) -> str:
        return f"/ws/chat/{conversation.pk}/"


class MessagePageSerializer(serializers.Serializer):
    results = MessageSerializer(many=True)
    has_more = serializers.BooleanField(
        help_text="More messages exist in the direction asked for."
    )


class MarkReadResultSerializer(serializers.Serializer):
    marked = serializers.IntegerField(help_text="Messages newly marked as read.")
    unread_total = serializers.IntegerField(help_text="Unread across conversations.")


class BlockSerializer(serializers.Serializer):
    user = UserBriefSerializer(source="blocked")
    created_at = serializers.DateTimeField()


# --- input ----------------------------------------------------------------------


class _TextInput(serializers.Serializer):
    text = serializers.CharField(
        required=False, allow_blank=True, trim_whitespace=False, default=""
    )
    client_id = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=64,
        default="",
        help_text="Client-generated id (e.g. a UUID): a retry with the same id "
        "returns the stored message instead of sending it twice.",
    )
    image = serializers.ImageField(required=False, allow_null=True, default=None)

    def validate_text(self, value):
        limit = settings.CHAT_MESSAGE_MAX_LENGTH
        if len(value.strip()) > limit:
            raise serializers.ValidationError(
                f"A message is at most {limit} characters."
            )
        return value


class ConversationStartInput(_TextInput):
    listing = serializers.IntegerField(min_value=1)


class MessageSendInput(_TextInput):
    pass


class MarkReadInput(serializers.Serializer):
    message_id = serializers.IntegerField(
        required=False,
        min_value=1,
        allow_null=True,
        default=None,
        help_text="Read up to this message (default: all).",
    )


class ArchiveInput(serializers.Serializer):
    archived = serializers.BooleanField(default=True)


class ReportInput(serializers.Serializer):
    reason = serializers.ChoiceField(choices=ReportReason.choices)
    details = serializers.CharField(
        required=False, allow_blank=True, max_length=2000, default=""
    )


class MessageListQuery(serializers.Serializer):
    before = serializers.IntegerField(required=False, min_value=1)
    after = serializers.IntegerField(required=False, min_value=0)
    limit = serializers.IntegerField(required=False, min_value=1, max_value=100)

    def validate(self, attrs):
        if "before" in attrs and "after" in attrs:
            raise serializers.ValidationError("Use either before or after, not both.")
        return attrs
