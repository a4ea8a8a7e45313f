"""The order of the URLconf: the API comes first (marketplace/urls.py), which
is only safe while no other pattern can match a path the API answers."""

import re

from django.urls import get_resolver, resolve
from django.urls.resolvers import URLResolver

# A pattern's first path segment when it is plain text ("listings" of
# `listings/<int:pk>/`, `^listings/(?P<pk>[0-9]+)/$`); None when it starts
# with a converter or a regex that could match anything.
_LITERAL_SEGMENT = re.compile(r"\^?([-\w.]*)(/|\$|$)")


def _first_segments(resolver, prefix=""):
    """(first segment of the full path, full pattern) of every leaf under
    `resolver`, the `""` includes walked through."""
    for pattern in resolver.url_patterns:
        text = prefix + str(pattern.pattern).removeprefix("^")
        if isinstance(pattern, URLResolver):
            yield from _first_segments(pattern, text)
            continue
        match = _LITERAL_SEGMENT.match(text)
        segment = match[1] if match and match[1] else None
        if text in ("", "$"):
            segment = ""  # the home page: the empty path only
        yield segment, text


def _include(resolver, urlconf_name):
    return next(
        p
        for p in resolver.url_patterns
        if isinstance(p, URLResolver)
        and getattr(p.urlconf_module, "__name__", "") == urlconf_name
    )


def test_no_page_pattern_can_match_under_the_api():
    root = get_resolver()
    api = _include(root, "marketplace.api_urls")
    others = [
        leaf
        for p in root.url_patterns
        if p is not api
        for leaf in _first_segments(_Holding(p))
    ]
    assert len(others) > 100
    for segment, text in others:
        assert segment is not None, f"{text!r} may match any first segment"
        assert not text.startswith("api/v1/"), text


def test_the_listing_routes_share_no_first_segment_with_the_routes_after_them():
    api = _include(get_resolver(), "marketplace.api_urls")
    listings = _include(api, "listings.api.urls")
    moved = [
        _include(api, "accounts.api.urls"),
        _include(api, "accounts.api.urls_notifications"),
    ]
    listing_segments = {segment for segment, _ in _first_segments(listings)}
    for include in moved:
        for segment, text in _first_segments(include):
            assert segment is not None, f"{text!r} may match any first segment"
            assert segment not in listing_segments, text


def test_api_paths_resolve_to_their_views():
    assert resolve("/api/v1/listings/12/").url_name == "api-listing-detail"
    assert resolve("/api/v1/listings/").url_name == "api-listing-list"
    assert resolve("/api/v1/me/").url_name == "api_me"
    assert resolve("/api/v1/").url_name == "api_root"
    assert resolve("/listings/12/").view_name == "listings:detail"
    assert resolve("/").url_name == "home"


class _Holding:
    """A resolver's view of one pattern: its url_patterns are just it."""

    def __init__(self, pattern):
        self.url_patterns = [pattern]


def test_no_two_patterns_share_a_name_so_the_order_changes_no_reverse():
    names = []

    def walk(resolver, namespace=""):
        for pattern in resolver.url_patterns:
            if isinstance(pattern, URLResolver):
                inner = f"{pattern.namespace}:" if pattern.namespace else ""
                walk(pattern, namespace + inner)
            elif pattern.name:
                names.append(namespace + pattern.name)

    walk(get_resolver())
    assert len(names) > 100
    assert sorted({n for n in names if names.count(n) > 1}) == []
