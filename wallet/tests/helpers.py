"""Test helpers that drive the real services, never write balances directly."""

from wallet import services
from wallet.payments.sandbox import SandboxProvider


def deliver_sandbox_event(payment, event_type="payment.succeeded", timestamp=None):
    body, headers = SandboxProvider().build_event(
        payment=payment, event_type=event_type, timestamp=timestamp
    )
    return services.payment_webhook_receive(
        provider_name="sandbox", payload=body, headers=headers
    )


def top_up_through_sandbox(user, amount):
    payment = services.payment_create(user=user, amount=amount)
    outcome = deliver_sandbox_event(payment)
    assert outcome == "credited", outcome
    payment.refresh_from_db()
    return payment
