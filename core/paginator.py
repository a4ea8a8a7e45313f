"""Pages of result sets that may be huge (listing search), without COUNT(*).

Django's Paginator counts every match to number the pages. At a million
listings that count was nearly all of a search's database time (131 of 132 ms
for the newest page, 1,255 of 1,258 ms for nearby; bench/FINDINGS.md, 2), and
even a count capped at 1,001 rows cost 40-190 ms for a common word, because
each match must be read from the table. A ProbePaginator reads one row past
the page instead: that row says whether a next page exists. Only the first
MAX_PAGES pages can be reached, which keeps every OFFSET small; people narrow
the search instead, as on every large marketplace.
"""

from django.core.paginator import (
    EmptyPage,
    InvalidPage,
    Page,
    PageNotAnInteger,
    Paginator,
)

MAX_PAGES = 50


class ProbePaginator(Paginator):
    def __init__(self, object_list, per_page, *, max_pages=MAX_PAGES, fetch=None):
        """`fetch(object_list, start, stop)` reads rows (default: a slice)."""
        super().__init__(object_list, per_page)
        self.max_pages = max_pages
        self.fetch = fetch or (lambda rows, start, stop: list(rows[start:stop]))
        self._number = None
        self._has_next = False
        self._seen = 0

    def validate_number(self, number):
        """A whole number from 1, with no upper bound: a page past the results
        is empty (reading it costs no more than any other page)."""
        try:
            if isinstance(number, float) and not number.is_integer():
                raise ValueError
            number = int(number)
        except (TypeError, ValueError):
            raise PageNotAnInteger("That page number is not an integer") from None
        if number < 1:
            raise EmptyPage("That page number is less than 1")
        return number

    def page(self, number):
        number = self.validate_number(number)
        rows = []
        if number <= self.max_pages:
            start = (number - 1) * self.per_page
            rows = self.fetch(self.object_list, start, start + self.per_page + 1)
        self._number = number
        self._has_next = len(rows) > self.per_page and number < self.max_pages
        rows = rows[: self.per_page]
        self._seen = (number - 1) * self.per_page + len(rows) if rows else 0
        return Page(rows, number, self)

    def get_page(self, number):
        """Like Paginator.get_page: a bad number gives the first page."""
        try:
            number = self.validate_number(number)
        except InvalidPage:
            number = 1
        return self.page(number)

    @property
    def count(self) -> int:
        """Results up to the end of the page read (more exist if has_next)."""
        return self._seen

    @property
    def count_is_exact(self) -> bool:
        """True when the page read is the last one: `count` is the total."""
        return not self._has_next and (self._seen > 0 or self._number == 1)

    @property
    def num_pages(self) -> int:
        """The pages known so far: up to the one read, plus one if a next
        page exists (page links go no further than that)."""
        if self._number is None:
            return 1
        return self._number + 1 if self._has_next else self._number


def probe_reach(number, per_page: int, *, max_pages: int = MAX_PAGES) -> int:
    """How many results the page `number` reads, its probe row included: a
    search that can stop early (nearest first) scans no further. A bad number
    counts as the first page, as ProbePaginator.get_page treats it."""
    try:
        number = max(1, int(number))
    except (TypeError, ValueError):
        number = 1
    return min(number, max_pages) * per_page + 1
