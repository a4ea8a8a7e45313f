"""Settings for the marketplace.

Everything that differs between the embedded default (no services) and
production comes from the environment; see `.env.example`. With no environment
set you get SpatiaLite, an in-memory channel layer, a local-memory cache, media
on disk, console e-mail and background jobs run in-process.
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if env.bool("DJANGO_READ_DOT_ENV", default=True) and (BASE_DIR / ".env").is_file():
    env.read_env(BASE_DIR / ".env")

DEBUG = env.bool("DJANGO_DEBUG", default=True)

# A development key is fine on a laptop; production must bring its own.
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "django-insecure-local-development-only-key"  # noqa: S105

ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
SITE_NAME = env.str("SITE_NAME", default="Bazaar")
SITE_ID = 1

INSTALLED_APPS = [
    # daphne replaces runserver with an ASGI server that also speaks websockets.
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.sites",
    "django.contrib.gis",
    "django.contrib.humanize",
    "channels",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.headless",
    "allauth.usersessions",
    "core",
    "accounts",
    "listings",
    "chat",
    "deals",
    "wallet",
]

MIDDLEWARE = [
    # Behind the edge proxy: REMOTE_ADDR becomes the client's address (only
    # installed when DJANGO_TRUSTED_PROXY_COUNT > 0; see core/middleware.py).
    "core.middleware.ClientAddressMiddleware",
    # Health probes reach the backend by its internal address over plain
    # HTTP, so /healthz answers before host validation and the HTTPS redirect.
    "core.middleware.HealthCheckMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Django's, minus path lookups for i18n_patterns, which we do not use.
    "core.middleware.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Django's, with the message storage made on first use.
    "core.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "allauth.usersessions.middleware.UserSessionsMiddleware",
]

ROOT_URLCONF = "marketplace.urls"
WSGI_APPLICATION = "marketplace.wsgi.application"
ASGI_APPLICATION = "marketplace.asgi.application"
# A server process freezes its long-lived objects out of the garbage
# collector's way when it loads the application (core.gcfreeze). The test
# run turns it off (root conftest): it imports marketplace.asgi for its tests.
GC_FREEZE = True

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "core.context_processors.site",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------
# spatialite:///path (default) or postgis://user:pass@host:port/name
DATABASES = {
    "default": env.db(
        "DATABASE_URL", default=f"spatialite:///{BASE_DIR / 'db.sqlite3'}"
    )
}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DATABASE_IS_POSTGRES = "postgis" in DATABASES["default"]["ENGINE"]
DATABASE_PREPARED_STATEMENTS = env.bool("DATABASE_PREPARED_STATEMENTS", default=True)
if DATABASE_IS_POSTGRES:
    # PostGIS functions carry high planner costs, which make PostgreSQL's JIT
    # compile sub-millisecond queries for tens of milliseconds: keep it off.
    # Client-side parameter binding (psycopg's default here) stays on; reused
    # server-side plans made spatial searches far slower.
    # work_mem: at the server's default 4 MB the bitmaps of a text + category
    # + price search go lossy at 1M listings (Heap Blocks: lossy=23342, 175k
    # rows rechecked); 32 MB measured "tyres" in Spare parts 383 -> 88 ms
    # (bench/FINDINGS.md, 4). Per sort/hash node, per connection.
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = (
        "-c jit=off -c work_mem=32MB"
    )
    # Prepared statements only where core.prepared asks for them: reads by
    # primary key, whose plan is the same for every key (planning was three
    # quarters of a listing detail's database time). Off for a connection
    # pooler in transaction mode that cannot keep them (pgbouncer < 1.21).
    if DATABASE_PREPARED_STATEMENTS:
        DATABASES["default"]["OPTIONS"]["prepare_threshold"] = 2**31 - 1
    # A connection pool (psycopg_pool, Django >= 5.1) by default: under ASGI
    # every request's sync code runs in a thread of its own, and with
    # CONN_MAX_AGE > 0 each finished thread kept its connection open until the
    # server refused new ones; with CONN_MAX_AGE = 0 every request paid a new
    # connection (detail at 1M: 36.6 req/s without, 72.0 with the pool;
    # bench/FINDINGS.md, 6). A pool replaces persistent connections.
    if env.bool("DATABASE_POOL", default=True):
        DATABASES["default"]["CONN_MAX_AGE"] = 0
        # Health checks of pooled connections only when the last one is
        # older than DATABASE_POOL_CHECK_INTERVAL seconds, not at every hand-out
        # (core/dbpool.py; the backend installs the check in Django's pool).
        DATABASES["default"]["ENGINE"] = "core.backends.postgis"
        DATABASES["default"]["OPTIONS"]["pool"] = {
            "min_size": env.int("DATABASE_POOL_MIN_SIZE", default=2),
            "max_size": env.int("DATABASE_POOL_MAX_SIZE", default=8),
            # Waiting longer for a free connection only piles requests up.
            "timeout": env.float("DATABASE_POOL_TIMEOUT", default=10.0),
        }
else:
    # SQLite: wait for a busy database instead of failing at once.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE"}
    )
DATABASE_POOL_CHECK_INTERVAL = env.float("DATABASE_POOL_CHECK_INTERVAL", default=1.0)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: cache, channel layer, broker -----------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")

if REDIS_URL:
    CACHES = {
        "default": {
            # Django's, reusing its redis-py client (see core/cache.py).
            "BACKEND": "core.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="mp"),
            # A Redis that hangs must fail requests quickly, not pile them up.
            "OPTIONS": {"socket_connect_timeout": 3, "socket_timeout": 5},
        }
    }
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                "hosts": [REDIS_URL],
                "prefix": env.str("CHANNELS_PREFIX", default="mp-asgi"),
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# Background jobs: Celery on Redis in production; run in-process otherwise.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "memory://")
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = "UTC"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# CELERY_BEAT_SCHEDULE is set in marketplace/celery.py (not here: it would win).
# `celery beat` keeps its last-run times here; the folder must be writable.
CELERY_BEAT_SCHEDULE_FILENAME = env.str(
    "CELERY_BEAT_SCHEDULE_FILENAME",
    default=str(BASE_DIR / "var" / "celerybeat-schedule"),
)

# --- Files ----------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = env.str("MEDIA_URL", default="/media/")
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 15 * 1024 * 1024

AWS_STORAGE_BUCKET_NAME = env.str("AWS_STORAGE_BUCKET_NAME", default="")
if AWS_STORAGE_BUCKET_NAME:
    MEDIA_BACKEND = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": AWS_STORAGE_BUCKET_NAME,
            "endpoint_url": env.str("AWS_S3_ENDPOINT_URL", default="") or None,
            "region_name": env.str("AWS_S3_REGION_NAME", default="") or None,
            "access_key": env.str("AWS_ACCESS_KEY_ID", default="") or None,
            "secret_key": env.str("AWS_SECRET_ACCESS_KEY", default="") or None,
            "custom_domain": env.str("AWS_S3_CUSTOM_DOMAIN", default="") or None,
            "querystring_auth": env.bool("AWS_QUERYSTRING_AUTH", default=False),
            "file_overwrite": False,
            "default_acl": None,
        },
    }
else:
    MEDIA_BACKEND = {"BACKEND": "django.core.files.storage.FileSystemStorage"}

STORAGES = {
    "default": MEDIA_BACKEND,
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# --- E-mail -------------------------------------------------------------------
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Bazaar <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Auth -----------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
_PV = "django.contrib.auth.password_validation"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": f"{_PV}.UserAttributeSimilarityValidator"},
    {"NAME": f"{_PV}.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": f"{_PV}.CommonPasswordValidator"},
    {"NAME": f"{_PV}.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"

ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_CHANGE_EMAIL = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_ADAPTER = "accounts.adapters.AccountAdapter"
ACCOUNT_EMAIL_SUBJECT_PREFIX = f"[{SITE_NAME}] "
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https" if not DEBUG else "http"
# Repeated failed logins lock the account (per key) and the client (per IP) out
# for a while; allauth applies these to the admin login too (secure_admin_login).
ACCOUNT_RATE_LIMITS = {
    "login_failed": env.str("ACCOUNT_LOGIN_FAILED_LIMIT", default="10/m/ip,5/5m/key"),
}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = SITE_NAME

# allauth headless: the app API under /_allauth/app/v1/ issues JWT access tokens.
HEADLESS_ONLY = False
HEADLESS_CLIENTS = ("app", "browser")
HEADLESS_TOKEN_STRATEGY = "accounts.tokens.ScopedJWTTokenStrategy"  # noqa: S105
HEADLESS_JWT_PRIVATE_KEY = env.str("HEADLESS_JWT_PRIVATE_KEY", default="")
# RS256 with a key from the environment in production; without one, HS256
# signed with SECRET_KEY (allauth's fallback), fine for a single deployment.
HEADLESS_JWT_ALGORITHM = "RS256" if HEADLESS_JWT_PRIVATE_KEY else "HS256"
HEADLESS_JWT_ACCESS_TOKEN_EXPIRES_IN = env.int("JWT_ACCESS_TOKEN_SECONDS", default=300)
HEADLESS_JWT_REFRESH_TOKEN_EXPIRES_IN = env.int(
    "JWT_REFRESH_TOKEN_SECONDS", default=86400
)
# Ending a session (log out, "end all sessions") must kill its access tokens too.
HEADLESS_JWT_STATEFUL_VALIDATION_ENABLED = True
HEADLESS_FRONTEND_URLS = {
    "account_confirm_email": f"{SITE_URL}/accounts/confirm-email/{{key}}/",
    "account_reset_password_from_key": (
        f"{SITE_URL}/accounts/password/reset/key/{{key}}/"
    ),
    "account_signup": f"{SITE_URL}/accounts/signup/",
}
# Sessions are listed (and can be ended) without per-request activity tracking,
# which would cost five queries and a write on every page a user opens.
USERSESSIONS_TRACK_ACTIVITY = False

# --- API ------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.api.authentication.JWTAccessTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # DRF's, reading Accept from META (no request.headers built per request).
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "core.api.negotiation.ContentNegotiation",
    "DEFAULT_PAGINATION_CLASS": "core.api.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "core.api.exceptions.exception_handler",
    "DEFAULT_THROTTLE_RATES": {"anon": "120/min", "user": "600/min"},
    # Throttles know clients by REMOTE_ADDR, which ClientAddressMiddleware
    # sets behind a proxy; never by an X-Forwarded-For the client wrote.
    "NUM_PROXIES": 0,
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": f"{SITE_NAME} API",
    "DESCRIPTION": (
        "Versioned API of the marketplace. Authenticate with a JWT access token "
        "from the allauth headless app API (`/_allauth/app/v1/auth/login`) sent "
        "as `Authorization: Bearer <token>`; see the README for the full flow."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
}

# --- i18n -----------------------------------------------------------------------
LANGUAGE_CODE = "en"
TIME_ZONE = env.str("TIME_ZONE", default="Asia/Almaty")
USE_I18N = True
USE_TZ = True

# --- Marketplace ----------------------------------------------------------------
SITE_CURRENCY = env.str("SITE_CURRENCY", default="KZT")
LISTING_LIFETIME_DAYS = env.int("LISTING_LIFETIME_DAYS", default=30)
LISTING_EXPIRY_WARNING_DAYS = env.int("LISTING_EXPIRY_WARNING_DAYS", default=3)
LISTINGS_REQUIRE_REVIEW = env.bool("LISTINGS_REQUIRE_REVIEW", default=False)
# Newest-first text search reads its pages from the RUM indexes where
# migration 0006 could build them (the optional `rum` extension); false reads
# them the plain way, with the same results (docs/listings.md, Search).
LISTINGS_SEARCH_RUM = env.bool("LISTINGS_SEARCH_RUM", default=True)
MAP_TILE_URL = env.str(
    "MAP_TILE_URL", default="https://tile.openstreetmap.org/{z}/{x}/{y}.png"
)
MAP_TILE_ATTRIBUTION = env.str(
    "MAP_TILE_ATTRIBUTION", default="&copy; OpenStreetMap contributors"
)

# --- Security -------------------------------------------------------------------
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=not DEBUG)
# TLS ends at a proxy in front (deploy/nginx.conf.template passes on the
# scheme the client used). The Host header reaches Django as the client sent it,
# so USE_X_FORWARDED_HOST stays off.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# How many proxies in front each add the address they saw to X-Forwarded-For
# (the edge proxy: 1). 0: REMOTE_ADDR is the connection's peer, and
# X-Forwarded-For, which anyone can send, is ignored.
TRUSTED_PROXY_COUNT = env.int("DJANGO_TRUSTED_PROXY_COUNT", default=0)
SECURE_HSTS_SECONDS = env.int(
    "DJANGO_SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000
)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Error reports (DEBUG pages, error e-mails) hide what granian copies from the
# process environment into request.META (DATABASE_URL, the secret key, ...)
# and the passwords in URLs.
DEFAULT_EXCEPTION_REPORTER_FILTER = "core.error_reports.ExceptionReporterFilter"
SILENCED_SYSTEM_CHECKS = [
    # Debian 12's GDAL 3.6 cannot block file/network access while parsing
    # spatial references. We never hand user input to GDAL: coordinates arrive
    # as two bounded floats and become points in code, never WKT or an SRS.
    "gis.W001",
]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "daphne": {"level": "WARNING"},
    },
}

# --- accounts ---
# Avatars are checked and re-encoded by core.images.clean_image.
AVATAR_MAX_BYTES = env.int("AVATAR_MAX_BYTES", default=5 * 1024 * 1024)
AVATAR_MAX_PIXELS = env.int("AVATAR_MAX_PIXELS", default=40_000_000)
# Sign-up (page and app API) also asks for the display name.
ACCOUNT_SIGNUP_FORM_CLASS = "accounts.forms.SignupExtraForm"

# --- notifications ---
# A user's digest goes out once their oldest waiting notification is this old,
# so nobody gets more than one digest e-mail per interval (beat checks hourly).
NOTIFICATION_DIGEST_INTERVAL_HOURS = env.int(
    "NOTIFICATION_DIGEST_INTERVAL_HOURS", default=24
)
# Named enums in the API schema for the notification kinds and e-mail frequencies.
SPECTACULAR_SETTINGS.setdefault("ENUM_NAME_OVERRIDES", {}).update(
    {
        "NotificationKindEnum": "accounts.models.NotificationKind",
        "EmailFrequencyEnum": "accounts.models.EmailFrequency",
        "MandatoryEmailFrequencyEnum": [
            ("instant", "Right away"),
            ("daily", "Daily digest"),
        ],
    }
)

# --- listings ---
# Photos: byte and pixel limits per upload, photos per listing.
LISTING_IMAGE_MAX_BYTES = env.int("LISTING_IMAGE_MAX_BYTES", default=10 * 1024 * 1024)
LISTING_IMAGE_MAX_PIXELS = env.int("LISTING_IMAGE_MAX_PIXELS", default=40_000_000)
LISTING_MAX_IMAGES = env.int("LISTING_MAX_IMAGES", default=10)
# Currencies a listing may be priced in (the site currency first).
LISTING_CURRENCIES = env.list("LISTING_CURRENCIES", default=[SITE_CURRENCY, "USD"])

# --- listings pages ---
# Where maps open when there is nothing to show yet (lat, lng), and how close.
MAP_DEFAULT_CENTER = (
    env.float("MAP_DEFAULT_LAT", default=43.2380),
    env.float("MAP_DEFAULT_LNG", default=76.9450),
)
MAP_DEFAULT_ZOOM = env.int("MAP_DEFAULT_ZOOM", default=11)

# --- chat ---
CHAT_MESSAGE_MAX_LENGTH = env.int("CHAT_MESSAGE_MAX_LENGTH", default=2000)
# Sends per user per window (page, API and socket together).
CHAT_RATE_LIMIT_MESSAGES = env.int("CHAT_RATE_LIMIT_MESSAGES", default=30)
CHAT_RATE_LIMIT_SECONDS = env.int("CHAT_RATE_LIMIT_SECONDS", default=60)
# A socket counts as open while it refreshes its presence entry within the TTL.
CHAT_PRESENCE_TTL_SECONDS = env.int("CHAT_PRESENCE_TTL_SECONDS", default=90)
# Offline users: wait this long before the first e-mail (they may read it
# elsewhere first), then at most one e-mail per conversation per interval.
CHAT_EMAIL_DELAY_SECONDS = env.int("CHAT_EMAIL_DELAY_SECONDS", default=120)
CHAT_EMAIL_INTERVAL_SECONDS = env.int("CHAT_EMAIL_INTERVAL_SECONDS", default=3600)
# Links to these hosts (and links with "pay" in them) warn the receiver.
CHAT_PAYMENT_LINK_DOMAINS = env.list(
    "CHAT_PAYMENT_LINK_DOMAINS",
    default=[
        "paypal.me",
        "paypal.com",
        "kaspi.kz",
        "revolut.me",
        "wise.com",
        "qiwi.com",
        "yoomoney.ru",
        "cash.app",
        "venmo.com",
        "payoneer.com",
    ],
)
TEMPLATES[0]["OPTIONS"]["context_processors"].append(
    "chat.context_processors.unread_messages"
)
# channels-redis offers two layers. "pubsub" (Redis PUBLISH/SUBSCRIBE) pushes
# each event to the subscribed processes; "core" (lists, one BZPOPMIN and its
# bookkeeping per received event, in series per process) delivered an order of
# magnitude fewer events per second in bench/chat_bench.py. Chat events need no
# queueing: the database keeps the messages and clients catch up on reconnect.
CHANNELS_REDIS_LAYER = env.str("CHANNELS_REDIS_LAYER", default="pubsub")
if REDIS_URL and CHANNELS_REDIS_LAYER == "pubsub":
    CHANNEL_LAYERS["default"]["BACKEND"] = (
        "channels_redis.pubsub.RedisPubSubChannelLayer"
    )

# --- wallet ---------------------------------------------------------------------
import hashlib  # noqa: E402 - kept with the wallet's settings

# Which payment provider takes top-ups: "sandbox" (offline, a checkout page on
# this site) or "stripe" (Checkout Sessions; needs the two Stripe secrets).
PAYMENT_PROVIDER = env.str("PAYMENT_PROVIDER", default="sandbox")
if PAYMENT_PROVIDER not in ("sandbox", "stripe"):
    raise ImproperlyConfigured("PAYMENT_PROVIDER must be 'sandbox' or 'stripe'.")
# Signs the sandbox's webhook events; derived from SECRET_KEY unless given.
PAYMENT_SANDBOX_WEBHOOK_SECRET = (
    env.str("PAYMENT_SANDBOX_WEBHOOK_SECRET", default="")
    or hashlib.sha256(f"sandbox-webhook:{SECRET_KEY}".encode()).hexdigest()
)
STRIPE_SECRET_KEY = env.str("STRIPE_SECRET_KEY", default="")
STRIPE_WEBHOOK_SECRET = env.str("STRIPE_WEBHOOK_SECRET", default="")
if PAYMENT_PROVIDER == "stripe" and not (STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET):
    raise ImproperlyConfigured(
        "PAYMENT_PROVIDER=stripe needs STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET."
    )
# Top-up bounds, in minor units of SITE_CURRENCY (tiyn): 100 ₸ .. 500 000 ₸.
WALLET_TOP_UP_MIN = env.int("WALLET_TOP_UP_MIN", default=10_000)
WALLET_TOP_UP_MAX = env.int("WALLET_TOP_UP_MAX", default=50_000_000)
# A payment still pending after this long is marked expired (Stripe's Checkout
# Sessions expire after 24 h); a later "paid" webhook still credits it.
PAYMENT_PENDING_TIMEOUT_HOURS = env.int("PAYMENT_PENDING_TIMEOUT_HOURS", default=25)
# Every top-up start opens a checkout at the provider: at most this many may
# wait for payment per user at once, and at most STARTS may begin per window
# (page and API together). 0 switches a limit off.
WALLET_TOP_UP_MAX_PENDING = env.int("WALLET_TOP_UP_MAX_PENDING", default=5)
WALLET_TOP_UP_RATE_LIMIT_STARTS = env.int("WALLET_TOP_UP_RATE_LIMIT_STARTS", default=10)
WALLET_TOP_UP_RATE_LIMIT_SECONDS = env.int(
    "WALLET_TOP_UP_RATE_LIMIT_SECONDS", default=3600
)
if WALLET_TOP_UP_RATE_LIMIT_SECONDS < 1:
    raise ImproperlyConfigured("WALLET_TOP_UP_RATE_LIMIT_SECONDS must be at least 1.")
IDEMPOTENCY_KEY_TTL_HOURS = env.int("IDEMPOTENCY_KEY_TTL_HOURS", default=24)
SPECTACULAR_SETTINGS.setdefault("ENUM_NAME_OVERRIDES", {}).update(
    {
        "TransactionKindEnum": "wallet.models.TransactionKind",
        "PromotionKindEnum": "wallet.models.PromotionKind",
        "PaymentStatusEnum": "wallet.models.PaymentStatus",
        "PromotionStatusEnum": "wallet.models.PromotionStatus",
        # Named too, or the wallet's `status` enums push it to a hashed name.
        "ListingStatusEnum": "listings.models.ListingStatus",
    }
)

# --- edge: HTTP caching of the public API reads (core/api/caching.py) ---
# Anonymous listing search/detail and category answers may be kept by shared
# caches (the proxy's micro-cache) for this many seconds, and served for this
# many more while one request refreshes them. 0 seconds: nothing is public.
API_PUBLIC_CACHE_SECONDS = env.int("API_PUBLIC_CACHE_SECONDS", default=10)
API_PUBLIC_CACHE_STALE_SECONDS = env.int("API_PUBLIC_CACHE_STALE_SECONDS", default=5)
if (
    min(TRUSTED_PROXY_COUNT, API_PUBLIC_CACHE_SECONDS, API_PUBLIC_CACHE_STALE_SECONDS)
    < 0
):
    raise ImproperlyConfigured(
        "DJANGO_TRUSTED_PROXY_COUNT, API_PUBLIC_CACHE_SECONDS and "
        "API_PUBLIC_CACHE_STALE_SECONDS must be 0 or more."
    )

# --- qa ---
# API errors in one shape, documented on every operation; OPTIONS without
# DRF's serializer introspection (see core/api/metadata.py).
REST_FRAMEWORK["DEFAULT_SCHEMA_CLASS"] = "core.api.schema.AutoSchema"
REST_FRAMEWORK["DEFAULT_METADATA_CLASS"] = "core.api.metadata.SchemaMetadata"
