"""Wallet pages, the sandbox provider's checkout and the payment webhooks.

Adapters only: parse input, call one selector or service, render.
"""

import logging
import uuid

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from core.errors import DomainError, NotFound, PermissionDenied
from core.pages import add_error_to_form, flash_error, safe_next_url
from wallet import money, selectors, services
from wallet.forms import (
    HistoryFilterForm,
    PromotionChoiceForm,
    PromotionConfirmForm,
    TopUpForm,
)
from wallet.idempotency import IdempotencyClaim, IdempotentReplay
from wallet.payments.sandbox import SandboxProvider

logger = logging.getLogger(__name__)

HISTORY_PAGE_SIZE = 20


def _wallet_page(request, *, top_up_form=None, status=200):
    wallet = services.wallet_open(user=request.user)
    filters = HistoryFilterForm(request.GET)
    entries = selectors.entry_list(wallet=wallet, **filters.filters())
    page = Paginator(entries, HISTORY_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "wallet": wallet,
        "summary": selectors.wallet_summary(wallet=wallet),
        "filters": filters,
        "page": page,
        "payments": selectors.payment_list(user=request.user)[:5],
        "purchases": selectors.promotion_purchase_list(user=request.user)[:5],
        "top_up_form": top_up_form or TopUpForm(),
    }
    return render(request, "wallet/home.html", context, status=status)


@login_required
def wallet_home(request):
    return _wallet_page(request)


@login_required
@require_POST
def top_up(request):
    form = TopUpForm(request.POST)
    status = 400
    if form.is_valid():
        try:
            payment = services.payment_create(
                user=request.user, amount=form.cleaned_data["amount"]
            )
        except DomainError as exc:
            # Too many waiting (409), too many started (429): on the form.
            add_error_to_form(form, exc)
            status = exc.status_code
        else:
            return redirect(payment.checkout_url)
    return _wallet_page(request, top_up_form=form, status=status)


@login_required
def top_up_detail(request, pk):
    try:
        payment = selectors.access_payment(user=request.user, pk=pk)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    return render(request, "wallet/top_up_detail.html", {"payment": payment})


@login_required
@require_POST
def top_up_cancel(request, pk):
    """Cancel a top-up waiting for payment; back to the page it was asked on."""
    try:
        payment = services.payment_cancel(user=request.user, payment_id=pk)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except DomainError as exc:
        # No longer pending (409), or a busy database (503): say so.
        flash_error(request, exc)
    else:
        messages.success(
            request,
            f"Top-up of {money.format_money(payment.amount, payment.currency)} "
            "cancelled.",
        )
    return redirect(
        safe_next_url(request, reverse("wallet:top_up_detail", kwargs={"pk": pk}))
    )


@login_required
def promotions(request):
    purchases = selectors.promotion_purchase_list(user=request.user)
    page = Paginator(purchases, HISTORY_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "wallet/promotions.html", {"page": page})


@login_required
def promote(request, listing_id):
    """Buy a promotion for a listing: choose, confirm (price and the balance
    after), pay. The confirm form carries an idempotency key: pays once."""
    try:
        listing = selectors.access_listing_for_promotion(
            user=request.user, pk=listing_id
        )
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except PermissionDenied as exc:
        return render(
            request, "wallet/promote_refused.html", {"message": exc.message}, status=403
        )
    wallet = services.wallet_open(user=request.user)
    products = list(selectors.product_list())
    context = {"listing": listing, "wallet": wallet, "products": products}
    if not listing.is_active:
        context["inactive"] = True
        return render(
            request,
            "wallet/promote.html",
            context,
            status=409 if request.method == "POST" else 200,
        )

    step = request.POST.get("step") if request.method == "POST" else None
    if step == "pay":
        form = PromotionConfirmForm(request.POST, products=products)
        if form.is_valid():
            product = form.cleaned_data["product"]
            claim = IdempotencyClaim.build(
                user=request.user,
                key=form.cleaned_data["idempotency_key"],
                scope=f"page:promote:{listing.pk}",
                data={"product": product.code},
                render=lambda purchase: (201, {"purchase": purchase.pk}),
            )
            try:
                purchase = services.promotion_purchase(
                    user=request.user,
                    listing_id=listing.pk,
                    product_code=product.code,
                    idempotency=claim,
                )
            except IdempotentReplay:
                messages.info(request, "This promotion was already bought.")
                return redirect("wallet:promotions")
            except DomainError as exc:
                flash_error(request, exc)
                return redirect("wallet:promote", listing_id=listing.pk)
            messages.success(
                request,
                f"{purchase.product.name} is on for “{listing.title}”. "
                f"Paid {money.format_money(purchase.price, purchase.currency)}.",
            )
            return redirect("wallet:promotions")
    elif step == "confirm":
        form = PromotionChoiceForm(request.POST, products=products)
        if form.is_valid():
            product = form.cleaned_data["product"]
            confirm = PromotionConfirmForm(
                initial={"product": product.code, "idempotency_key": uuid.uuid4().hex},
                products=products,
            )
            context.update(
                {
                    "product": product,
                    "confirm_form": confirm,
                    "balance_after": wallet.available - product.price,
                    "can_afford": wallet.available >= product.price,
                    "shortfall": max(product.price - wallet.available, 0),
                    "top_up_form": TopUpForm(
                        initial={
                            "amount": money.to_major(
                                max(
                                    product.price - wallet.available,
                                    settings.WALLET_TOP_UP_MIN,
                                )
                            )
                        }
                    ),
                }
            )
            return render(request, "wallet/promote_confirm.html", context)
    else:
        initial = {}
        if request.GET.get("product") in {p.code for p in products}:
            initial["product"] = request.GET["product"]
        form = PromotionChoiceForm(initial=initial, products=products)
    context["form"] = form
    return render(
        request,
        "wallet/promote.html",
        context,
        status=400 if request.method == "POST" else 200,
    )


def sandbox_checkout(request, reference):
    """The sandbox provider's hosted checkout: approve or decline, and the
    provider reports the decision to the webhook with a signed event."""
    if settings.PAYMENT_PROVIDER != "sandbox":
        raise Http404("The sandbox provider is not enabled.")
    try:
        payment = selectors.payment_by_checkout_reference(
            provider=SandboxProvider.name, reference=reference
        )
    except NotFound as exc:
        raise Http404(exc.message) from exc
    if request.method == "POST":
        decision = request.POST.get("decision")
        event_type = {"approve": "payment.succeeded", "decline": "payment.declined"}
        if decision in event_type and payment.is_pending:
            body, headers = SandboxProvider().build_event(
                payment=payment, event_type=event_type[decision]
            )
            # Delivered in-process, through the same verification code the
            # public webhook endpoint runs.
            services.payment_webhook_receive(
                provider_name=SandboxProvider.name, payload=body, headers=headers
            )
        return redirect(payment.get_absolute_url())
    return render(request, "wallet/sandbox_checkout.html", {"payment": payment})


@csrf_exempt
@require_POST
def payment_webhook(request, provider):
    """A provider's webhook: signature-verified, applied once per event."""
    try:
        outcome = services.payment_webhook_receive(
            provider_name=provider, payload=request.body, headers=request.headers
        )
    except DomainError as exc:
        logger.warning("webhook %s refused: %s", provider, exc.message)
        return JsonResponse(
            {"detail": exc.message, "code": exc.code}, status=exc.status_code
        )
    return JsonResponse({"status": outcome})
