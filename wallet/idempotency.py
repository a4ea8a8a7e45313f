"""Idempotency keys for money-moving requests, reusable by any endpoint.

A client sends `Idempotency-Key: <key>` with a POST. The first request with a
key runs; its answer is stored in the same database transaction as the money
movement, so "moved money" and "has a stored answer" commit together or not at
all. A repeat with the same key and the same body gets that answer back and
moves nothing; a repeat with a different body gets 422. Keys live
`IDEMPOTENCY_KEY_TTL_HOURS` (24 h).

Concurrent duplicates: the claim is the first write of the money transaction,
an INSERT into a table unique on (user, key). A second copy's INSERT waits on
the first one's uncommitted row (PostgreSQL) or on the write lock (SQLite);
when the first commits it fails, reads the stored answer and replays it. If the
first fails and rolls back, nothing was stored and the next copy runs: failed
requests (validation, not enough money) are never stored, so clients can retry.

Usage, in a service that owns the transaction::

    with money_transaction(idempotency):   # claims the key first
        ...move money...
        return finish(idempotency, result)  # stores the rendered answer

and in an adapter, `idempotent_api_call(...)` (see wallet/api/views.py).
"""

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.errors import DomainError, ValidationError
from wallet.models import IdempotencyRecord

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255


class IdempotencyKeyReused(DomainError):
    """This Idempotency-Key was already used for a different request."""

    status_code = 422
    code = "idempotency_key_reused"


class IdempotentReplay(Exception):
    """Raised inside the money transaction when the key already has an answer;
    the adapter turns it into the stored response."""

    def __init__(self, record: IdempotencyRecord):
        super().__init__(record.key)
        self.status = record.response_status
        self.body = json.loads(record.response_body)


def _ttl() -> timedelta:
    return timedelta(hours=settings.IDEMPOTENCY_KEY_TTL_HOURS)


def request_fingerprint(scope: str, data: Any) -> str:
    canonical = json.dumps(
        {"scope": scope, "data": data},
        sort_keys=True,
        separators=(",", ":"),
        cls=DjangoJSONEncoder,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def validate_key(key: str) -> str:
    key = (key or "").strip()
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise ValidationError(
            f"{HEADER} must be 1-{MAX_KEY_LENGTH} printable characters.",
            field=HEADER,
        )
    return key


@dataclass
class IdempotencyClaim:
    """A request's key, waiting to be claimed inside the money transaction."""

    user: Any
    key: str
    scope: str
    request_hash: str
    # Turns the service's result into the (status, body) answer to store.
    render: Callable[[Any], tuple[int, Any]]
    record: IdempotencyRecord | None = field(default=None, repr=False)
    response_status: int | None = None
    response_body: Any = None

    @classmethod
    def build(cls, *, user, key: str, scope: str, data: Any, render):
        key = validate_key(key)
        return cls(
            user=user,
            key=key,
            scope=scope,
            request_hash=request_fingerprint(scope, data),
            render=render,
        )

    def acquire(self) -> None:
        """Insert the key's row or replay its stored answer.

        Must run first in the money transaction: a concurrent duplicate waits
        here until this transaction ends.
        """
        if not transaction.get_connection().in_atomic_block:
            raise RuntimeError("IdempotencyClaim.acquire needs a transaction.")
        now = timezone.now()
        # An expired key is forgotten: the request runs again as a new one.
        IdempotencyRecord.objects.filter(
            user=self.user, key=self.key, expires_at__lte=now
        ).delete()
        try:
            with transaction.atomic():
                self.record = IdempotencyRecord.objects.create(
                    user=self.user,
                    key=self.key,
                    scope=self.scope,
                    request_hash=self.request_hash,
                    expires_at=now + _ttl(),
                )
        except IntegrityError:
            existing = IdempotencyRecord.objects.get(user=self.user, key=self.key)
            if (
                existing.request_hash != self.request_hash
                or existing.scope != self.scope
            ):
                raise IdempotencyKeyReused(
                    f"This {HEADER} was already used for a different request; "
                    "use a new key for a new request."
                ) from None
            raise IdempotentReplay(existing) from None

    def complete(self, result: Any) -> None:
        """Store the answer for `result` in the running transaction."""
        status, body = self.render(result)
        text = json.dumps(body, cls=DjangoJSONEncoder)
        # The first answer is rendered from the stored text too, so it is
        # exactly what a replay returns.
        self.response_status, self.response_body = status, json.loads(text)
        self.record.response_status = status
        self.record.response_body = text
        self.record.save(update_fields=["response_status", "response_body"])
