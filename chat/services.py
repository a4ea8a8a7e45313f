"""Every write of the chat. Pages, the API and the websocket consumer call these."""

from contextlib import nullcontext
from datetime import timedelta

from django.conf import settings
from django.core.cache import caches
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from chat import asyncdb, events, selectors
from chat.models import (
    Block,
    Conversation,
    Message,
    Participant,
    Report,
    ReportReason,
    ReportStatus,
)
from chat.presence import presence_entries_online, presence_is_online, presence_key
from chat.ratelimit import (
    rate_limit_cache_key,
    rate_limit_check,
    rate_limit_count_commands,
    rate_limit_hit,
)
from chat.text import text_clean, text_warning
from core.cache import RedisCache
from core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from core.services import audit_log_record

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


def _check_not_blocked(*, sender_id: int, recipient_id: int) -> None:
    block = selectors.block_between(user_a_id=sender_id, user_b_id=recipient_id)
    _raise_if_blocked(
        sender_id=sender_id, blocked_by=block.blocker_id if block else None
    )


def _raise_if_blocked(*, sender_id: int, blocked_by: int | None) -> None:
    if blocked_by is None:
        return
    if blocked_by == sender_id:
        raise Conflict("You blocked this user. Unblock them to write again.")
    raise PermissionDenied("This user does not accept messages from you.")


def _unread_changed(user_id: int) -> tuple[str, dict]:
    """The group send telling the user's open pages that their unread total
    changed. Each per-user socket reads the new total itself, so nothing is
    computed for users with no page open."""
    return events.user_group(user_id), {"type": "chat.unread"}


def _push_unread(user_id: int) -> None:
    """Tell the user's open pages, on commit, that their unread total changed."""
    events.group_send_on_commit(*_unread_changed(user_id))


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


def conversation_start(
    *, user, listing_id, text: str = "", client_id: str = "", image=None
) -> tuple[Conversation, Message]:
    """Find or open the user's conversation about a listing and send a message."""
    from listings.models import Listing, ListingStatus

    try:
        listing = Listing.objects.select_related("owner").get(pk=int(listing_id))
    except (Listing.DoesNotExist, TypeError, ValueError):
        raise NotFound("Listing not found.", field="listing") from None
    if listing.owner_id == user.pk:
        raise ValidationError(
            "You cannot message yourself about your own listing.", field="listing"
        )
    with transaction.atomic():
        conversation = Conversation.objects.filter(listing=listing, buyer=user).first()
        if conversation is None:
            if listing.status != ListingStatus.ACTIVE:
                if listing.status in (ListingStatus.DRAFT, ListingStatus.REJECTED):
                    raise NotFound("Listing not found.", field="listing")
                raise Conflict("This listing is no longer available.", field="listing")
            if not listing.owner.is_active:
                raise Conflict("The seller's account is closed.", field="listing")
            _check_not_blocked(sender_id=user.pk, recipient_id=listing.owner_id)
            try:
                with transaction.atomic():
                    conversation = Conversation.objects.create(
                        listing=listing, buyer=user, seller=listing.owner
                    )
                    Participant.objects.bulk_create(
                        [
                            Participant(conversation=conversation, user=user),
                            Participant(conversation=conversation, user=listing.owner),
                        ]
                    )
            except IntegrityError:
                conversation = Conversation.objects.get(listing=listing, buyer=user)
        message, _created = message_send(
            user=user,
            conversation=conversation,
            text=text,
            client_id=client_id,
            image=image,
        )
    return conversation, message


