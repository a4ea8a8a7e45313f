"""What the wallet needs from a payment provider, whichever it is."""

import hashlib
import hmac
import time
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from core.errors import ValidationError


class WebhookRejected(ValidationError):
    """The webhook's signature or payload is not valid."""

    code = "webhook_rejected"


class ProviderUnavailable(Exception):
    """The provider could not be reached or refused the request."""


class EventOutcome:
    """What a provider event means for its payment."""

    PAID = "paid"
    DECLINED = "declined"
    EXPIRED = "expired"
    # Still under way (an asynchronous payment method is processing).
    PENDING = "pending"
    # An event type the wallet does not act on.
    IGNORED = "ignored"


@dataclass(frozen=True)
class CheckoutSession:
    """Where to send the payer, and the provider's id of that checkout."""

    reference: str
    url: str


@dataclass(frozen=True)
class ProviderEvent:
    """A verified webhook event, normalised."""

    event_id: str
    event_type: str
    outcome: str
    # The provider's checkout id and/or our payment id (Stripe's
    # client_reference_id), whichever the event carries.
    reference: str = ""
    payment_id: int | None = None
    amount: int | None = None
    currency: str | None = None
    payload: dict[str, Any] = field(default_factory=dict)


class PaymentProvider(ABC):
    """A payment provider: hosts a checkout for a pending payment and reports
    its result to the site's webhook with a signed payload."""

    name: str
    signature_header: str

    @abstractmethod
    def create_checkout(self, *, payment, return_url: str) -> CheckoutSession:
        """Open a checkout for `payment`; raises ProviderUnavailable."""

    @abstractmethod
    def expire_checkout(self, *, payment) -> None:
        """Close the checkout of a cancelled `payment` so it can no longer be
        paid. A checkout already completed or expired is not an error; raises
        ProviderUnavailable when the provider cannot be asked."""

    @abstractmethod
    def parse_webhook(
        self, *, payload: bytes, headers: Mapping[str, str]
    ) -> ProviderEvent:
        """Verify a webhook delivery's signature and normalise its event;
        raises WebhookRejected."""


# Signed webhooks, in the scheme Stripe documents and the sandbox copies:
# header "t=<unix time>,v1=<hex HMAC-SHA256 of '<t>.<raw body>'>".
SIGNATURE_TOLERANCE_SECONDS = 300


def compute_signature(secret: str, timestamp: int, payload: bytes) -> str:
    signed = f"{timestamp}.".encode() + payload
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def signature_header(secret: str, payload: bytes, timestamp: int | None = None) -> str:
    timestamp = int(time.time()) if timestamp is None else timestamp
    return f"t={timestamp},v1={compute_signature(secret, timestamp, payload)}"


def verify_signature(
    *,
    secret: str,
    payload: bytes,
    header: str | None,
    tolerance: int = SIGNATURE_TOLERANCE_SECONDS,
) -> None:
    """Check a "t=...,v1=..." signature header; raises WebhookRejected."""
    if not secret:
        raise WebhookRejected("Webhook secret is not configured.")
    if not header:
        raise WebhookRejected("Missing signature header.")
    timestamp, signatures = None, []
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        if name == "t" and value.isdigit():
            timestamp = int(value)
        elif name == "v1":
            signatures.append(value)
    if timestamp is None or not signatures:
        raise WebhookRejected("Malformed signature header.")
    expected = compute_signature(secret, timestamp, payload)
    if not any(hmac.compare_digest(expected, s) for s in signatures):
        raise WebhookRejected("Invalid signature.")
    if abs(time.time() - timestamp) > tolerance:
        raise WebhookRejected("Signature timestamp is too old.")
