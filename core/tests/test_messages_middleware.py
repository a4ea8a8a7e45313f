"""core.middleware.MessageMiddleware: Django's, the storage made on first use."""

from django.contrib import messages
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.sessions.middleware import SessionMiddleware
from django.http import HttpResponse
from django.test import RequestFactory
from django.utils.functional import empty

from core.middleware import MessageMiddleware


def _through(view, cookies=None):
    """(request, response) of `view` behind the session and message middleware."""
    request = RequestFactory().get("/")
    request.COOKIES.update(cookies or {})
    seen = []

    def inner(request):
        seen.append(request)
        return view(request)

    response = SessionMiddleware(MessageMiddleware(inner))(request)
    return seen[0], response


def test_untouched_the_storage_is_never_made_and_nothing_is_stored():
    request, response = _through(lambda request: HttpResponse())
    assert request._messages._wrapped is empty
    assert "messages" not in response.cookies
    assert not request.session.accessed


def test_a_message_added_is_stored_and_read_on_the_next_request():
    def add(request):
        messages.success(request, "Saved.")
        assert isinstance(request._messages, FallbackStorage)
        return HttpResponse()

    _, response = _through(add)
    cookie = response.cookies["messages"].value

    read = []

    def show(request):
        read.extend(str(m) for m in messages.get_messages(request))
        return HttpResponse()

    _, response = _through(show, cookies={"messages": cookie})
    assert read == ["Saved."]
    # Read messages are removed: Django's update ran and cleared the cookie.
    assert response.cookies["messages"].value == ""


def test_level_and_get_level_work_through_the_lazy_storage():
    def view(request):
        messages.set_level(request, messages.WARNING)
        messages.info(request, "ignored")
        messages.error(request, "kept")
        assert messages.get_level(request) == messages.WARNING
        return HttpResponse()

    request, _ = _through(view)
    assert [str(m) for m in request._messages._queued_messages] == ["kept"]


def test_installed_in_place_of_djangos(settings):
    assert "core.middleware.MessageMiddleware" in settings.MIDDLEWARE
    assert "django.contrib.messages.middleware.MessageMiddleware" not in (
        settings.MIDDLEWARE
    )
