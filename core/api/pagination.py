"""Pagination of every API list.

`page` and `page_size` are validated like any other input: a page or page size
that is not a whole number of at least 1 answers 400 naming the parameter
(DRF silently ignored a bad `page_size` and answered 404 to `page=abc`). A page
past the last one is an empty page (200, `results: []`, `previous` pointing at
the last page), so a client walking the pages stops cleanly.
"""

from django.core.paginator import Page
from rest_framework import exceptions, pagination
from rest_framework.response import Response

from core.errors import ValidationError
from core.paginator import SEARCH_RESULTS_CAP, CappedPaginator


def _positive_int(raw: str, name: str, label: str) -> int:
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise ValidationError(f"{label} must be a whole number.", field=name) from None
    if value < 1:
        raise ValidationError(f"{label} must be 1 or more.", field=name)
    return value


class _PageSizeMixin:
    page_size_query_param = "page_size"
    max_page_size = 100

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param, "")
        if raw == "":
            return self.page_size
        size = _positive_int(raw, self.page_size_query_param, "The page size")
        return min(size, self.max_page_size)

    def _page_size_parameter(self) -> dict:
        return {
            "name": self.page_size_query_param,
            "required": False,
            "in": "query",
            "description": f"Results per page, 1 to {self.max_page_size} "
            f"(default {self.page_size}); larger values are capped.",
            "schema": {"type": "integer", "minimum": 1},
        }


class _PastTheEnd(Page):
    """An empty page after the last one; its previous page is the last page."""

    def has_next(self):
        return False

    def has_previous(self):
        return True

    def previous_page_number(self):
        return self.paginator.num_pages


class PageNumberPagination(_PageSizeMixin, pagination.PageNumberPagination):
    page_size = 20

    def get_page_number(self, request, paginator):
        raw = request.query_params.get(self.page_query_param, "")
        if raw == "":
            return 1
        if raw in self.last_page_strings:
            return paginator.num_pages
        return _positive_int(raw, self.page_query_param, "The page number")

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        page_size = self.get_page_size(request)
        paginator = self.django_paginator_class(queryset, page_size)
        number = self.get_page_number(request, paginator)
        if number > paginator.num_pages:
            self.page = _PastTheEnd([], number, paginator)
        else:
            self.page = paginator.page(number)
        if paginator.num_pages > 1 and self.template is not None:
            self.display_page_controls = True
        return list(self.page)

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": self.page_query_param,
                "required": False,
                "in": "query",
                "description": "Page number, from 1; past the last page the "
                "results are empty.",
                "schema": {"type": "integer", "minimum": 1},
            },
            self._page_size_parameter(),
        ]


class NewestCursorPagination(_PageSizeMixin, pagination.CursorPagination):
    page_size = 20
    ordering = ("-created_at", "-pk")

    def decode_cursor(self, request):
        try:
            return super().decode_cursor(request)
        except exceptions.NotFound:
            raise ValidationError(
                "This cursor is not valid; use the `next` or `previous` link "
                "of a previous page.",
                field=self.cursor_query_param,
            ) from None

    def get_schema_operation_parameters(self, view):
        cursor, _ = super().get_schema_operation_parameters(view)[:2]
        return [cursor, self._page_size_parameter()]


class CappedCountPagination(PageNumberPagination):
    """Listing search: `count` stops at SEARCH_RESULTS_CAP (see
    core/paginator.py), `count_is_exact` says whether more match, and only
    those first results are paged through; a page past them is empty."""

    django_paginator_class = CappedPaginator

    def get_paginated_response(self, data):
        return Response(
            {
                "count": self.page.paginator.count,
                "count_is_exact": self.page.paginator.count_is_exact,
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema):
        response = super().get_paginated_response_schema(schema)
        properties = response["properties"]
        properties["count"]["description"] = (
            f"Matching listings, counted up to {SEARCH_RESULTS_CAP}; only "
            "that many can be paged through."
        )
        properties = {
            "count": properties.pop("count"),
            "count_is_exact": {
                "type": "boolean",
                "description": f"False when more than {SEARCH_RESULTS_CAP} "
                "listings match: narrow the search to see the rest.",
            },
            **properties,
        }
        response["properties"] = properties
        response["required"] = ["count", "count_is_exact", "results"]
        return response
