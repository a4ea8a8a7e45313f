"""What Django's error reports (the DEBUG page, error e-mails) leave out.

granian copies the whole process environment into every WSGI environ
(granian/wsgi.py: `basic_env = dict(os.environ)`), so `request.META` holds
DATABASE_URL with its password, DJANGO_SECRET_KEY, the S3 keys and whatever
else the container was given. Django's default filter hides only names that
look secret (API, TOKEN, KEY, SECRET, PASS, ...): DATABASE_URL or REDIS_URL
would be printed whole. Settings: DEFAULT_EXCEPTION_REPORTER_FILTER.
"""

import os
import re

from django.views.debug import SafeExceptionReporterFilter

# scheme://user:password@host...: the password part.
_URL_PASSWORD = re.compile(r"^([a-z][a-z0-9+.-]*://[^:/@\s]*:)[^@/\s]+(@)", re.I)


class ExceptionReporterFilter(SafeExceptionReporterFilter):
    """Django's filter, and also: every META entry the process environment
    put there, every `*_URL` entry, and the password of any URL (in META and
    in settings: REDIS_URL, CELERY_BROKER_URL, the cache's LOCATION)."""

    def cleanse_setting(self, key, value):
        cleansed = super().cleanse_setting(key, value)
        if isinstance(cleansed, str):
            cleansed = _URL_PASSWORD.sub(rf"\1{self.cleansed_substitute}\2", cleansed)
        return cleansed

    def get_safe_request_meta(self, request):
        meta = super().get_safe_request_meta(request)
        return {
            key: (
                self.cleansed_substitute
                if key in os.environ or key.upper().endswith("_URL")
                else value
            )
            for key, value in meta.items()
        }
