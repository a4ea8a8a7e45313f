from django.core.cache import cache

from core.services import worker_ping_key


def worker_ping_answered(*, token: str) -> bool:
    return cache.get(worker_ping_key(token)) is not None
