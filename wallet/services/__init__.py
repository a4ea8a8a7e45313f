"""Every write of the wallet. Balances change only here, each movement in one
durable transaction with its balanced ledger entries (see ledger.py)."""

from wallet.services.escrow import escrow_capture, escrow_hold, escrow_release
from wallet.services.idempotency import idempotency_keys_purge
from wallet.services.ledger import (
    wallet_adjust,
    wallet_open,
    wallet_open_for_new_user,
)
from wallet.services.payments import (
    payment_cancel,
    payment_checkout_expire,
    payment_create,
    payment_expire_stale,
    payment_webhook_receive,
    wallet_top_up,
)
from wallet.services.promotions import (
    promotion_expire_ended,
    promotion_product_save,
    promotion_purchase,
)

__all__ = [
    "escrow_capture",
    "escrow_hold",
    "escrow_release",
    "idempotency_keys_purge",
    "payment_cancel",
    "payment_checkout_expire",
    "payment_create",
    "payment_expire_stale",
    "payment_webhook_receive",
    "promotion_expire_ended",
    "promotion_product_save",
    "promotion_purchase",
    "wallet_adjust",
    "wallet_open",
    "wallet_open_for_new_user",
    "wallet_top_up",
]
