import pytest
from django.core.files.storage import FileSystemStorage, Storage, default_storage
from django.test import RequestFactory
from hypothesis import given
from hypothesis import strategies as st

from core.api.urls import absolute_url, stored_file_url


@pytest.mark.parametrize(
    "url",
    [
        "/listings/12/",
        "/media/listings/2026/11/th%C3%A9.webp",
        "https://cdn.example.com/media/a.jpg",
        "//cdn.example.com/media/a.jpg",
        "media/relative.jpg",
        "/caf\u00e9/",
    ],
)
@pytest.mark.parametrize("secure", [False, True])
def test_absolute_url_is_what_build_absolute_uri_gives(url, secure, settings):
    settings.ALLOWED_HOSTS = ["shop.example.com"]
    request = RequestFactory().get(
        "/api/v1/listings/", HTTP_HOST="shop.example.com:8443", secure=secure
    )
    expected = request.build_absolute_uri(url)
    assert absolute_url(request, url) == expected
    assert absolute_url(request, url) == expected  # the root read once is reused


def test_absolute_url_without_a_request_is_the_url():
    assert absolute_url(None, "/listings/1/") == "/listings/1/"


_NAMES = [
    "listings/2026/11/ab12cd.webp",
    "listings/2026/11/ab12cd_thumb.v2.jpg",
    "a",
    "-_.x",
    "...",
    ".hidden/x.jpg",
    "./x.jpg",
    "a/./x.jpg",
    "a/../x.jpg",
    "..",
    "a/..",
    "a//b.jpg",
    "/abs/x.jpg",
    "a/b/",
    "th\u00e9.webp",
    "with space.jpg",
    "q?x=1.jpg",
    "frag#1.jpg",
    "semi;colon.jpg",
    "c:/x.jpg",
    "http://evil.example/x.jpg",
    "//evil.example/x.jpg",
    "back\\slash.jpg",
    "per%20cent.jpg",
    "tilde~.jpg",
    "",
]


@pytest.mark.parametrize(
    "media_url",
    ["/media/", "/media", "https://cdn.example.com/m/", "//cdn.example.com/m/x/"],
)
@pytest.mark.parametrize("name", _NAMES)
def test_stored_file_url_is_what_the_storage_gives(media_url, name, tmp_path):
    storage = FileSystemStorage(location=tmp_path, base_url=media_url)
    assert stored_file_url(storage, name) == storage.url(name)


@given(st.text(alphabet="ab./-_~%:?#\\ \u00e9", max_size=12))
def test_stored_file_url_is_what_the_storage_gives_for_any_name(name):
    storage = FileSystemStorage(location="/nonexistent", base_url="/media/")
    assert stored_file_url(storage, name) == storage.url(name)


def test_stored_file_url_through_default_storage(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path), "base_url": "/files/"},
        },
    }
    assert stored_file_url(default_storage, "a/b.jpg") == "/files/a/b.jpg"


def test_stored_file_url_leaves_other_storages_their_url():
    class SignedStorage(FileSystemStorage):
        def url(self, name):
            return super().url(name) + "?signature=1"

    class OtherStorage(Storage):
        def url(self, name):
            return f"https://bucket.example.com/{name}"

    signed = SignedStorage(location="/nonexistent", base_url="/media/")
    assert stored_file_url(signed, "a/b.jpg") == "/media/a/b.jpg?signature=1"
    assert stored_file_url(OtherStorage(), "a/b.jpg") == (
        "https://bucket.example.com/a/b.jpg"
    )


def test_stored_file_url_without_a_base_url_raises_as_the_storage_does():
    storage = FileSystemStorage(location="/nonexistent")
    storage.base_url = None  # what MEDIA_URL = None gives
    with pytest.raises(ValueError, match="not accessible via a URL"):
        stored_file_url(storage, "a/b.jpg")
