"""Wallet API. Adapters only: validate input, call a selector or service,
serialize. Money-moving POSTs accept an Idempotency-Key header."""

import django_filters
from django.http import QueryDict
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, permissions, status
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.permissions import HasScope
from core.api.views import ScopedGenericViewSet
from wallet import selectors, services
from wallet.api.serializers import (
    LedgerEntrySerializer,
    PaymentSerializer,
    PromotionProductSerializer,
    PromotionPurchaseInput,
    PromotionPurchaseSerializer,
    TopUpCreateInput,
    WalletSerializer,
)
from wallet.idempotency import HEADER, IdempotencyClaim, IdempotentReplay
from wallet.models import LedgerEntry, Payment, PromotionPurchase, TransactionKind

ERRORS = {
    400: OpenApiResponse(description="Invalid input; `errors` names the fields."),
    401: OpenApiResponse(description="Not logged in."),
    403: OpenApiResponse(description="Not your listing."),
    404: OpenApiResponse(description="Not found (or not yours)."),
    409: OpenApiResponse(
        description="Not possible now: not enough money (`insufficient_funds`) "
        "or the listing is not active (`listing_not_active`)."
    ),
    422: OpenApiResponse(
        description="The Idempotency-Key was used before for a different request."
    ),
    503: OpenApiResponse(
        description="Busy database or payment provider; retry after Retry-After."
    ),
}

TOP_UP_PENDING_LIMIT = OpenApiResponse(
    description="Too many top-ups waiting for payment: at most "
    "WALLET_TOP_UP_MAX_PENDING at once (`too_many_pending_top_ups`); complete "
    "or cancel one, or wait until one expires."
)

TOP_UP_NOT_PENDING = OpenApiResponse(
    description="The top-up no longer waits for payment: it is paid, "
    "declined, expired or already cancelled (`top_up_not_pending`)."
)

TOP_UP_RATE_LIMITED = OpenApiResponse(
    description="Too many top-ups started: at most "
    "WALLET_TOP_UP_RATE_LIMIT_STARTS per WALLET_TOP_UP_RATE_LIMIT_SECONDS "
    "(`rate_limited`); retry after Retry-After seconds."
)

RETRY_AFTER_HEADER = OpenApiParameter(
    "Retry-After",
    OpenApiTypes.INT,
    OpenApiParameter.HEADER,
    response=[429, 503],
    description="Seconds to wait before trying again.",
)

IDEMPOTENCY_PARAMETER = OpenApiParameter(
    HEADER,
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description=(
        "Any unique string (a UUID) per intended operation. Repeating the "
        "request with the same key and body returns the first response "
        "(header `Idempotent-Replayed: true`) and moves money once; the same "
        "key with another body is refused with 422. Keys expire after 24 hours."
    ),
)


def _request_data(request):
    if isinstance(request.data, QueryDict):
        return {key: request.data.getlist(key) for key in sorted(request.data)}
    return request.data


def idempotent_call(request, *, call, render, success_status=status.HTTP_201_CREATED):
    """Run `call(idempotency_claim)` under the request's Idempotency-Key (if it
    sent one) and answer with the stored first response on a repeat."""
    claim = None
    key = request.headers.get(HEADER)
    if key is not None:
        claim = IdempotencyClaim.build(
            user=request.user,
            key=key,
            scope=f"{request.method} {request.path}",
            data=_request_data(request),
            render=lambda result: (success_status, render(result)),
        )
    try:
        result = call(claim)
    except IdempotentReplay as replay:
        return Response(
            replay.body, status=replay.status, headers={"Idempotent-Replayed": "true"}
        )
    if claim is not None:
        return Response(claim.response_body, status=claim.response_status)
    return Response(render(result), status=success_status)


class WalletView(APIView):
    """The caller's wallet."""

    permission_classes = [permissions.IsAuthenticated, HasScope]

    @extend_schema(
        summary="Your wallet balance",
        description=(
            "Amounts in minor units of `currency` (KZT: tiyn). `balance` = "
            "`available` + `held` (money held in safe deals)."
        ),
        responses={200: WalletSerializer, 401: ERRORS[401]},
    )
    def get(self, request):
        wallet = services.wallet_open(user=request.user)
        summary = selectors.wallet_summary(wallet=wallet)
        return Response(WalletSerializer(summary).data)


class LedgerEntryFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(
        field_name="transaction__kind", choices=TransactionKind.choices
    )
    direction = django_filters.ChoiceFilter(
        method="filter_direction",
        choices=[("in", "Money in"), ("out", "Money out")],
    )
    created_after = django_filters.DateFilter(
        field_name="created_at", lookup_expr="date__gte"
    )
    created_before = django_filters.DateFilter(
        field_name="created_at", lookup_expr="date__lte"
    )

    class Meta:
        model = LedgerEntry
        fields = ["kind", "direction", "created_after", "created_before"]

    def filter_direction(self, queryset, name, value):
        if value == "in":
            return queryset.filter(amount__gt=0)
        return queryset.filter(amount__lt=0)


@extend_schema_view(
    list=extend_schema(
        summary="Your wallet's history",
        description=(
            "Ledger entries of your wallet, newest first; `balance_after` is "
            "the running balance (available money) after each entry."
        ),
        responses={200: LedgerEntrySerializer(many=True), 401: ERRORS[401]},
    )
)
class TransactionViewSet(mixins.ListModelMixin, ScopedGenericViewSet):
    permission_classes = [permissions.IsAuthenticated, HasScope]
    queryset = LedgerEntry.objects.none()  # the model, for the schema
    serializer_class = LedgerEntrySerializer
    filterset_class = LedgerEntryFilter

    def get_scoped_queryset(self, user):
        wallet = selectors.wallet_get(user=user)
        if wallet is None:
            return LedgerEntry.objects.none()
        return selectors.entry_list(wallet=wallet)


