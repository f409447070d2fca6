"""Settings, read from the environment with defaults that run the demo.

Production sets ``SECRET_KEY``, ``DATABASE_URL`` (PostgreSQL), ``REDIS_URL``,
``ALLOWED_HOSTS`` and leaves ``DEBUG`` off. A bad value fails at start-up, not at first use.
"""

from datetime import timedelta
from pathlib import Path

import environ
from django.utils.csp import CSP

from portal.kernel import spreadsheet_formats

BASE_DIR = Path(__file__).resolve().parents[2]  # portal/site/settings.py -> the checkout

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
# The demo key only works with DEBUG on; production must provide its own.
SECRET_KEY = env.str("SECRET_KEY", default="") or (
    "dev-only-insecure-key-do-not-use-in-production" if DEBUG else ""
)
if not SECRET_KEY:
    raise environ.ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# A refused form post answers a Chinese page in the portal's layout, not Django's English one.
CSRF_FAILURE_VIEW = "portal.site.errors.csrf_failure"

INSTALLED_APPS = [
    # django.contrib.admin with our site: 403 for staff without any permission.
    "portal.apps.PlatformAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    # Admin login throttling and lockout, attempts browsable in admin (AXES_* below).
    "axes",
    # django-ninja's own static Swagger UI for /api/docs: without it the docs page loads
    # its scripts from a CDN, which the Content-Security-Policy (and a China network) blocks.
    "ninja",
    "import_export",
    # The benefit terms form in admin (generated from the terms' JSON schema); its scripts
    # are served from our static files and read their settings from data attributes, so
    # they run under the CSP without a nonce.
    "django_jsonform",
    "django_celery_beat",
    "auditlog",  # the change history of staff edits (portal.site.audit)
    "portal",
    "coverage",
    "benefits",
    "bookings",
]

MIDDLEWARE = [
    # First: every log line written while handling the request carries its id.
    "portal.site.request_id.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "portal.site.audit.AuditActorMiddleware",  # the change history's actor: request.user
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes requires: turns a locked-out admin login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "portal.site.urls"
WSGI_APPLICATION = "portal.site.wsgi.application"

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
                # csp_nonce for the few inline <script> blocks (SECURE_CSP below).
                "django.template.context_processors.csp",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0)
# A persistent connection that died with a database restart is replaced at the next request's
# start instead of failing it (portal.site.unavailable answers 503 only during the outage).
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Seconds to wait for a connection: an unreachable server fails the request fast (503)
    # instead of holding a web worker for the operating system's TCP timeout.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "connect_timeout", env.int("DATABASE_CONNECT_TIMEOUT", default=3)
    )
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server, the worker and beat use one demo database side by side.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"init_command": "PRAGMA journal_mode=WAL;", "transaction_mode": "IMMEDIATE"}
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Axes first: it refuses a locked-out admin login before any password is checked. Policyholders
# log in by SMS code (portal.pages.auth_views logs them in through ModelBackend, no password).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"

# Policyholders log in with an SMS code (portal.pages.auth_views); admin keeps its own login page.
LOGIN_URL = "portal:login"
LOGIN_REDIRECT_URL = "/"
# Dotted path of the SMS backend class: the outbox (messages readable in admin) runs the demo
# and the tests; production names its provider's backend.
SMS_BACKEND = env.str("SMS_BACKEND", default="portal.site.sms_outbox.OutboxBackend")
# Road distances for the distance tiers (出院交通 ≤200 km): dotted path to a callable
# (home (lat, lon), hospital (lat, lon)) -> km by road, or None. None configured: tiers are
# decided on a road distance given in the request, else on what a straight line proves.
ROUTING_BACKEND = env.str("ROUTING_BACKEND", default="")