def conversation_mark_read(*, user, conversation: Conversation, up_to=None) -> int:
    """Mark the other party's messages up to `up_to` (default: all) as read."""
    if user.pk not in (conversation.buyer_id, conversation.seller_id):
        raise NotFound("Conversation not found.")
    if up_to is not None:
        try:
            up_to = int(up_to)
        except (TypeError, ValueError):
            raise ValidationError(
                "message_id must be a number.", field="message_id"
            ) from None
    with transaction.atomic():
        state = Participant.objects.select_for_update().get(
            conversation=conversation, user=user
        )
        unread = Message.objects.filter(
            conversation=conversation, read_at__isnull=True
        ).exclude(sender=user)
        # Read from the row: the caller's object may be older (a socket keeps
        # the one it loaded on connect).
        last_id = (
            Conversation.objects.filter(pk=conversation.pk)
            .values_list("last_message_id", flat=True)
            .get()
            or 0
        )
        if up_to is not None:
            unread = unread.filter(pk__lte=up_to)
            last_id = min(up_to, last_id)
        now = timezone.now()
        count = unread.update(read_at=now)
        if last_id > state.last_read_message_id:
            state.last_read_message_id = last_id
        state.unread_count = (
            Message.objects.filter(
                conversation=conversation,
                read_at__isnull=True,
                pk__gt=state.last_read_message_id,
            )
            .exclude(sender=user)
            .count()
        )
        if state.unread_count == 0:
            state.email_pending = False
        state.save(
            update_fields=["last_read_message_id", "unread_count", "email_pending"]
        )
        if count:
            events.group_send_on_commit(
                events.conversation_group(conversation.pk),
                {
                    "type": "chat.read",
                    "user_id": user.pk,
                    "last_read_id": state.last_read_message_id,
                    "read_at": now.isoformat(),
                },
            )
            _push_unread(user.pk)
    return count


def conversation_archive(*, user, conversation: Conversation, archived: bool = True):
    """Hide the conversation from the user's inbox (or bring it back)."""
    with transaction.atomic():
        updated = Participant.objects.filter(
            conversation=conversation, user=user
        ).update(is_archived=archived)
        if not updated:
            raise NotFound("Conversation not found.")
    return archived


def user_block(*, user, blocked_user_id) -> Block:
    """Refuse all messages from another user (idempotent)."""
    from accounts.models import User

    try:
        target = User.objects.get(pk=int(blocked_user_id), is_active=True)
    except (User.DoesNotExist, TypeError, ValueError):
        raise NotFound("User not found.") from None
    if target.pk == user.pk:
        raise ValidationError("You cannot block yourself.")
    with transaction.atomic():
        block, created = Block.objects.get_or_create(blocker=user, blocked=target)
        if created:
            audit_log_record(actor=user, action="chat.user_block", target=target)
            _announce_block_state(user_a_id=user.pk, user_b_id=target.pk)
    return block


def user_unblock(*, user, blocked_user_id) -> bool:
    """Accept messages from a blocked user again; False if they were not blocked."""
    try:
        blocked_user_id = int(blocked_user_id)
    except (TypeError, ValueError):
        raise NotFound("User not found.") from None
    with transaction.atomic():
        deleted, _ = Block.objects.filter(
            blocker=user, blocked_id=blocked_user_id
        ).delete()
        if deleted:
            audit_log_record(
                actor=user,
                action="chat.user_unblock",
                data={"user_id": blocked_user_id},
            )
            _announce_block_state(user_a_id=user.pk, user_b_id=blocked_user_id)
    return bool(deleted)


def _announce_block_state(*, user_a_id: int, user_b_id: int) -> None:
    """Tell both users' open sockets, on commit, who blocks whom now.

    Their conversation sockets stop passing typing between the two and tell
    the client; every send is still checked against the database.
    """
    block = selectors.block_between(user_a_id=user_a_id, user_b_id=user_b_id)
    event = {
        "type": "chat.block",
        "user_ids": [user_a_id, user_b_id],
        "blocked_by": block.blocker_id if block else None,
    }
    for user_id in (user_a_id, user_b_id):
        events.group_send_on_commit(events.user_sockets_group(user_id), event)


def user_sockets_close(*, user_id: int) -> None:
    """Close every open chat socket of the user once the caller commits (a ban).

    Call it inside the transaction that disables the account: a rolled-back
    ban closes nothing. Sockets close with code 4403; reconnecting fails, as
    the account can no longer log in.
    """
    events.group_send_on_commit(
        events.user_sockets_group(user_id), {"type": "chat.account_disabled"}
    )


