import pytest
from rest_framework.test import APIClient

from chat import services
from chat.models import Block, Conversation, Message, Participant, Report
from chat.tests.factories import ConversationFactory, MessageFactory
from listings.models import ListingStatus
from listings.tests.factories import ListingFactory


def _client(user=None):
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def _url(conversation, suffix=""):
    return f"/api/v1/conversations/{conversation.pk}/{suffix}"


# --- inbox -----------------------------------------------------------------------


def test_inbox_lists_own_conversations(buyer, seller, conversation):
    body = _client(seller).get("/api/v1/conversations/").json()

    assert body["count"] == 1
    row = body["results"][0]
    assert row["id"] == conversation.pk
    assert row["listing"]["title"] == "Red bicycle"
    assert row["listing"]["thumbnail"] is None
    assert row["other_party"] == {"id": buyer.pk, "name": "Bea Buyer"}
    assert row["last_message"]["text"] == "Hi, is it available?"
    assert row["unread_count"] == 1
    assert row["is_archived"] is False
    assert row["websocket"] == f"/ws/chat/{conversation.pk}/"


def test_inbox_hides_other_peoples_conversations(outsider, conversation):
    body = _client(outsider).get("/api/v1/conversations/").json()

    assert body["count"] == 0


def test_inbox_needs_authentication(conversation):
    response = _client().get("/api/v1/conversations/")

    assert response.status_code in (401, 403)


def test_inbox_query_count_does_not_grow(
    seller, django_assert_max_num_queries, conversation
):
    for _ in range(5):
        ConversationFactory(listing=ListingFactory(owner=seller), seller=seller)
    for convo in Conversation.objects.all():
        message = MessageFactory(conversation=convo)
        Conversation.objects.filter(pk=convo.pk).update(
            last_message=message, last_message_at=message.created_at
        )

    with django_assert_max_num_queries(6):
        body = _client(seller).get("/api/v1/conversations/").json()

    assert body["count"] == 6


def test_archived_filter(seller, conversation):
    services.conversation_archive(user=seller, conversation=conversation)

    inbox = _client(seller).get("/api/v1/conversations/").json()
    archive = _client(seller).get("/api/v1/conversations/?archived=true").json()

    assert inbox["count"] == 0
    assert [c["id"] for c in archive["results"]] == [conversation.pk]


# --- start -----------------------------------------------------------------------


def test_start_creates_conversation_and_message(buyer, listing):
    response = _client(buyer).post(
        "/api/v1/conversations/",
        {"listing": listing.pk, "text": "Is the price firm?", "client_id": "s1"},
    )

    assert response.status_code == 201
    convo = Conversation.objects.get()
    assert response.json()["id"] == convo.pk
    assert response.json()["last_message"]["text"] == "Is the price firm?"
    assert response.json()["last_message"]["client_id"] == "s1"


def test_start_reuses_existing_conversation(buyer, listing, conversation):
    response = _client(buyer).post(
        "/api/v1/conversations/", {"listing": listing.pk, "text": "Again"}
    )

    assert response.status_code == 201
    assert response.json()["id"] == conversation.pk
    assert Conversation.objects.count() == 1


def test_start_on_own_listing_is_400(seller, listing):
    response = _client(seller).post(
        "/api/v1/conversations/", {"listing": listing.pk, "text": "Me"}
    )

    assert response.status_code == 400
    assert response.json()["errors"]["listing"]
    assert Conversation.objects.count() == 0


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"listing": "abc", "text": "x"},
        {"listing": 1},
        {"text": "no listing"},
        {"listing": 1, "text": "x", "client_id": "c" * 65},
    ],
)
def test_start_bad_input_is_400(buyer, listing, payload):
    if payload.get("listing") == 1:
        payload["listing"] = listing.pk

    response = _client(buyer).post("/api/v1/conversations/", payload, format="json")

    assert response.status_code == 400
    assert Conversation.objects.count() == 0


