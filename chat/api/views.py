"""Chat API: validate -> call a service or selector -> serialize."""

from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import generics, mixins, parsers, status
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from chat import selectors, services
from chat.api import serializers as s
from chat.models import Block, Conversation, Message
from core.api.views import ScopedGenericViewSet
from core.errors import NotFound

WEBSOCKET_DOC = """
Live delivery: connect a websocket to `/ws/chat/{id}/?token=<access token>`
(browsers use their session instead). Frames are JSON objects with a `type`:
the client sends `message.send` {text, client_id}, `typing`, `read`
{message_id}, `sync` {after} (catch up after a reconnect), `history` {before}
and `ping`; the server sends `hello`, `message.new` {message},
`message.ack` {client_id, duplicate, message}, `typing` {user_id, name},
`read` {user_id, last_read_id, read_at}, `sync`/`history` {messages, has_more},
`pong` and `error` {code, detail, client_id}. `/ws/user/` pushes
`unread` {total}. See docs/chat.md.
"""

RATE_LIMITED = OpenApiResponse(
    description="Too many messages: at most CHAT_RATE_LIMIT_MESSAGES a "
    "CHAT_RATE_LIMIT_SECONDS per user."
)

_PARSERS = [parsers.JSONParser, parsers.MultiPartParser, parsers.FormParser]