def conversation_report(
    *, user, conversation: Conversation, reason: str, details: str = ""
) -> Report:
    """Send a conversation to the moderators; one open report per reporter."""
    if user.pk not in (conversation.buyer_id, conversation.seller_id):
        raise NotFound("Conversation not found.")
    if reason not in ReportReason.values:
        raise ValidationError("Choose a reason.", field="reason")
    details = text_clean(details)
    if len(details) > 2000:
        raise ValidationError("At most 2000 characters.", field="details")
    with transaction.atomic():
        if Report.objects.filter(
            conversation=conversation, reporter=user, status=ReportStatus.OPEN
        ).exists():
            raise Conflict("You already reported this conversation.")
        report = Report.objects.create(
            conversation=conversation, reporter=user, reason=reason, details=details
        )
        audit_log_record(
            actor=user,
            action="chat.conversation_report",
            target=conversation,
            reason=reason,
            data={"report_id": report.pk},
        )
    return report


def report_resolve(*, moderator, report: Report, resolution: str = "") -> Report:
    """Close a report with the moderator's note."""
    with transaction.atomic():
        report = Report.objects.select_for_update().get(pk=report.pk)
        if report.status == ReportStatus.RESOLVED:
            raise Conflict("The report is already resolved.")
        report.status = ReportStatus.RESOLVED
        report.resolved_at = timezone.now()
        report.resolved_by = moderator
        report.resolution = resolution
        report.save(
            update_fields=["status", "resolved_at", "resolved_by", "resolution"]
        )
        audit_log_record(
            actor=moderator,
            action="chat.report_resolve",
            target=report,
            reason=resolution,
            data={"conversation_id": report.conversation_id},
        )
    return report


def report_conversation_view_record(*, moderator, report: Report) -> None:
    """Write to the audit log that a moderator read a reported conversation."""
    with transaction.atomic():
        audit_log_record(
            actor=moderator,
            action="chat.moderator_view",
            target=report.conversation,
            reason=f"Report #{report.pk}",
            data={"report_id": report.pk},
        )


def message_email_notify(*, participant_id: int) -> bool:
    """E-mail one participant about unread messages of one conversation.

    At most one e-mail per conversation per CHAT_EMAIL_INTERVAL_SECONDS; a
    pending one whose interval has not passed waits for the periodic job.
    Idempotent: returns True only when it sent.
    """
    from accounts.services import notification_send

    interval = timedelta(seconds=settings.CHAT_EMAIL_INTERVAL_SECONDS)
    now = timezone.now()
    with transaction.atomic():
        state = (
            Participant.objects.select_for_update()
            .filter(pk=participant_id, email_pending=True)
            .first()
        )
        if state is None:
            return False
        if state.unread_count == 0 or not state.user.is_active:
            state.email_pending = False
            state.save(update_fields=["email_pending"])
            return False
        if state.last_emailed_at and now - state.last_emailed_at < interval:
            return False
        if presence_is_online(user_id=state.user_id):
            # They are on the site now and will see the badge.
            return False
        conversation = Conversation.objects.select_related(
            "listing", "buyer", "seller"
        ).get(pk=state.conversation_id)
        other = (
            conversation.seller
            if state.user_id == conversation.buyer_id
            else conversation.buyer
        )
        latest = list(
            Message.objects.filter(conversation=conversation, read_at__isnull=True)
            .exclude(sender_id=state.user_id)
            .order_by("-pk")[:3]
        )
        lines = [(m.text[:200] if m.text else "[photo]") for m in reversed(latest)]
        count = state.unread_count
        noun = "message" if count == 1 else "messages"
        notification_send(
            user=state.user,
            kind="message",
            title=(
                f"{count} new {noun} from {other.public_name} "
                f"about “{conversation.listing.title}”"
            ),
            body="\n".join(lines),
            url=conversation.get_absolute_url(),
        )
        state.email_pending = False
        state.last_emailed_at = now
        state.save(update_fields=["email_pending", "last_emailed_at"])
    return True


def message_email_digests_send() -> int:
    """Periodic job: send the batched e-mails whose interval has passed."""
    cutoff = timezone.now() - timedelta(seconds=settings.CHAT_EMAIL_INTERVAL_SECONDS)

    ids = list(
        Participant.objects.filter(email_pending=True)
        .filter(Q(last_emailed_at__isnull=True) | Q(last_emailed_at__lte=cutoff))
        .values_list("pk", flat=True)[:1000]
    )
    return sum(message_email_notify(participant_id=pk) for pk in ids)