# HTTPS only whenever DEBUG is off: redirect plain HTTP, HSTS, cookies sent over HTTPS only.
# PLAIN_HTTP=1 is the one switch for a setup without TLS (an internal test box); the demo
# (DEBUG=1) serves plain HTTP anyway.
PLAIN_HTTP = DEBUG or env.bool("PLAIN_HTTP", default=False)
SECURE_SSL_REDIRECT = not PLAIN_HTTP
# The load balancer's and orchestrator's probes speak plain HTTP to the process itself.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
# A year, subdomains included, and eligible for the browsers' preload lists: once a browser
# has seen it, it never speaks plain HTTP to the site again (check --deploy asks for all three).
SECURE_HSTS_SECONDS = 0 if PLAIN_HTTP else 365 * 24 * 60 * 60
SECURE_HSTS_INCLUDE_SUBDOMAINS = not PLAIN_HTTP
SECURE_HSTS_PRELOAD = not PLAIN_HTTP
SESSION_COOKIE_SECURE = not PLAIN_HTTP
CSRF_COOKIE_SECURE = not PLAIN_HTTP
# Behind a proxy that ends TLS: the header it sets on HTTPS requests, e.g.
# PROXY_SSL_HEADER=X-Forwarded-Proto (the value must be "https"). Only when the proxy always
# sets it, overwriting what the client sent.
if proxy_ssl_header := env.str("PROXY_SSL_HEADER", default=""):
    SECURE_PROXY_SSL_HEADER = ("HTTP_" + proxy_ssl_header.upper().replace("-", "_"), "https")
SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"  # request references in URLs stay on the site
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy on every response (django.middleware.csp): our own scripts,
# styles and images only, no plugins, no framing, forms post only to us. Inline <script>
# blocks need {{ csp_nonce }}. Styles allow 'unsafe-inline' because style="" attributes
# cannot carry a nonce and admin has them (ours in format_html, import-export's templates,
# Swagger UI sets them from its script); a nonce in style-src would disable
# 'unsafe-inline'. Style attributes cannot run code.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [
        CSP.SELF,
        CSP.NONCE,
        # The one inline event handler we serve: import-export's "select all" box on the
        # export page (onchange="onSelectToggleChange(event)"), allowed by its exact hash.
        CSP.UNSAFE_HASHES,
        "'sha256-wid4zL8fR53ZYy1ljOepzR77Dn6vWUUxuNnnWWBP3I8='",
    ],
    "style-src": [CSP.SELF, CSP.UNSAFE_INLINE],
    "img-src": [CSP.SELF, "data:"],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}

# Admin login throttling (django-axes): ten wrong passwords for one username from one
# client lock that pair for 30 minutes, the right password included; another client (or
# username) is not affected, so an attacker cannot lock staff out from elsewhere. Client =
# REMOTE_ADDR: behind a proxy, it must pass the client's address there.
AXES_FAILURE_LIMIT = 10
AXES_COOLOFF_TIME = timedelta(minutes=30)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_ONLY_ADMIN_SITE = True
AXES_RESET_ON_SUCCESS = True  # a successful login starts the count again
AXES_ENABLE_ACCESS_FAILURE_LOG = True  # one row per failed attempt, browsable in admin
AXES_LOCKOUT_CALLABLE = "portal.site.lockout.lockout_response"  # the Chinese lockout page, 429
AXES_HANDLER = "portal.site.lockout.AdminOnlyDatabaseHandler"  # no rows for portal (SMS) logins
# Usernames are recorded with phone and ID numbers masked; the POSTed form (kept in the
# attempt's record) and axes' log lines never show the username, nor the CSRF token.
AXES_USERNAME_CALLABLE = "portal.site.lockout.attempt_username"
AXES_USERNAME_FORM_FIELD = "username"  # the admin login's field (axes' default), read there
AXES_SENSITIVE_PARAMETERS = ["username", "csrfmiddlewaretoken"]
AXES_VERBOSE = False  # no banner on every manage.py command; failures are still logged

REDIS_URL = env.str("REDIS_URL", default="redis://127.0.0.1:6379/0")
# Shared by every process in production (Redis: rate limits, the reference-data version token
# of portal.kernel.memo); a per-process memory cache is enough for one process and the tests.
CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
    # A Redis outage turns reads into misses instead of 500s (portal.site.cache).
    CACHES["default"]["BACKEND"] = "portal.site.cache.FailSoftRedisCache"

CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = None
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
OPERATIONS_EMAILS = env.list("OPERATIONS_EMAILS", default=[])  # SLA warnings and breaches

