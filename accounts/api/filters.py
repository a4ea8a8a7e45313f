import django_filters

from accounts.models import User
from accounts.roles import Role
from accounts.selectors import user_filter_by_role, user_search
from core.api.filters import BooleanFilter


class AdminUserFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        method="filter_q", label="Search e-mail, name, phone and city."
    )
    role = django_filters.ChoiceFilter(choices=Role.choices, method="filter_role")
    is_active = BooleanFilter()
    is_verified = BooleanFilter()
    city = django_filters.CharFilter(lookup_expr="iexact")
    joined_after = django_filters.IsoDateTimeFilter(
        field_name="date_joined", lookup_expr="gte"
    )
    joined_before = django_filters.IsoDateTimeFilter(
        field_name="date_joined", lookup_expr="lt"
    )
    ordering = django_filters.OrderingFilter(
        fields=(
            ("date_joined", "date_joined"),
            ("email", "email"),
            ("last_login", "last_login"),
        )
    )

    class Meta:
        model = User
        fields = ["q", "role", "is_active", "is_verified", "city"]

    def filter_q(self, queryset, name, value):
        return user_search(queryset, value)

    def filter_role(self, queryset, name, value):
        return user_filter_by_role(queryset, value)
