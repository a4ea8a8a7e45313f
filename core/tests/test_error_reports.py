"""Error reports do not print the process environment granian copies into
request.META, nor passwords in URLs."""

import secrets

from django.conf import settings
from django.test import RequestFactory
from django.views.debug import ExceptionReporter, get_default_exception_reporter_filter

from core.error_reports import ExceptionReporterFilter

HIDDEN = ExceptionReporterFilter.cleansed_substitute
# Made up per run, so the report's source excerpts cannot contain them.
PASSWORD = secrets.token_hex(8)
MADE_UP = secrets.token_hex(8)
DATABASE_URL = f"postgis://marketplace:{PASSWORD}@db:5432/marketplace"


def _request_with_the_environment(monkeypatch):
    """A request as granian builds it: the process environment, then the
    request's own entries."""
    monkeypatch.setenv("DATABASE_URL", DATABASE_URL)
    monkeypatch.setenv("MARKETPLACE_MADE_UP", MADE_UP)
    environment = {"DATABASE_URL": DATABASE_URL, "MARKETPLACE_MADE_UP": MADE_UP}
    return RequestFactory().get(
        "/listings/?q=bike",
        HTTP_USER_AGENT="Firefox",
        HTTP_X_CALLBACK_URL="https://user:pw@example.com/",
        **environment,
    )


def test_the_project_filter_is_the_default():
    assert isinstance(get_default_exception_reporter_filter(), ExceptionReporterFilter)


def test_meta_from_the_process_environment_and_urls_is_cleansed(monkeypatch):
    request = _request_with_the_environment(monkeypatch)

    meta = ExceptionReporterFilter().get_safe_request_meta(request)

    assert meta["DATABASE_URL"] == HIDDEN
    assert meta["MARKETPLACE_MADE_UP"] == HIDDEN
    assert meta["HTTP_X_CALLBACK_URL"] == HIDDEN
    # The request's own entries stay readable.
    assert meta["PATH_INFO"] == "/listings/"
    assert meta["QUERY_STRING"] == "q=bike"
    assert meta["HTTP_USER_AGENT"] == "Firefox"
    assert meta["REQUEST_METHOD"] == "GET"


def test_passwords_in_urls_are_cleansed_in_settings(settings):
    settings.REDIS_URL = "redis://:redis-password@redis:6379/0"
    settings.CELERY_BROKER_URL = "redis://default:redis-password@redis:6379/0"
    settings.SITE_URL = "https://market.example.com"

    safe = ExceptionReporterFilter().get_safe_settings()

    assert safe["REDIS_URL"] == f"redis://:{HIDDEN}@redis:6379/0"
    assert safe["CELERY_BROKER_URL"] == f"redis://default:{HIDDEN}@redis:6379/0"
    assert safe["SITE_URL"] == "https://market.example.com"


def test_the_debug_page_and_the_error_mail_show_none_of_it(monkeypatch):
    request = _request_with_the_environment(monkeypatch)
    try:
        raise RuntimeError("boom")
    except RuntimeError as error:
        reporter = ExceptionReporter(request, type(error), error, error.__traceback__)

    for report in (reporter.get_traceback_html(), reporter.get_traceback_text()):
        assert PASSWORD not in report
        assert MADE_UP not in report
        assert "boom" in report
    assert settings.SECRET_KEY not in reporter.get_traceback_text()
