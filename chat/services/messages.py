"""Sending a message: from a page, the API or a socket (threaded), and from a
socket on the event loop (`message_send_async`, PostgreSQL)."""

from contextlib import nullcontext

from django.conf import settings
from django.core.cache import caches
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from chat import asyncdb, events, selectors
from chat.models import Conversation, Message, Participant
from chat.presence import presence_entries_online, presence_is_online, presence_key
from chat.services._common import _raise_if_blocked, _unread_changed
from chat.text import text_clean, text_warning
from core.cache import RedisCache
from core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from core.ratelimit import (
    rate_limit_cache_key,
    rate_limit_check,
    rate_limit_count_commands,
    rate_limit_hit,
)

CLIENT_ID_MAX = 64
# The error code of a send from a banned account (its socket then closes).
ACCOUNT_DISABLED_CODE = "account_disabled"


def _clean_client_id(client_id) -> str:
    client_id = str(client_id or "").strip()
    if len(client_id) > CLIENT_ID_MAX:
        raise ValidationError(
            f"client_id is at most {CLIENT_ID_MAX} characters.", field="client_id"
        )
    if client_id and not client_id.isprintable():
        raise ValidationError("client_id must be printable text.", field="client_id")
    return client_id


def _email_queue(participant_id: int) -> None:
    """Queue the e-mail about a new message (the receiver had no socket open)."""
    from chat import tasks

    tasks.message_email_notify.apply_async(
        args=[participant_id], countdown=settings.CHAT_EMAIL_DELAY_SECONDS
    )


def _participants_update(*, message_id, sender_id, recipient_id, recipient_online):
    """The SET clause (and its parameters) of the UPDATE that moves both sides'
    counters for a new message: own messages count as read, the receiver gets
    one more unread (and the e-mail flag when they have no socket open), and a
    new message brings the thread back from either side's archive.

    `message_id` None: the id comes from the statement's `new_message`.
    """
    read_up_to, id_params = (
        ("new_message.id", []) if message_id is None else ("%s", [message_id])
    )
    sql = f"""
        is_archived = %s,
        unread_count = unread_count + (CASE WHEN user_id = %s THEN 1 ELSE 0 END),
        last_read_message_id = CASE WHEN user_id = %s
            THEN {read_up_to} ELSE last_read_message_id END,
        email_pending = CASE WHEN user_id = %s AND %s THEN %s ELSE email_pending END
    """
    params = [False, recipient_id, sender_id, *id_params]
    params += [recipient_id, not recipient_online, True]
    return sql, params


def _message_store(*, message, conversation, recipient_id, recipient_online):
    """Insert the message, move the counters and announce it on commit.

    Hand-written SQL: this runs for every message, and the ORM took longer to
    build these statements than the database to run them (docs/chat.md,
    "Benchmark"). On PostgreSQL a text message is one statement (no BEGIN and
    COMMIT round trips); photos, whose file is saved by `Model.save`, and
    SQLite use a transaction of three.
    """
    message.created_at = timezone.now()
    if message.image or connection.vendor != "postgresql":
        insert, block = _message_insert_in_transaction, transaction.atomic()
    else:
        # Alone it is its own transaction; inside the caller's, a savepoint
        # keeps a duplicate client_id from aborting it (message_send looks it up).
        insert = _message_insert_one_statement
        block = transaction.atomic() if connection.in_atomic_block else nullcontext()
    with block:
        recipient_state_id = insert(
            message=message,
            recipient_id=recipient_id,
            recipient_online=recipient_online,
        )
        _message_announce(
            message=message,
            conversation=conversation,
            recipient_id=recipient_id,
            recipient_state_id=None if recipient_online else recipient_state_id,
        )


