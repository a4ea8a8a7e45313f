import factory
from django.contrib.gis.geos import Point
from django.utils import timezone

from accounts.tests.factories import UserFactory
from listings.models import Category, Condition, Listing, ListingStatus


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category
        django_get_or_create = ("slug",)
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Category {n}")
    slug = factory.Sequence(lambda n: f"category-{n}")

    @factory.post_generation
    def _path(self, create, extracted, **kwargs):
        # Mirror listings.services: the path of primary keys from the root.
        if create and not self.path:
            prefix = self.parent.path if self.parent_id else "/"
            self.path = f"{prefix}{self.pk}/"
            Category.objects.filter(pk=self.pk).update(path=self.path)


class ListingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Listing

    owner = factory.SubFactory(UserFactory)
    category = factory.SubFactory(CategoryFactory)
    title = factory.Sequence(lambda n: f"Listing {n}")
    description = "A fine thing in good condition."
    price = 100_000  # 1,000.00 KZT in tiyn
    currency = "KZT"
    condition = Condition.USED
    city = "Almaty"
    location = factory.LazyFunction(lambda: Point(76.9286, 43.2567, srid=4326))
    status = ListingStatus.ACTIVE
    # An archived listing says what it was (a check constraint): active unless
    # a test says otherwise.
    archived_from = factory.LazyAttribute(
        lambda o: ListingStatus.ACTIVE if o.status == ListingStatus.ARCHIVED else ""
    )
    published_at = factory.LazyFunction(timezone.now)
    bumped_at = factory.LazyFunction(timezone.now)
    expires_at = factory.LazyFunction(
        lambda: timezone.now() + timezone.timedelta(days=30)
    )
    # Mirror listing_apply_promotion: a running top/featured promotion sets
    # the stored flag search orders by.
    is_promoted = factory.LazyAttribute(
        lambda o: any(
            until is not None and until > timezone.now()
            for until in (o.top_until, o.featured_until)
        )
    )
    top_until = None
    featured_until = None


def bulk_insert_listings(select_sql: str, params: dict) -> None:
    """PostgreSQL tests that need thousands of rows for the planner:
    `INSERT INTO listings_listing (...) <select_sql>`, the SELECT giving, in
    order: owner_id, category_id, title, description, price, currency,
    is_negotiable, condition, city, location, attributes, status,
    rejection_reason, created_at, updated_at, published_at, expires_at,
    bumped_at, view_count, favourite_count, is_promoted."""
    from django.db import connection

    columns = (
        "owner_id, category_id, title, description, price, currency, "
        "is_negotiable, condition, city, location, attributes, status, "
        "rejection_reason, created_at, updated_at, published_at, expires_at, "
        "bumped_at, view_count, favourite_count, is_promoted"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO listings_listing ({columns}) {select_sql}",
            params,
        )
