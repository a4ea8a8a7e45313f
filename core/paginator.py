"""A paginator for result sets that may be huge (listing search).

Django's Paginator counts every match (`SELECT COUNT(*)`) to number the pages:
at a million listings that count was nearly all of a search's database time
(131 of 132 ms for the newest page, 1,255 of 1,258 ms for nearby; see
bench/FINDINGS.md, 2) and it grows with the matches. This one counts at most
`cap + 1` rows (`SELECT COUNT(*) FROM (... LIMIT cap + 1)`), so a page costs the
same however many listings match, and only the first `cap` results can be
paged through, which also keeps every OFFSET small. People see "1,000+
results" and narrow the search, as on every large marketplace.
"""

from django.core.paginator import Paginator
from django.utils.functional import cached_property

SEARCH_RESULTS_CAP = 1000


class CappedPaginator(Paginator):
    def __init__(self, object_list, per_page, *, cap=SEARCH_RESULTS_CAP, **kwargs):
        self.cap = cap
        super().__init__(object_list, per_page, **kwargs)

    @cached_property
    def _bounded_count(self) -> int:
        """Matches counted up to cap + 1. Ordering dropped: the count does not
        need it, and ranking every row for it would be the cost we avoid."""
        object_list = self.object_list
        if hasattr(object_list, "order_by"):
            return object_list.order_by().values("pk")[: self.cap + 1].count()
        return len(object_list[: self.cap + 1])

    @cached_property
    def count(self) -> int:
        """The number of results that can be paged through: at most `cap`."""
        return min(self._bounded_count, self.cap)

    @property
    def count_is_exact(self) -> bool:
        """False when more than `cap` listings match (shown as "1,000+")."""
        return self._bounded_count <= self.cap