# One console handler for everything, masking phone and ID numbers (portal.kernel.logmask). The
# "django" and "django.server" loggers are named so that Django's own handlers (which would
# print unmasked request lines) are removed and their records reach this one.
# LOG_FORMAT=json: one JSON object per line with the request id (portal.kernel.logjson), for a
# log collector; plain text (the default) for a terminal. The mask applies to both.
LOG_FORMAT = env.str("LOG_FORMAT", default="plain")
if LOG_FORMAT not in ("plain", "json"):
    raise environ.ImproperlyConfigured(f"LOG_FORMAT must be plain or json, not {LOG_FORMAT!r}")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"mask_personal_numbers": {"()": "portal.kernel.logmask.MaskPersonalNumbers"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "portal.kernel.logjson.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["mask_personal_numbers"],
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django": {"level": "INFO", "propagate": True},
        "django.server": {"level": "INFO", "propagate": True},
        "django.db.backends": {"level": "WARNING"},
    },
}
# Celery workers log through the handler above instead of replacing the root logger's.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# ID numbers: encrypted with keys derived from SECRET_KEY (+ SECRET_KEY_FALLBACKS when
# rotating) and this salt; matched through an HMAC digest keyed by ID_DIGEST_KEY.
SALT_KEY = env.str("FIELD_ENCRYPTION_SALT", default="health-benefits-dev-salt")
ID_DIGEST_KEY = env.str("ID_DIGEST_KEY", default="")

# Uploaded medical records: outside MEDIA_ROOT/STATIC_ROOT and never served by URL, only
# streamed by views that check who asks (bookings.documents.storage.private_storage).
PRIVATE_MEDIA_ROOT = Path(env.str("PRIVATE_MEDIA_ROOT", default=str(BASE_DIR / "var" / "private")))
UPLOAD_MAX_BYTES = env.int("UPLOAD_MAX_BYTES", default=20 * 1024 * 1024)
# Medical records (the files of a request's documents) are deleted this many days after the
# request closes (bookings.documents.retention, daily). PIPL art. 47 asks for deletion once
# the purpose is fulfilled; the purpose of a closed request still includes answering a
# complaint (银保监会令2020年第3号) or a claim dispute about the service, and the civil
# limitation period for such a dispute is 3 years (民法典 art. 188). 保险法 art. 87 (books,
# vouchers and 有关资料 kept 5 years after a policy of up to one year ends, 10 for longer)
# we read as the insurer's policy and claims files: the request row, its timeline and its
# quota ledger, which are kept; only the uploaded files go (docs/operations.md).
# Default: 3 years (1095 days). Set per deployment if the insurer's counsel says otherwise.
RECORDS_RETENTION_DAYS = env.int("RECORDS_RETENTION_DAYS", default=3 * 365)
# Django's two upload handlers, made safe for any file name (bookings.documents.upload_handlers).
FILE_UPLOAD_HANDLERS = [
    "bookings.documents.upload_handlers.MemoryUploadHandler",
    "bookings.documents.upload_handlers.TemporaryUploadHandler",
]

# Admin's spreadsheet import and export: no cell is written as a formula (=cmd|…, +, -, @).
IMPORT_EXPORT_FORMATS = spreadsheet_formats.FORMATS
# Off on purpose: import-export's own escaping only drops a leading "=" and writes empty cells
# as "None"; the formats above escape every formula start and import back unchanged.
IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT = False

# Imports and exports in admin need the model's change / view permission (the library checks
# nothing by default); which rows a user may touch is portal.kernel.tenancy's question.
IMPORT_EXPORT_IMPORT_PERMISSION_CODE = "change"
IMPORT_EXPORT_EXPORT_PERMISSION_CODE = "view"

# Change history of staff edits (django-auditlog; what is recorded: portal.site.audit). Values are
# shown whole in admin: a benefit's terms or a clause cut at 140 characters hides the change.
AUDITLOG_CHANGE_DISPLAY_TRUNCATE_LENGTH = -1
# Fixtures (loaddata, raw saves) are not staff edits.
AUDITLOG_DISABLE_ON_RAW_SAVE = True