@extend_schema_view(
    list=extend_schema(
        summary="Inbox",
        description="The caller's conversations, newest message first." + WEBSOCKET_DOC,
        parameters=[
            OpenApiParameter(
                "archived", OpenApiTypes.BOOL, description="Show the archive."
            )
        ],
    ),
    retrieve=extend_schema(summary="One conversation"),
)
class ConversationViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedGenericViewSet
):
    serializer_class = s.ConversationSerializer
    parser_classes = _PARSERS
    queryset = Conversation.objects.none()  # for the schema; see get_scoped_queryset

    def get_scoped_queryset(self, user):
        if getattr(self, "swagger_fake_view", False):
            return Conversation.objects.none()
        archived = self.request.query_params.get("archived") in ("1", "true", "True")
        return selectors.conversation_inbox(user=user, archived=archived)

    def get_object(self):
        return selectors.access_conversation(self.request.user, self.kwargs["pk"])

    @extend_schema(
        summary="Message a seller",
        description="Creates the caller's conversation about the listing (or "
        "reuses it) and sends the first message. JSON, or multipart with an "
        "`image`.",
        request=s.ConversationStartInput,
        responses={
            201: s.ConversationSerializer,
            404: OpenApiResponse(
                description="No such listing, or a draft one cannot see; "
                "`errors` names `listing`."
            ),
            409: OpenApiResponse(description="The listing is sold or archived."),
            429: RATE_LIMITED,
        },
    )
    def create(self, request):
        data = s.ConversationStartInput(data=request.data)
        data.is_valid(raise_exception=True)
        conversation, _message = services.conversation_start(
            user=request.user,
            listing_id=data.validated_data["listing"],
            text=data.validated_data["text"],
            client_id=data.validated_data["client_id"],
            image=data.validated_data["image"],
        )
        conversation = selectors.access_conversation(request.user, conversation.pk)
        return Response(
            s.ConversationSerializer(conversation, context={"request": request}).data,
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(
        methods=["GET"],
        summary="Messages of a conversation",
        description="Oldest first. Without parameters: the newest page. "
        "`before=<id>`: the page before that message (scrolling back). "
        "`after=<id>`: messages after that id, oldest first (catch up after a "
        "reconnect; repeat while `has_more`).",
        parameters=[s.MessageListQuery],
        responses={200: s.MessagePageSerializer},
    )
    @extend_schema(
        methods=["POST"],
        summary="Send a message",
        description="201 with the new message, or 200 with the stored one when "
        "`client_id` was already used (a retry). Delivered to open sockets."
        + WEBSOCKET_DOC,
        request=s.MessageSendInput,
        responses={
            201: s.MessageSerializer,
            200: s.MessageSerializer,
            429: RATE_LIMITED,
        },
    )
    @action(detail=True, methods=["get", "post"], url_path="messages")
    def messages(self, request, pk=None):
        conversation = self.get_object()
        if request.method == "POST":
            data = s.MessageSendInput(data=request.data)
            data.is_valid(raise_exception=True)
            message, created = services.message_send(
                user=request.user,
                conversation=conversation,
                text=data.validated_data["text"],
                client_id=data.validated_data["client_id"],
                image=data.validated_data["image"],
            )
            return Response(
                s.MessageSerializer(message).data,
                status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
            )
        query = s.MessageListQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        rows, has_more = selectors.message_list(
            conversation=conversation,
            before=query.validated_data.get("before"),
            after=query.validated_data.get("after"),
            limit=query.validated_data.get("limit", 30),
        )
        return Response(
            {"results": s.MessageSerializer(rows, many=True).data, "has_more": has_more}
        )

    @extend_schema(
        summary="Mark as read",
        request=s.MarkReadInput,
        responses={200: s.MarkReadResultSerializer},
    )
    @action(detail=True, methods=["post"])
    def read(self, request, pk=None):
        conversation = self.get_object()
        data = s.MarkReadInput(data=request.data)
        data.is_valid(raise_exception=True)
        marked = services.conversation_mark_read(
            user=request.user,
            conversation=conversation,
            up_to=data.validated_data["message_id"],
        )
        return Response(
            {
                "marked": marked,
                "unread_total": selectors.unread_total(user=request.user),
            }
        )

    @extend_schema(
        summary="Archive or unarchive",
        request=s.ArchiveInput,
        responses={200: s.ConversationSerializer},
    )
    @action(detail=True, methods=["post"])
    def archive(self, request, pk=None):
        conversation = self.get_object()
        data = s.ArchiveInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.conversation_archive(
            user=request.user,
            conversation=conversation,
            archived=data.validated_data["archived"],
        )
        return Response(
            s.ConversationSerializer(conversation, context={"request": request}).data
        )

    @extend_schema(
        summary="Report to moderators",
        request=s.ReportInput,
        responses={201: OpenApiResponse(description="Reported.")},
    )
    @action(detail=True, methods=["post"])
    def report(self, request, pk=None):
        conversation = self.get_object()
        data = s.ReportInput(data=request.data)
        data.is_valid(raise_exception=True)
        report = services.conversation_report(
            user=request.user, conversation=conversation, **data.validated_data
        )
        return Response(
            {"id": report.pk, "status": report.status}, status=status.HTTP_201_CREATED
        )


class UserBlockView(APIView):
    """Block (POST) or unblock (DELETE) a user: blocked users cannot message you."""

    @extend_schema(
        summary="Block a user",
        request=None,
        responses={201: s.BlockSerializer},
    )
    def post(self, request, pk):
        block = services.user_block(user=request.user, blocked_user_id=pk)
        return Response(s.BlockSerializer(block).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Unblock a user",
        request=None,
        responses={204: None, 404: OpenApiResponse(description="Not blocked.")},
    )
    def delete(self, request, pk):
        if not services.user_unblock(user=request.user, blocked_user_id=pk):
            raise NotFound("You have not blocked this user.")
        return Response(status=status.HTTP_204_NO_CONTENT)


class BlockListView(generics.ListAPIView):
    """The users the caller blocked, paginated like every list."""

    serializer_class = s.BlockSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Block.objects.none()
        return selectors.block_list(user=self.request.user)

    # A ListAPIView, not a hand-paginated APIView: the schema then says the
    # answer is a page, as it is, not a bare array.
    @extend_schema(summary="Blocked users")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class MessageImageView(APIView):
    """A message's photo, only for the conversation's participants."""

    @extend_schema(
        summary="Message photo",
        responses={(200, "image/*"): OpenApiTypes.BINARY},
    )
    def get(self, request, pk, message_pk):
        conversation = selectors.access_conversation(request.user, pk)
        message = (
            Message.objects.filter(conversation=conversation, pk=message_pk)
            .exclude(image="")
            .first()
        )
        if message is None:
            raise NotFound("Photo not found.")
        response = FileResponse(message.image.open("rb"))
        response["Cache-Control"] = "private, max-age=86400"
        response["X-Content-Type-Options"] = "nosniff"
        return response