def test_start_on_missing_or_draft_listing_is_404(buyer, seller):
    draft = ListingFactory(owner=seller, status=ListingStatus.DRAFT)

    missing = _client(buyer).post(
        "/api/v1/conversations/", {"listing": 999999, "text": "x"}
    )
    hidden = _client(buyer).post(
        "/api/v1/conversations/", {"listing": draft.pk, "text": "x"}
    )

    assert missing.status_code == 404
    assert hidden.status_code == 404
    assert Conversation.objects.count() == 0


def test_start_on_sold_listing_is_409(buyer, seller):
    sold = ListingFactory(owner=seller, status=ListingStatus.SOLD)

    response = _client(buyer).post(
        "/api/v1/conversations/", {"listing": sold.pk, "text": "x"}
    )

    assert response.status_code == 409


def test_start_anonymous_is_refused(listing):
    response = _client().post("/api/v1/conversations/", {"listing": listing.pk})

    assert response.status_code in (401, 403)
    assert Conversation.objects.count() == 0


# --- detail ----------------------------------------------------------------------


def test_detail_for_participants(buyer, seller, conversation):
    as_buyer = _client(buyer).get(_url(conversation))
    as_seller = _client(seller).get(_url(conversation))

    assert as_buyer.status_code == 200
    assert as_buyer.json()["other_party"]["id"] == seller.pk
    assert as_buyer.json()["unread_count"] == 0
    assert as_seller.json()["unread_count"] == 1


def test_detail_of_other_peoples_conversation_is_404(outsider, conversation):
    assert _client(outsider).get(_url(conversation)).status_code == 404
    assert _client().get(_url(conversation)).status_code in (401, 403)


# --- messages --------------------------------------------------------------------


def _fill(conversation, n):
    return [
        MessageFactory(conversation=conversation, text=f"m{i}").pk for i in range(n)
    ]


def test_messages_newest_page_oldest_first(buyer, conversation):
    ids = [conversation.last_message_id, *_fill(conversation, 4)]

    body = _client(buyer).get(_url(conversation, "messages/?limit=3")).json()

    assert [m["id"] for m in body["results"]] == ids[-3:]
    assert body["has_more"] is True


def test_messages_before_and_after(buyer, conversation):
    ids = [conversation.last_message_id, *_fill(conversation, 4)]
    client = _client(buyer)

    before = client.get(_url(conversation, f"messages/?before={ids[3]}")).json()
    after = client.get(_url(conversation, f"messages/?after={ids[1]}&limit=2")).json()

    assert [m["id"] for m in before["results"]] == ids[:3]
    assert before["has_more"] is False
    assert [m["id"] for m in after["results"]] == ids[2:4]
    assert after["has_more"] is True


@pytest.mark.parametrize(
    "query", ["before=abc", "after=-1", "limit=0", "limit=101", "before=5&after=1"]
)
def test_messages_bad_query_is_400(buyer, conversation, query):
    response = _client(buyer).get(_url(conversation, f"messages/?{query}"))

    assert response.status_code == 400


def test_messages_of_other_peoples_conversation_is_404(outsider, conversation):
    client = _client(outsider)

    assert client.get(_url(conversation, "messages/")).status_code == 404
    response = client.post(_url(conversation, "messages/"), {"text": "hi"})
    assert response.status_code == 404
    assert Message.objects.count() == 1


def test_send_message(seller, conversation):
    response = _client(seller).post(
        _url(conversation, "messages/"), {"text": "Yes, it is", "client_id": "a1"}
    )

    assert response.status_code == 201
    body = response.json()
    assert body["text"] == "Yes, it is"
    assert body["sender"]["id"] == seller.pk
    assert body["client_id"] == "a1"
    assert body["read_at"] is None
    assert Message.objects.filter(conversation=conversation).count() == 2


def test_send_same_client_id_twice_returns_stored_message(seller, conversation):
    client = _client(seller)
    payload = {"text": "Only once", "client_id": "twice"}

    first = client.post(_url(conversation, "messages/"), payload)
    second = client.post(_url(conversation, "messages/"), payload)

    assert first.status_code == 201
    assert second.status_code == 200
    assert second.json()["id"] == first.json()["id"]
    assert Message.objects.filter(client_id="twice").count() == 1


