"""Absolute URLs in API answers."""


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
    root = getattr(request, "_absolute_url_root", None)
    if root is None:
        root = request.build_absolute_uri("/")[:-1]
        request._absolute_url_root = root
    return root + url
