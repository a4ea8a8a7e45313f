"""Absolute URLs in API answers."""

import re

from django.core.files.storage import FileSystemStorage


def absolute_url(request, url: str) -> str:
    """`request.build_absolute_uri(url)`, or `url` without a request.

    A path of ours (`/listings/1/`, a stored file's URL) is already quoted: it
    gets the request's scheme and host, read once per request, in front.
    build_absolute_uri parses and re-quotes every URL, and a page of 20 cards
    has ~60 of them: a tenth of its CPU."""
    if request is None:
        return url
    if not (url.startswith("/") and url.isascii()) or url.startswith("//"):
        return request.build_absolute_uri(url)
    return site_root(request) + url


def site_root(request) -> str:
    """What `absolute_url` puts before a path of ours: the request's scheme
    and host ("https://shop.example.com"), "" without a request."""
    if request is None:
        return ""
    root = getattr(request, "_absolute_url_root", None)
    if root is None:
        root = request.build_absolute_uri("/")[:-1]
        request._absolute_url_root = root
    return root


# A stored name that FileSystemStorage.url would neither quote nor change by
# joining: "/"-separated segments of ASCII letters, digits, "-", "_" and ".",
# none of them empty, "." or "..". upload_to and core.images give only these.
_SEGMENT = r"(?!\.\.?(?:/|\Z))[-A-Za-z0-9_.]+"
_PLAIN_NAME = re.compile(rf"{_SEGMENT}(?:/{_SEGMENT})*\Z")


def stored_file_url(storage, name: str) -> str:
    """`storage.url(name)`.

    FileSystemStorage.url quotes the name and urljoins it to MEDIA_URL, ~5 us
    a URL, and a detail has up to 21 of them. For a plain name (above) both
    are the identity and the URL is MEDIA_URL + name. Other storages (S3),
    subclasses that change `url` and other names go through `storage.url`."""
    return stored_file_urls(storage)(name)


def stored_file_urls(storage):
    """`stored_file_url` for the names of one response: `storage` (usually
    default_storage's proxy, ~1 us an attribute) is looked at once."""
    url = storage.url
    if getattr(url, "__func__", None) is not FileSystemStorage.url:
        return url
    base_url = url.__self__.base_url
    if base_url is None:
        return url  # raises as the storage does

    def plain_or_storage_url(name: str) -> str:
        return base_url + name if _PLAIN_NAME.match(name) else url(name)

    return plain_or_storage_url
