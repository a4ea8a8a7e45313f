import factory

from wallet.models import PromotionKind, PromotionProduct


class PromotionProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PromotionProduct
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"promo-{n}")
    kind = PromotionKind.FEATURED
    name = factory.LazyAttribute(lambda o: f"{o.kind.title()} ({o.code})")
    description = "Stands out."
    price = 150_000  # 1 500 ₸
    currency = "KZT"
    duration_days = factory.LazyAttribute(
        lambda o: 0 if o.kind == PromotionKind.BUMP else 7
    )
