"""The sandbox provider: works offline, behaves like a real one.

Its hosted checkout is a page on this site (`/payments/sandbox/checkout/<ref>/`)
where the payer approves or declines. The decision is reported exactly as a
real provider would: a JSON event signed with HMAC-SHA256 and
`PAYMENT_SANDBOX_WEBHOOK_SECRET`, handed to the same webhook code that serves
`/payments/webhooks/sandbox/` (signature checked, event applied once).
"""

import json
import secrets
import time
from collections.abc import Mapping

from django.conf import settings
from django.urls import reverse

from wallet.payments.base import (
    CheckoutSession,
    EventOutcome,
    PaymentProvider,
    ProviderEvent,
    WebhookRejected,
    signature_header,
    verify_signature,
)

EVENT_OUTCOMES = {
    "payment.succeeded": EventOutcome.PAID,
    "payment.declined": EventOutcome.DECLINED,
    "payment.expired": EventOutcome.EXPIRED,
}


class SandboxProvider(PaymentProvider):
    name = "sandbox"
    signature_header = "X-Sandbox-Signature"

    def create_checkout(self, *, payment, return_url: str) -> CheckoutSession:
        reference = f"sbx_cs_{secrets.token_urlsafe(18)}"
        url = reverse("wallet:sandbox_checkout", kwargs={"reference": reference})
        return CheckoutSession(reference=reference, url=url)

    def expire_checkout(self, *, payment) -> None:
        # Nothing to tell: the checkout page is ours and reads the payment's
        # status, offering Approve/Decline only while it is pending.
        return None

    def build_event(
        self, *, payment, event_type: str, timestamp: int | None = None
    ) -> tuple[bytes, dict[str, str]]:
        """The signed webhook delivery a decision on the checkout produces."""
        if event_type not in EVENT_OUTCOMES:
            raise ValueError(f"Unknown sandbox event type {event_type}")
        event = {
            "id": f"evt_{secrets.token_urlsafe(18)}",
            "type": event_type,
            "created": int(time.time()),
            "data": {
                "reference": payment.provider_reference,
                "payment_id": payment.pk,
                "amount": payment.amount,
                "currency": payment.currency,
            },
        }
        body = json.dumps(event, separators=(",", ":")).encode()
        header = signature_header(
            settings.PAYMENT_SANDBOX_WEBHOOK_SECRET, body, timestamp
        )
        return body, {self.signature_header: header}

    def parse_webhook(
        self, *, payload: bytes, headers: Mapping[str, str]
    ) -> ProviderEvent:
        verify_signature(
            secret=settings.PAYMENT_SANDBOX_WEBHOOK_SECRET,
            payload=payload,
            header=headers.get(self.signature_header),
        )
        try:
            event = json.loads(payload)
            data = event["data"]
            event_id, event_type = str(event["id"]), str(event["type"])
            reference = str(data["reference"])
            amount, currency = data["amount"], str(data["currency"])
        except (ValueError, KeyError, TypeError) as exc:
            raise WebhookRejected("Malformed event.") from exc
        if isinstance(amount, bool) or not isinstance(amount, int):
            raise WebhookRejected("Malformed event amount.")
        return ProviderEvent(
            event_id=event_id,
            event_type=event_type,
            outcome=EVENT_OUTCOMES.get(event_type, EventOutcome.IGNORED),
            reference=reference,
            amount=amount,
            currency=currency.upper(),
            payload=event,
        )
