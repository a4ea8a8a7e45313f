"""Every write of the chat. Pages, the API and the websocket consumer call these.

Split by topic; import from here (`from chat import services`)."""

from chat.services.blocks import user_block, user_sockets_close, user_unblock
from chat.services.conversations import (
    conversation_archive,
    conversation_mark_read,
    conversation_start,
)
from chat.services.emails import message_email_digests_send, message_email_notify
from chat.services.messages import (
    ACCOUNT_DISABLED_CODE,
    CLIENT_ID_MAX,
    message_send,
    message_send_async,
)
from chat.services.reports import (
    conversation_report,
    report_conversation_view_record,
    report_resolve,
)

__all__ = [
    "ACCOUNT_DISABLED_CODE",
    "CLIENT_ID_MAX",
    "conversation_archive",
    "conversation_mark_read",
    "conversation_report",
    "conversation_start",
    "message_email_digests_send",
    "message_email_notify",
    "message_send",
    "message_send_async",
    "report_conversation_view_record",
    "report_resolve",
    "user_block",
    "user_sockets_close",
    "user_unblock",
]