@extend_schema_view(
    list=extend_schema(
        summary="Your top-ups",
        responses={200: PaymentSerializer(many=True), 401: ERRORS[401]},
    ),
    retrieve=extend_schema(
        summary="One of your top-ups",
        description="Poll this after the checkout to see the payment's status.",
        responses={200: PaymentSerializer, 401: ERRORS[401], 404: ERRORS[404]},
    ),
)
class TopUpViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedGenericViewSet
):
    # Tokens need the `write` scope to start or cancel a top-up, `read` to look.
    permission_classes = [permissions.IsAuthenticated, HasScope]
    queryset = Payment.objects.none()  # the model, for the schema
    serializer_class = PaymentSerializer
    lookup_value_regex = "[0-9]+"

    def get_scoped_queryset(self, user):
        return selectors.payment_list(user=user)

    @extend_schema(
        summary="Start a top-up",
        description=(
            "Creates a pending payment and a checkout at the payment provider. "
            "Send the payer to `checkout_url`; the wallet is credited when the "
            "provider's webhook confirms the payment. Amount in minor units, "
            "within the site's bounds (WALLET_TOP_UP_MIN..MAX). At most "
            "WALLET_TOP_UP_MAX_PENDING (default 5) of your top-ups may wait for "
            "payment at once (409; cancel one you abandoned with `POST "
            "/api/v1/wallet/top-ups/{id}/cancel/`), and at most "
            "WALLET_TOP_UP_RATE_LIMIT_STARTS "
            "(default 10) may start per WALLET_TOP_UP_RATE_LIMIT_SECONDS "
            "(default an hour; 429). "
            "A repeat with the same Idempotency-Key replays the first answer "
            "and counts against neither."
        ),
        parameters=[IDEMPOTENCY_PARAMETER, RETRY_AFTER_HEADER],
        request=TopUpCreateInput,
        responses={
            201: PaymentSerializer,
            400: ERRORS[400],
            401: ERRORS[401],
            409: TOP_UP_PENDING_LIMIT,
            422: ERRORS[422],
            429: TOP_UP_RATE_LIMITED,
            503: ERRORS[503],
        },
    )
    def create(self, request):
        data = TopUpCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        return idempotent_call(
            request,
            call=lambda claim: services.payment_create(
                user=request.user,
                amount=data.validated_data["amount"],
                idempotency=claim,
            ),
            render=lambda payment: PaymentSerializer(
                payment, context={"request": request}
            ).data,
        )

    @extend_schema(
        summary="Cancel a top-up waiting for payment",
        description=(
            "Closes a pending top-up of yours: its status becomes `cancelled`, "
            "it no longer counts against WALLET_TOP_UP_MAX_PENDING, and the "
            "provider is asked to close its checkout. Should the provider "
            "still report the payment as paid, the wallet is credited all the "
            "same. Cancelling one that is no longer pending (paid, declined, "
            "expired, or cancelled already) is a 409."
        ),
        parameters=[RETRY_AFTER_HEADER],
        request=None,
        responses={
            200: PaymentSerializer,
            401: ERRORS[401],
            404: ERRORS[404],
            409: TOP_UP_NOT_PENDING,
            503: ERRORS[503],
        },
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        payment = services.payment_cancel(user=request.user, payment_id=int(pk))
        return Response(PaymentSerializer(payment, context={"request": request}).data)


@extend_schema_view(
    list=extend_schema(
        summary="Promotion products and prices",
        responses={200: PromotionProductSerializer(many=True)},
    )
)
class PromotionProductViewSet(mixins.ListModelMixin, ScopedGenericViewSet):
    permission_classes = [permissions.AllowAny]
    serializer_class = PromotionProductSerializer

    def get_scoped_queryset(self, user):
        return selectors.product_list()


@extend_schema_view(
    list=extend_schema(
        summary="Promotions you bought",
        description="With the listing's views and favourites at purchase and now.",
        responses={200: PromotionPurchaseSerializer(many=True), 401: ERRORS[401]},
    )
)
class PromotionPurchaseViewSet(mixins.ListModelMixin, ScopedGenericViewSet):
    permission_classes = [permissions.IsAuthenticated, HasScope]
    queryset = PromotionPurchase.objects.none()  # the model, for the schema
    serializer_class = PromotionPurchaseSerializer

    def get_scoped_queryset(self, user):
        return selectors.promotion_purchase_list(user=user)


class ListingPromotionView(APIView):
    """Buy a promotion for one of your listings."""

    # Tokens need the `write` scope to move money.
    permission_classes = [permissions.IsAuthenticated, HasScope]

    @extend_schema(
        summary="Buy a promotion for your listing",
        description=(
            "Debits your wallet by the product's price and switches the "
            "promotion on at once. Only your own, active listings."
        ),
        parameters=[IDEMPOTENCY_PARAMETER],
        request=PromotionPurchaseInput,
        responses={
            201: PromotionPurchaseSerializer,
            400: ERRORS[400],
            401: ERRORS[401],
            403: ERRORS[403],
            404: ERRORS[404],
            409: ERRORS[409],
            422: ERRORS[422],
            503: ERRORS[503],
        },
    )
    def post(self, request, pk: int):
        data = PromotionPurchaseInput(data=request.data)
        data.is_valid(raise_exception=True)
        return idempotent_call(
            request,
            call=lambda claim: services.promotion_purchase(
                user=request.user,
                listing_id=pk,
                product_code=data.validated_data["product"],
                idempotency=claim,
            ),
            render=lambda purchase: PromotionPurchaseSerializer(purchase).data,
        )