@pytest.mark.parametrize(
    "payload",
    [{}, {"text": ""}, {"text": "   "}, {"text": "x" * 2001}, {"client_id": "x" * 65}],
)
def test_send_bad_input_is_400(seller, conversation, payload):
    response = _client(seller).post(
        _url(conversation, "messages/"), payload, format="json"
    )

    assert response.status_code == 400
    assert Message.objects.count() == 1


def test_send_with_image_multipart(seller, conversation, png_upload):
    response = _client(seller).post(
        _url(conversation, "messages/"),
        {"text": "Photo", "image": png_upload()},
        format="multipart",
    )

    assert response.status_code == 201
    image_url = response.json()["image"]
    message = Message.objects.get(pk=response.json()["id"])
    assert image_url == (
        f"/api/v1/conversations/{conversation.pk}/messages/{message.pk}/image/"
    )
    assert response.json()["image_width"] == 40


def test_send_bad_image_is_400(seller, conversation):
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = _client(seller).post(
        _url(conversation, "messages/"),
        {"text": "x", "image": SimpleUploadedFile("a.png", b"nope")},
        format="multipart",
    )

    assert response.status_code == 400
    assert Message.objects.count() == 1


def test_image_only_for_participants(buyer, seller, outsider, conversation, png_upload):
    message, _ = services.message_send(
        user=seller, conversation=conversation, image=png_upload()
    )
    url = _url(conversation, f"messages/{message.pk}/image/")

    ok = _client(buyer).get(url)
    denied = _client(outsider).get(url)
    missing = _client(buyer).get(_url(conversation, "messages/999999/image/"))

    assert ok.status_code == 200
    assert ok["Content-Type"] == "image/jpeg"
    assert denied.status_code == 404
    assert missing.status_code == 404


def test_send_to_blocker_is_403(buyer, seller, conversation):
    Block.objects.create(blocker=seller, blocked=buyer)

    response = _client(buyer).post(_url(conversation, "messages/"), {"text": "hi"})

    assert response.status_code == 403
    assert Message.objects.count() == 1


def test_send_rate_limited_is_429(buyer, conversation, settings):
    settings.CHAT_RATE_LIMIT_MESSAGES = 1

    response = _client(buyer).post(_url(conversation, "messages/"), {"text": "hi"})

    assert response.status_code == 429
    assert Message.objects.count() == 1


# --- read, archive, report --------------------------------------------------------


def test_mark_read(seller, conversation):
    response = _client(seller).post(_url(conversation, "read/"), {})

    assert response.status_code == 200
    assert response.json() == {"marked": 1, "unread_total": 0}
    assert Message.objects.get().read_at is not None


def test_mark_read_bad_input_and_outsider(seller, outsider, conversation):
    bad = _client(seller).post(
        _url(conversation, "read/"), {"message_id": "x"}, format="json"
    )
    other = _client(outsider).post(_url(conversation, "read/"), {})

    assert bad.status_code == 400
    assert other.status_code == 404
    assert Message.objects.get().read_at is None


def test_archive_and_unarchive(seller, outsider, conversation):
    client = _client(seller)

    archived = client.post(_url(conversation, "archive/"), {"archived": True})
    restored = client.post(_url(conversation, "archive/"), {"archived": False})
    other = _client(outsider).post(_url(conversation, "archive/"), {})

    assert archived.json()["is_archived"] is True
    assert restored.json()["is_archived"] is False
    assert other.status_code == 404


def test_report(buyer, outsider, conversation):
    bad = _client(buyer).post(_url(conversation, "report/"), {"reason": "bad"})
    other = _client(outsider).post(_url(conversation, "report/"), {"reason": "spam"})
    ok = _client(buyer).post(
        _url(conversation, "report/"), {"reason": "scam", "details": "prepay"}
    )
    again = _client(buyer).post(_url(conversation, "report/"), {"reason": "scam"})

    assert bad.status_code == 400
    assert other.status_code == 404
    assert ok.status_code == 201
    assert again.status_code == 409
    assert Report.objects.count() == 1


# --- block -----------------------------------------------------------------------


