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
from core.paginator import MAX_PAGES, ProbePaginator, probe_reach


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


class ProbePagination(PageNumberPagination):
    """Listing search: pages without a count (core/paginator.py). A page says
    whether a next one exists (`next`); pages go up to MAX_PAGES. `fetch`:
    see ProbePaginator."""

    fetch = None

    def _page_number(self, request) -> int:
        raw = request.query_params.get(self.page_query_param, "")
        if raw == "":
            return 1
        return _positive_int(raw, self.page_query_param, "The page number")

    def reach(self, request) -> int:
        """How many results the requested page reads (see probe_reach)."""
        return probe_reach(self._page_number(request), self.get_page_size(request))

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        number = self._page_number(request)
        paginator = ProbePaginator(
            queryset, self.get_page_size(request), fetch=self.fetch
        )
        self.page = paginator.page(number)
        return list(self.page)

    def get_paginated_response(self, data):
        return Response(
            {
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema):
        response = super().get_paginated_response_schema(schema)
        del response["properties"]["count"]
        response["required"] = ["results"]
        response["properties"]["next"]["description"] = (
            "The next page, or null on the last one. There is no total count: "
            f"walk `next`; pages go up to {MAX_PAGES}."
        )
        return response

    def get_schema_operation_parameters(self, view):
        page, size = super().get_schema_operation_parameters(view)
        page["description"] = (
            f"Page number, from 1 to {MAX_PAGES}; past the last page (or "
            f"{MAX_PAGES}) the results are empty."
        )
        return [page, size]
