"""Background jobs of the accounts app: thin adapters over services."""

from celery import shared_task

from accounts import services


@shared_task(
    autoretry_for=(OSError,),  # SMTP and network errors (SMTPException is one)
    retry_backoff=30,
    retry_backoff_max=30 * 60,
    max_retries=5,
)
def send_notification_email(notification_id: int) -> bool:
    """E-mail one notification whose user wants it right away."""
    return services.notification_email_send(notification_id=notification_id)


@shared_task
def send_notification_digests() -> int:
    """Periodic (beat, hourly): send the daily digests that are due."""
    return services.notification_digest_send()
