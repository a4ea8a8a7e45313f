"""Stripe: Checkout Sessions for top-ups, signed webhooks for their results.

Enabled with PAYMENT_PROVIDER=stripe, STRIPE_SECRET_KEY and
STRIPE_WEBHOOK_SECRET. Point a Stripe webhook endpoint at
`<SITE_URL>/payments/webhooks/stripe/` with the events
checkout.session.completed, checkout.session.async_payment_succeeded,
checkout.session.async_payment_failed and checkout.session.expired.
"""

import json
import logging
from collections.abc import Mapping

import stripe
from django.conf import settings

from wallet.payments.base import (
    CheckoutSession,
    EventOutcome,
    PaymentProvider,
    ProviderEvent,
    ProviderUnavailable,
    WebhookRejected,
)

logger = logging.getLogger(__name__)


class StripeProvider(PaymentProvider):
    name = "stripe"
    signature_header = "Stripe-Signature"
    # None: the library's default HTTP client. Tests put a fake here, so only
    # the network call is replaced, never the library's request building.
    http_client: stripe.HTTPClient | None = None

    def _client(self) -> stripe.StripeClient:
        return stripe.StripeClient(
            settings.STRIPE_SECRET_KEY,
            http_client=self.http_client,
            max_network_retries=2,
        )

    def create_checkout(self, *, payment, return_url: str) -> CheckoutSession:
        params = {
            "mode": "payment",
            "client_reference_id": str(payment.pk),
            "metadata": {
                "payment_id": str(payment.pk),
                "user_id": str(payment.user_id),
            },
            "line_items": [
                {
                    "quantity": 1,
                    "price_data": {
                        "currency": payment.currency.lower(),
                        "unit_amount": payment.amount,
                        "product_data": {"name": f"{settings.SITE_NAME} wallet top-up"},
                    },
                }
            ],
            "success_url": return_url,
            "cancel_url": return_url,
        }
        try:
            session = self._client().v1.checkout.sessions.create(
                params=params,
                # Stripe's own idempotency: a retried create returns the same
                # session instead of opening a second one.
                options={"idempotency_key": f"wallet-top-up-{payment.pk}"},
            )
        except stripe.StripeError as exc:
            raise ProviderUnavailable(str(exc)) from exc
        return CheckoutSession(reference=session.id, url=session.url)

    def expire_checkout(self, *, payment) -> None:
        if not payment.provider_reference:
            return
        try:
            self._client().v1.checkout.sessions.expire(payment.provider_reference)
        except stripe.InvalidRequestError as exc:
            # Stripe expires open sessions only: this one completed or expired
            # already (its webhook tells which), or is unknown. Nothing to undo.
            logger.info(
                "payment %s: Stripe session %s not expired: %s",
                payment.pk,
                payment.provider_reference,
                exc,
            )
        except stripe.StripeError as exc:
            raise ProviderUnavailable(str(exc)) from exc

    def parse_webhook(
        self, *, payload: bytes, headers: Mapping[str, str]
    ) -> ProviderEvent:
        secret = settings.STRIPE_WEBHOOK_SECRET
        if not secret:
            raise WebhookRejected("Webhook secret is not configured.")
        try:
            text = payload.decode("utf-8")
            # The library's documented check: HMAC-SHA256 over "<t>.<body>"
            # with the endpoint's secret, timestamp within five minutes.
            stripe.WebhookSignature.verify_header(
                text,
                headers.get(self.signature_header) or "",
                secret,
                stripe.Webhook.DEFAULT_TOLERANCE,
            )
            data = json.loads(text)
        except stripe.SignatureVerificationError as exc:
            raise WebhookRejected("Invalid signature.") from exc
        except ValueError as exc:
            raise WebhookRejected("Malformed event.") from exc
        event_type = data.get("type") if isinstance(data, dict) else None
        if not isinstance(event_type, str) or not data.get("id"):
            raise WebhookRejected("Malformed event.")
        inner = data.get("data")
        session = inner.get("object") if isinstance(inner, dict) else None
        if not event_type.startswith("checkout.session.") or not isinstance(
            session, dict
        ):
            return ProviderEvent(
                event_id=str(data.get("id", "")),
                event_type=event_type,
                outcome=EventOutcome.IGNORED,
                payload=data,
            )
        if event_type == "checkout.session.completed":
            # Card payments are paid at completion; delayed methods complete
            # "unpaid" and report later with async_payment_succeeded/failed.
            paid = session.get("payment_status") in ("paid", "no_payment_required")
            outcome = EventOutcome.PAID if paid else EventOutcome.PENDING
        else:
            outcome = {
                "checkout.session.async_payment_succeeded": EventOutcome.PAID,
                "checkout.session.async_payment_failed": EventOutcome.DECLINED,
                "checkout.session.expired": EventOutcome.EXPIRED,
            }.get(event_type, EventOutcome.IGNORED)
        client_reference = str(session.get("client_reference_id") or "")
        currency = session.get("currency")
        return ProviderEvent(
            event_id=str(data.get("id", "")),
            event_type=event_type,
            outcome=outcome,
            reference=str(session.get("id") or ""),
            payment_id=int(client_reference) if client_reference.isdigit() else None,
            amount=session.get("amount_total"),
            currency=currency.upper() if isinstance(currency, str) else None,
            payload=data,
        )
