from celery import shared_task

from chat import services


@shared_task(ignore_result=True)
def message_email_notify(participant_id: int) -> bool:
    """E-mail an offline participant about a conversation's unread messages."""
    return services.message_email_notify(participant_id=participant_id)


@shared_task(ignore_result=True)
def send_message_email_digests() -> int:
    """Periodic: send the batched message e-mails whose interval has passed."""
    return services.message_email_digests_send()