def _message_insert_in_transaction(*, message, recipient_id, recipient_online):
    """Three statements; the caller holds the transaction. Returns the
    recipient's Participant id."""
    message.save()
    quote = connection.ops.quote_name
    created_at = connection.ops.adapt_datetimefield_value(message.created_at)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {quote(Conversation._meta.db_table)}"  # noqa: S608 - table from the model, values bound
            " SET last_message_id = %s, last_message_at = %s WHERE id = %s",
            [message.pk, created_at, message.conversation_id],
        )
        set_sql, set_params = _participants_update(
            message_id=message.pk,
            sender_id=message.sender_id,
            recipient_id=recipient_id,
            recipient_online=recipient_online,
        )
        cursor.execute(
            f"UPDATE {quote(Participant._meta.db_table)} SET {set_sql}"  # noqa: S608 - table from the model, values bound
            " WHERE conversation_id = %s RETURNING id, user_id",
            [*set_params, message.conversation_id],
        )
        states = {user_id: pk for pk, user_id in cursor.fetchall()}
    return states[recipient_id]


def _message_insert_one_statement(*, message, recipient_id, recipient_online):
    """PostgreSQL, text only: insert and both updates as one statement (its
    WITH parts always all run, atomically). Returns the recipient's
    Participant id."""
    sql, params = _message_insert_query(
        message=message, recipient_id=recipient_id, recipient_online=recipient_online
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return _message_inserted(message, cursor.fetchone())


def _message_insert_query(*, message, recipient_id, recipient_online):
    """The SQL and parameters of `_message_insert_one_statement`."""
    quote = connection.ops.quote_name
    set_sql, set_params = _participants_update(
        message_id=None,
        sender_id=message.sender_id,
        recipient_id=recipient_id,
        recipient_online=recipient_online,
    )
    sql = f"""
        WITH new_message AS (
            INSERT INTO {quote(Message._meta.db_table)} (
                conversation_id, sender_id, text, image, image_width,
                image_height, client_id, warning, created_at, read_at
            ) VALUES (%s, %s, %s, '', 0, 0, %s, %s, %s, NULL)
            RETURNING id
        ), conversation AS (
            UPDATE {quote(Conversation._meta.db_table)} AS c
            SET last_message_id = new_message.id, last_message_at = %s
            FROM new_message WHERE c.id = %s
        ), participants AS (
            UPDATE {quote(Participant._meta.db_table)}
            SET {set_sql}
            FROM new_message WHERE conversation_id = %s
            RETURNING {quote(Participant._meta.db_table)}.id, user_id
        )
        SELECT new_message.id, (SELECT p.id FROM participants p WHERE p.user_id = %s)
        FROM new_message
    """  # noqa: S608 - tables from the models, values bound
    params = [
        *(message.conversation_id, message.sender_id, message.text),
        *(message.client_id, message.warning, message.created_at),
        *(message.created_at, message.conversation_id),
        *set_params,
        *(message.conversation_id, recipient_id),
    ]
    return sql, params


def _message_inserted(message, row) -> int:
    """Mark `message` as stored from the row `_message_insert_query` returned;
    the recipient's Participant id."""
    message.pk, recipient_state_id = row
    message._state.adding = False
    message._state.db = connection.alias
    return recipient_state_id


def _message_announce(*, message, conversation, recipient_id, recipient_state_id):
    """On commit: the message to the conversation's sockets, the new unread
    total to the recipient's pages, and an e-mail (`recipient_state_id`) when
    the recipient had no socket open."""
    for group, event in _message_events(
        message=message, conversation=conversation, recipient_id=recipient_id
    ):
        events.group_send_on_commit(group, event)
    if recipient_state_id is not None:
        transaction.on_commit(lambda: _email_queue(recipient_state_id))


def _message_events(*, message, conversation, recipient_id) -> list:
    """The group sends that announce a stored message: the message to the
    conversation's sockets, "unread changed" to the recipient's pages."""
    conversation.last_message = message
    conversation.last_message_at = message.created_at
    return [
        (
            events.conversation_group(conversation.pk),
            {"type": "chat.message", "message": events.message_payload(message)},
        ),
        _unread_changed(recipient_id),
    ]


def message_send(
    *,
    user,
    conversation: Conversation,
    text: str = "",
    client_id: str = "",
    image=None,
) -> tuple[Message, bool]:
    """Store a message and deliver it to open sockets on commit.

    Idempotent on (sender, client_id): a retried send returns the stored
    message and `False`. `conversation` must come from `access_conversation`.
    The sender's account and blocks are read from the database on every call:
    a socket's `user` was loaded when it connected.
    """
    client_id, recipient_id = _send_parties(user, conversation, client_id)
    checks = selectors.message_send_checks(
        sender_id=user.pk, recipient_id=recipient_id, client_id=client_id
    )
    if _send_checked(checks):
        found = _message_existing(
            user=user, conversation=conversation, client_id=client_id
        )
        if found is not None:  # else it was deleted meanwhile: send it again
            return found
    text = _send_text(
        text, has_image=image is not None, blocked_by=checks[1], user=user
    )
    recipient_online = _send_count(user_id=user.pk, recipient_id=recipient_id)
    cleaned = None
    if image is not None:
        from chat.images import image_clean

        cleaned = image_clean(image, field="image")
    message = _message_new(
        user=user, conversation=conversation, text=text, client_id=client_id
    )
    if cleaned is not None:
        message.image = cleaned
        message.image_width = cleaned.width
        message.image_height = cleaned.height
    try:
        _message_store(
            message=message,
            conversation=conversation,
            recipient_id=recipient_id,
            recipient_online=recipient_online,
        )
    except IntegrityError:
        # The same client_id raced in from another connection: that one won.
        found = _message_existing(
            user=user, conversation=conversation, client_id=client_id
        )
        if found is None:
            raise
        return found
    return message, True


async def message_send_async(
    *, user, conversation: Conversation, text: str = "", client_id: str = ""
) -> tuple[Message, bool]:
    """`message_send` for a text message from a socket, on the event loop.

    The same checks, SQL and events, without the hop to a worker thread:
    the two statements run on the loop's own PostgreSQL connections
    (`chat.asyncdb`, PostgreSQL only), the rate limit and the recipient's
    presence in one Redis round trip. The message is stored (committed)
    before its events are sent. Rare paths (a retried client_id, an e-mail
    to queue) go through a worker thread.
    """
    import psycopg
    from channels.db import database_sync_to_async

    client_id, recipient_id = _send_parties(user, conversation, client_id)
    sql, params = selectors.message_send_checks_query(
        sender_id=user.pk, recipient_id=recipient_id, client_id=client_id
    )
    checks = selectors.message_send_checks_result(await asyncdb.fetchone(sql, params))
    if _send_checked(checks):
        found = await database_sync_to_async(_message_existing)(
            user=user, conversation=conversation, client_id=client_id
        )
        if found is not None:  # else it was deleted meanwhile: send it again
            return found
    text = _send_text(text, has_image=False, blocked_by=checks[1], user=user)
    recipient_online = await _send_count_async(
        user_id=user.pk, recipient_id=recipient_id
    )
    message = _message_new(
        user=user, conversation=conversation, text=text, client_id=client_id
    )
    message.created_at = timezone.now()
    sql, params = _message_insert_query(
        message=message, recipient_id=recipient_id, recipient_online=recipient_online
    )
    try:
        # Not repeated on a broken connection: the insert may have committed.
        async with asyncdb.connection() as conn:
            row = await (await conn.execute(sql, params)).fetchone()
    except psycopg.errors.UniqueViolation:
        # The same client_id raced in from another connection: that one won.
        found = await database_sync_to_async(_message_existing)(
            user=user, conversation=conversation, client_id=client_id
        )
        if found is None:
            raise
        return found
    recipient_state_id = _message_inserted(message, row)
    await events.group_send_many(
        _message_events(
            message=message, conversation=conversation, recipient_id=recipient_id
        )
    )
    if not recipient_online:
        await database_sync_to_async(_email_queue)(recipient_state_id)
    return message, True


def _send_parties(user, conversation, client_id) -> tuple[str, int]:
    """The cleaned client_id and the recipient's id; NotFound for outsiders."""
    if user.pk not in (conversation.buyer_id, conversation.seller_id):
        raise NotFound("Conversation not found.")
    return _clean_client_id(client_id), conversation.other_party_id(user.pk)


def _send_checked(checks) -> bool:
    """Refuse a disabled account; True if the client_id was already used (the
    send is a retry: answer with the stored message)."""
    is_active, _blocked_by, existing_id = checks
    if not is_active:
        raise PermissionDenied("Your account is disabled.", code=ACCOUNT_DISABLED_CODE)
    return existing_id is not None


def _send_text(text, *, has_image, blocked_by, user) -> str:
    """The cleaned text; refuses an empty or too long message and a block."""
    text = text_clean(text)
    max_length = settings.CHAT_MESSAGE_MAX_LENGTH
    if len(text) > max_length:
        raise ValidationError(
            f"A message is at most {max_length} characters.", field="text"
        )
    if not text and not has_image:
        raise ValidationError("Write a message or attach a photo.", field="text")
    _raise_if_blocked(sender_id=user.pk, blocked_by=blocked_by)
    return text


def _message_new(*, user, conversation, text, client_id) -> Message:
    return Message(
        conversation=conversation,
        sender=user,
        text=text,
        client_id=client_id,
        warning=text_warning(text),
    )


def _message_existing(*, user, conversation, client_id):
    """(the sender's stored message with `client_id`, False), None if there is
    none; Conflict if it belongs to another conversation."""
    existing = (
        Message.objects.select_related("sender")
        .filter(sender=user, client_id=client_id)
        .first()
        if client_id
        else None
    )
    if existing is None:
        return None
    if existing.conversation_id != conversation.pk:
        raise Conflict(
            "This client_id was already used for another conversation.",
            field="client_id",
        )
    return existing, False


def _send_count(*, user_id: int, recipient_id: int) -> bool:
    """Count the send against the sender's rate limit (RateLimited past it)
    and tell whether the recipient has a socket open: one round trip when
    the cache is Redis."""
    backend = caches["default"]
    if not isinstance(backend, RedisCache):
        rate_limit_hit(**_rate_limit_args(user_id))
        return presence_is_online(user_id=recipient_id)
    commands = _send_count_commands(backend, user_id, recipient_id)
    return _send_count_result(backend, user_id, backend.execute(commands))


async def _send_count_async(*, user_id: int, recipient_id: int) -> bool:
    """`_send_count` on the event loop."""
    backend = caches["default"]
    if not isinstance(backend, RedisCache):  # locmem: in process, no I/O
        return _send_count(user_id=user_id, recipient_id=recipient_id)
    commands = _send_count_commands(backend, user_id, recipient_id)
    return _send_count_result(backend, user_id, await backend.execute_async(commands))


def _rate_limit_args(user_id: int) -> dict:
    return {
        "key": f"chat-send:{user_id}",
        "limit": settings.CHAT_RATE_LIMIT_MESSAGES,
        "window_seconds": settings.CHAT_RATE_LIMIT_SECONDS,
    }


def _send_count_commands(backend, user_id, recipient_id) -> list:
    """The rate-limit count (if there is a limit), then the presence read."""
    args = _rate_limit_args(user_id)
    commands = []
    if args["limit"] > 0:
        key = rate_limit_cache_key(
            key=args["key"], window_seconds=args["window_seconds"]
        )
        commands += rate_limit_count_commands(
            backend.redis_key(key), window_seconds=args["window_seconds"]
        )
    return [*commands, ("GET", backend.redis_key(presence_key(recipient_id)))]


def _send_count_result(backend, user_id, results) -> bool:
    args = _rate_limit_args(user_id)
    if args["limit"] > 0:
        rate_limit_check(
            count=results[-2],
            limit=args["limit"],
            window_seconds=args["window_seconds"],
        )
    return presence_entries_online(backend.decode(results[-1]))
