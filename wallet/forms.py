from django import forms
from django.conf import settings

from wallet import money
from wallet.models import TransactionKind


class MoneyField(forms.DecimalField):
    """An amount typed in major units ("5000", "5 000,50"), cleaned to an
    integer in minor units of the site currency."""

    def __init__(self, *, allow_negative=False, **kwargs):
        self.allow_negative = allow_negative
        kwargs.setdefault("decimal_places", money.exponent(settings.SITE_CURRENCY))
        kwargs.setdefault("max_digits", 15)
        super().__init__(**kwargs)

    def to_python(self, value):
        if isinstance(value, str):
            value = value.replace(money.NBSP, "").replace(" ", "").replace(",", ".")
        return super().to_python(value)

    def clean(self, value):
        major = super().clean(value)
        if major is None:
            return None
        if not self.allow_negative and major <= 0:
            raise forms.ValidationError("Enter an amount above zero.")
        return money.to_minor(major, settings.SITE_CURRENCY)


class TopUpForm(forms.Form):
    amount = MoneyField(label="Amount")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        low, high = settings.WALLET_TOP_UP_MIN, settings.WALLET_TOP_UP_MAX
        field = self.fields["amount"]
        field.help_text = (
            f"From {money.format_money(low)} to {money.format_money(high)}."
        )
        field.widget.attrs.update(
            {
                "min": str(money.to_major(low)),
                "max": str(money.to_major(high)),
                "step": "any",
                "inputmode": "decimal",
            }
        )

    def quick_amounts(self) -> list[int]:
        """Suggested amounts in minor units, within the bounds."""
        suggestions = [100_000, 500_000, 1_000_000, 2_000_000]
        low, high = settings.WALLET_TOP_UP_MIN, settings.WALLET_TOP_UP_MAX
        return [a for a in suggestions if low <= a <= high]


class HistoryFilterForm(forms.Form):
    kind = forms.ChoiceField(
        choices=[("", "All kinds"), *TransactionKind.choices], required=False
    )
    direction = forms.ChoiceField(
        choices=[("", "In and out"), ("in", "Money in"), ("out", "Money out")],
        required=False,
    )
    date_from = forms.DateField(
        required=False, label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        required=False, label="To", widget=forms.DateInput(attrs={"type": "date"})
    )

    def filters(self) -> dict:
        if not self.is_valid():
            return {}
        return {k: v for k, v in self.cleaned_data.items() if v}


class PromotionChoiceForm(forms.Form):
    product = forms.ChoiceField(widget=forms.RadioSelect, label="Promotion")

    def __init__(self, *args, products, **kwargs):
        super().__init__(*args, **kwargs)
        self.products = {p.code: p for p in products}
        self.fields["product"].choices = [(p.code, p.name) for p in products]

    def clean_product(self):
        return self.products[self.cleaned_data["product"]]


class PromotionConfirmForm(PromotionChoiceForm):
    """The confirmation step: the chosen product and the request's
    idempotency key, so a double-submitted form pays once."""

    product = forms.ChoiceField(widget=forms.HiddenInput)
    idempotency_key = forms.CharField(max_length=64, widget=forms.HiddenInput)


class AdjustmentForm(forms.Form):
    """Admin: credit (positive) or debit (negative) a wallet, with a reason."""

    amount = MoneyField(
        allow_negative=True,
        label="Amount",
        help_text="In major units; negative to debit (e.g. -1500).",
    )
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=500,
        help_text="Required. Shown to the user and kept in the audit log.",
    )

    def clean_amount(self):
        amount = self.cleaned_data["amount"]
        if amount == 0:
            raise forms.ValidationError("The adjustment cannot be zero.")
        return amount

    def clean_reason(self):
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError("Say why the balance is adjusted.")
        return reason