def test_block_and_unblock(buyer, seller):
    client = _client(seller)

    blocked = client.post(f"/api/v1/users/{buyer.pk}/block/")
    listing = client.get("/api/v1/blocks/").json()
    unblocked = client.delete(f"/api/v1/users/{buyer.pk}/block/")
    again = client.delete(f"/api/v1/users/{buyer.pk}/block/")

    assert blocked.status_code == 201
    assert blocked.json()["user"] == {"id": buyer.pk, "name": "Bea Buyer"}
    assert [b["user"]["id"] for b in listing["results"]] == [buyer.pk]
    assert unblocked.status_code == 204
    assert again.status_code == 404
    assert Block.objects.count() == 0


def test_block_bad_targets(seller):
    client = _client(seller)

    assert client.post(f"/api/v1/users/{seller.pk}/block/").status_code == 400
    assert client.post("/api/v1/users/999999/block/").status_code == 404
    assert _client().post(f"/api/v1/users/{seller.pk}/block/").status_code in (
        401,
        403,
    )
    assert Block.objects.count() == 0


def test_message_serializer_matches_websocket_payload(buyer, conversation):
    from chat.api.serializers import MessageSerializer
    from chat.events import message_payload

    message = Message.objects.select_related("sender").get()

    assert dict(MessageSerializer(message).data) | {
        "created_at": message.created_at.isoformat()
    } == message_payload(message)


def test_state_rows_untouched_by_outsider_calls(outsider, conversation):
    before = list(Participant.objects.values())

    _client(outsider).post(_url(conversation, "read/"), {})
    _client(outsider).post(_url(conversation, "archive/"), {})

    assert list(Participant.objects.values()) == before


# --- schema ----------------------------------------------------------------------
# Found by tests/test_api_fuzz.py: answers the schema did not describe, so a
# client generated from it rejected real answers.


def _schema():
    from drf_spectacular.generators import SchemaGenerator

    return SchemaGenerator().get_schema(request=None, public=True)


def test_schema_says_thumbnail_and_image_can_be_null(buyer, conversation):
    detail = _client(buyer).get(_url(conversation)).json()
    messages = _client(buyer).get(_url(conversation, "messages/")).json()

    assert detail["listing"]["thumbnail"] is None
    assert messages["results"][0]["image"] is None
    components = _schema()["components"]["schemas"]
    assert components["ListingBrief"]["properties"]["thumbnail"]["nullable"] is True
    assert components["Message"]["properties"]["image"]["nullable"] is True


def test_schema_says_the_block_list_is_a_page(buyer, seller):
    services.user_block(user=seller, blocked_user_id=buyer.pk)

    body = _client(seller).get("/api/v1/blocks/").json()

    assert body["count"] == 1
    assert [row["user"]["id"] for row in body["results"]] == [buyer.pk]
    answer = _schema()["paths"]["/api/v1/blocks/"]["get"]["responses"]["200"]
    assert answer["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/PaginatedBlockList"
    }


def test_schema_documents_every_error_of_sending(buyer, listing, settings):
    # 404 (no such listing) and 409 (sold) have no path parameter to infer
    # them from; 429 is the chat rate limit
    settings.CHAT_RATE_LIMIT_MESSAGES = 1
    client = _client(buyer)
    url = "/api/v1/conversations/"
    first = client.post(url, {"listing": listing.pk, "text": "a"})
    limited = client.post(url, {"listing": listing.pk, "text": "b"})
    missing = client.post(url, {"listing": 999999, "text": "c"})

    assert (first.status_code, limited.status_code) == (201, 429)
    assert missing.status_code == 404
    paths = _schema()["paths"]
    start = paths["/api/v1/conversations/"]["post"]["responses"]
    send = paths["/api/v1/conversations/{id}/messages/"]["post"]["responses"]
    assert {"404", "409", "429"} <= set(start)
    assert "429" in send
    error = {"$ref": "#/components/schemas/Error"}
    for answer in (start["404"], start["409"], start["429"], send["429"]):
        assert answer["content"]["application/json"]["schema"] == error
