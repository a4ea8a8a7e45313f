from celery import shared_task

from core.services import worker_ping_answer


@shared_task(name="core.ping", ignore_result=True)
def ping(token: str) -> None:
    """Liveness probe for the job queue; see `manage.py worker_ping`."""
    worker_ping_answer(token=token)
