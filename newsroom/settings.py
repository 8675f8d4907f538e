"""
Settings for the newsroom CMS.

One settings module; the environment decides. Every variable has a safe local
default, so a fresh checkout runs on SQLite with nothing set:

    DJANGO_DEBUG            "1" (default) or "0"
    DJANGO_SECRET_KEY       required when DJANGO_DEBUG=0
    DJANGO_ALLOWED_HOSTS    comma-separated; required when DJANGO_DEBUG=0
    DJANGO_HTTPS            "1" when served over HTTPS (default: the opposite of DEBUG)
    DJANGO_TIME_ZONE        the newsroom's time zone, used for article dates (default UTC)
    DATABASE_URL            e.g. postgres://user@127.0.0.1:5432/newsroom (default: SQLite file)
    REDIS_URL               e.g. redis://127.0.0.1:6379/0 (default: local memory cache)
    NEWSROOM_CACHE_PAGES    "0" turns the anonymous page cache off (docs/caching.md); NEWSROOM_CACHE_SECONDS (300)
    NEWSROOM_PURGE_URLS     HTTP caches in front to purge by key (Varnish: http://127.0.0.1:6081); NEWSROOM_PURGE_TOKEN
    NEWSROOM_CACHE_KEY_PREFIX  prefix of the cache's Redis keys (default none)
    DJANGO_DB_POOL          "1": psycopg's connection pool on PostgreSQL (DJANGO_DB_POOL_MIN/MAX, default 2/10;
                            DJANGO_DB_POOL_TIMEOUT, 10 s, the wait for a connection before a 503 page)
    AWS_STORAGE_BUCKET_NAME media on S3-compatible storage (django-storages); AWS_S3_ENDPOINT_URL,
                            AWS_S3_REGION_NAME, AWS_S3_CUSTOM_DOMAIN
    NEWSROOM_REQUIRE_2FA    "1": Editors and superusers must use two-factor authentication (docs/security.md)
    NEWSROOM_WEBAUTHN_RP_ID the domain passkeys belong to (default: the first domain in DJANGO_ALLOWED_HOSTS);
                            NEWSROOM_WEBAUTHN_ORIGINS, the comma-separated origins they are used from
    NEWSROOM_LOGIN_FAILURES failed logins before a lockout (default 5); NEWSROOM_LOGIN_COOLOFF_MINUTES (15)
    NEWSROOM_PROXY_COUNT    reverse proxies in front that append to X-Forwarded-For (default 0: REMOTE_ADDR)
    EMAIL_HOST              SMTP server for password-reset mail (default: printed to the console);
                            EMAIL_PORT (587 with TLS, 465 with SSL), EMAIL_HOST_USER, EMAIL_HOST_PASSWORD,
                            EMAIL_USE_TLS (default on), EMAIL_USE_SSL, DEFAULT_FROM_EMAIL
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

from articles.embeds import FRAME_ORIGINS as EMBED_FRAME_ORIGINS

BASE_DIR = Path(__file__).resolve().parent.parent


def env_flag(name, default):
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be 1 or 0, not {value!r}.")


def env_list(name, default=""):
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_flag("DJANGO_DEBUG", True)

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("Set DJANGO_SECRET_KEY when DJANGO_DEBUG=0.")
    SECRET_KEY = "django-insecure-local-development-only"

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]" if DEBUG else "")
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("Set DJANGO_ALLOWED_HOSTS when DJANGO_DEBUG=0.")
HTTPS = env_flag("DJANGO_HTTPS", not DEBUG)

INSTALLED_APPS = [
    "articles",
    # The admin with two-factor logins (newsroom/admin.py) in place of django.contrib.admin.
    "newsroom.apps.NewsroomAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
    "django.contrib.postgres",  # full-text search on PostgreSQL; inert on SQLite
    "taggit",
    "django_prose_editor",
    "reversion",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django_otp_webauthn",
    "django_tasks_db",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Compresses pages, page-cache hits included; static files come compressed from WhiteNoise above.
    "newsroom.middleware.PublicPageGZipMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Anonymous readers' cached pages, answered before the middleware below (articles/caching/pages.py).
    "articles.caching.PageCacheMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.user.is_verified(): whether this session passed the second factor (newsroom/admin.py).
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # A database outage answers a 503 page with Retry-After, not a 500 and a traceback.
    "newsroom.middleware.DatabaseUnavailableMiddleware",
    # Answers a locked-out login with the lockout page (newsroom.admin.lockout_response); last, as axes asks.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "newsroom.urls"
WSGI_APPLICATION = "newsroom.wsgi.application"

TEMPLATES = [
    # The public pages, in Jinja2: their rendering takes a third less CPU (docs/development.md, "Templates").
    {
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "DIRS": [BASE_DIR / "templates" / "jinja2"],
        "APP_DIRS": False,
        "OPTIONS": {
            "environment": "newsroom.jinja2.environment",
            "keep_trailing_newline": True,  # as Django's templates
            "context_processors": [
                "django.template.context_processors.csp",
                "articles.context_processors.site",
            ],
        },
    },
    # The admin, the sitemaps and robots.txt.
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "articles.context_processors.site",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("DJANGO_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers go on while an editor saves; IMMEDIATE avoids
    # "database is locked" on concurrent writes. Connections are kept between
    # requests (CONN_MAX_AGE) as on PostgreSQL: a new one would redo the PRAGMAs
    # and the parsing of the schema on every request.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # A file, not shared-cache memory, so concurrent writers in tests wait for
    # each other as they do in production.
    # DJANGO_TEST_DB_NAME lets two test runs on one checkout keep apart.
    test_name = os.environ.get("DJANGO_TEST_DB_NAME") or str(BASE_DIR / "var" / "test-db.sqlite3")
    DATABASES["default"]["TEST"] = {"NAME": test_name}
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env_flag("DJANGO_DB_POOL", False):
    # psycopg's connection pool, one per worker process: connections are borrowed per
    # request and returned, instead of each thread keeping its own. Django requires
    # CONN_MAX_AGE = 0 with a pool (the pool does the reusing; CONN_HEALTH_CHECKS
    # makes it check each connection as it lends it).
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": int(os.environ.get("DJANGO_DB_POOL_MIN", "2")),
        "max_size": int(os.environ.get("DJANGO_DB_POOL_MAX", "10")),
        # Seconds a request waits for a connection before failing (a 503 page while the database is down).
        "timeout": int(os.environ.get("DJANGO_DB_POOL_TIMEOUT", "10")),
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0

# The derived full-text index is never dumped or loaded (articles/routers.py).
DATABASE_ROUTERS = ["articles.routers.SearchIndexRouter"]

if os.environ.get("REDIS_URL"):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ["REDIS_URL"],
        }
    }
    if os.environ.get("NEWSROOM_CACHE_KEY_PREFIX"):
        # Lets several sites (or a test) share one Redis database without meeting.
        CACHES["default"]["KEY_PREFIX"] = os.environ["NEWSROOM_CACHE_KEY_PREFIX"]
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Each process's copies of recent pages (articles/caching/pages.py), checked against "default"
# for invalidations on every hit.
CACHES["local_pages"] = {
    "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
    "LOCATION": "newsroom-local-pages",
    "OPTIONS": {"MAX_ENTRIES": 1000},  # about 20 MB of pages per worker
}

# The page cache for anonymous readers (articles/caching/): on by default when the cache is
# shared (REDIS_URL), since a per-process local-memory cache cannot hear another worker's edit;
# a page is kept at most NEWSROOM_CACHE_SECONDS, and never past the next scheduled publication.
NEWSROOM_CACHE_PAGES = env_flag("NEWSROOM_CACHE_PAGES", bool(os.environ.get("REDIS_URL")))
NEWSROOM_CACHE_SECONDS = int(os.environ.get("NEWSROOM_CACHE_SECONDS", "300"))
# HTTP caches in front (Varnish, a CDN) to purge by key after each change (articles/caching/purge.py):
# comma-separated base URLs, e.g. http://127.0.0.1:6081; NEWSROOM_PURGE_TOKEN is sent with each purge.
NEWSROOM_PURGE_URLS = [url.strip() for url in os.environ.get("NEWSROOM_PURGE_URLS", "").split(",") if url.strip()]
NEWSROOM_PURGE_TOKEN = os.environ.get("NEWSROOM_PURGE_TOKEN", "")

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Logins: django-axes counts failures by account and by address and locks either out for a while
# (docs/security.md). Its backend goes first so a locked-out login never reaches the password check.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = int(os.environ.get("NEWSROOM_LOGIN_FAILURES", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("NEWSROOM_LOGIN_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "newsroom.admin.lockout_response"
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "otp_token"]  # masked in the stored attempts
# The address a failure counts against: REMOTE_ADDR, or behind NEWSROOM_PROXY_COUNT proxies the one
# the outermost of them put into X-Forwarded-For (never one the client could have written itself).
NEWSROOM_PROXY_COUNT = int(os.environ.get("NEWSROOM_PROXY_COUNT", "0"))
AXES_CLIENT_IP_CALLABLE = "newsroom.admin.client_ip_address"
# Staff with a confirmed authenticator give its code at login; with this on, Editors and superusers
# without one are sent to set one up before anything else in the admin (newsroom/admin.py).
NEWSROOM_REQUIRE_2FA = env_flag("NEWSROOM_REQUIRE_2FA", False)
OTP_TOTP_ISSUER = os.environ.get("NEWSROOM_NAME", "The Newsroom")
# Passkeys and security keys (django-otp-webauthn) as a second factor after the password, never in
# place of it. A key belongs to the RP ID, a domain (not an IP address: over plain HTTP only
# http://localhost works) and answers only the origins listed; see docs/security.md.
OTP_WEBAUTHN_ALLOW_PASSWORDLESS_LOGIN = False
OTP_WEBAUTHN_RP_NAME = OTP_TOTP_ISSUER
_domains = [  # the allowed hosts that are domain names, not IP addresses or wildcards
    host.lstrip(".") for host in ALLOWED_HOSTS if not ("*" in host or host.startswith("[") or host[-1].isdigit())
]
OTP_WEBAUTHN_RP_ID = os.environ.get("NEWSROOM_WEBAUTHN_RP_ID") or next(iter(_domains), "localhost")
if HTTPS:
    _origins = [f"https://{host}" for host in _domains if f".{host}".endswith(f".{OTP_WEBAUTHN_RP_ID}")]
    OTP_WEBAUTHN_ALLOWED_ORIGINS = (
        env_list("NEWSROOM_WEBAUTHN_ORIGINS") or _origins or [f"https://{OTP_WEBAUTHN_RP_ID}"]
    )
else:
    OTP_WEBAUTHN_ALLOWED_ORIGINS = env_list("NEWSROOM_WEBAUTHN_ORIGINS") or ["http://localhost:8000"]

# Password-reset mail (Django's own views, linked from the admin login page): Django 6.1's MAILERS,
# printed to the console unless EMAIL_HOST names an SMTP server.
if os.environ.get("EMAIL_HOST"):
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": os.environ["EMAIL_HOST"],
                "port": int(os.environ["EMAIL_PORT"]) if os.environ.get("EMAIL_PORT") else None,
                "username": os.environ.get("EMAIL_HOST_USER", ""),
                "password": os.environ.get("EMAIL_HOST_PASSWORD", ""),
                "use_tls": env_flag("EMAIL_USE_TLS", not env_flag("EMAIL_USE_SSL", False)),
                "use_ssl": env_flag("EMAIL_USE_SSL", False),
                "timeout": 10,
            },
        }
    }
else:
    MAILERS = {"default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}}
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "webmaster@localhost")
LOGIN_URL = "admin:login"
# A reset link works for a day (Django's default is three).
PASSWORD_RESET_TIMEOUT = 60 * 60 * 24

LANGUAGE_CODE = "en-gb"
TIME_ZONE = os.environ.get("DJANGO_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

FIXTURE_DIRS = [BASE_DIR / "fixtures"]

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("DJANGO_STATIC_ROOT", BASE_DIR / "var" / "staticfiles"))
MEDIA_URL = "media/"
MEDIA_ROOT = BASE_DIR / "var" / "media"
# Uploaded photos are served by the app itself only when this is on (default: with DEBUG and in the
# local demo, NEWSROOM_DEMO=1). In production a web server or S3-compatible storage serves MEDIA_URL.
NEWSROOM_SERVE_MEDIA = env_flag("NEWSROOM_SERVE_MEDIA", DEBUG or os.environ.get("NEWSROOM_DEMO") == "1")
# Background work (photo renditions) runs through Django's tasks framework, queued in the database
# (django-tasks-db: no new service) and run by `manage.py db_worker` (`make worker`; docs/deployment.md).
# The tests run tasks at once in the request instead (conftest.py).
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
# A request body (the admin's article form) may be up to 10 MB; a body the form refuses has its own
# clear error (ArticleAdminForm), so an over-long story comes back with its text instead of a bare 400.
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Tag names are one tag whatever their case: "Mali" and "mali".
TAGGIT_CASE_INSENSITIVE = True

# The site's identity, shown in titles, feeds and structured data.
NEWSROOM_NAME = os.environ.get("NEWSROOM_NAME", "The Newsroom")
NEWSROOM_DESCRIPTION = os.environ.get(
    "NEWSROOM_DESCRIPTION", "Independent reporting from Africa, the Middle East and beyond."
)
NEWSROOM_ARTICLES_PER_PAGE = 10
# The text search configuration (language) of PostgreSQL full-text search; after
# changing it, run `manage.py rebuild_search_index`. SQLite stems English words
# when it is "english" and only folds case and accents otherwise.
NEWSROOM_SEARCH_CONFIG = os.environ.get("NEWSROOM_SEARCH_CONFIG", "english")
# The publisher in structured data and news sitemaps, and the default social card:
# paths under static/ (PNG; the social image 1200x630), and the content language.
NEWSROOM_LOGO = os.environ.get("NEWSROOM_LOGO", "img/logo.png")
NEWSROOM_DEFAULT_SOCIAL_IMAGE = os.environ.get("NEWSROOM_DEFAULT_SOCIAL_IMAGE", "img/social-default.png")
NEWSROOM_LANGUAGE = os.environ.get("NEWSROOM_LANGUAGE", "en")

# How long a shareable preview link works, in hours.
try:
    NEWSROOM_PREVIEW_HOURS = int(os.environ.get("NEWSROOM_PREVIEW_HOURS", "48"))
except ValueError:
    raise ImproperlyConfigured("NEWSROOM_PREVIEW_HOURS must be a whole number of hours.") from None
if NEWSROOM_PREVIEW_HOURS < 1:
    raise ImproperlyConfigured("NEWSROOM_PREVIEW_HOURS must be at least 1.")

# How often a reader's live page asks for new updates (a conditional GET of the page itself).
NEWSROOM_LIVE_POLL_SECONDS = int(os.environ.get("NEWSROOM_LIVE_POLL_SECONDS", "10"))

# A strict policy: no inline script or style without the per-request nonce.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    # The hash admits exactly one inline <style>: the ProseMirror core CSS (white-space:
    # pre-wrap, ...) that Tiptap injects into the admin page for the body editor, without
    # a nonce. If a django-prose-editor upgrade changes it, browser_tests report the new
    # hash (as a CSP violation on the admin article form).
    "style-src": [CSP.SELF, CSP.NONCE, "'sha256-PlumsSlvJ7vvWzjqibGAYKq92O3y/4JTxWWsWJvyUYA='"],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    # Exactly the embed providers' frames (articles/embeds.py), loaded when a reader clicks.
    "frame-src": EMBED_FRAME_ORIGINS,
}

# Media (photos and their renditions) on S3-compatible storage: set AWS_STORAGE_BUCKET_NAME and
# install django-storages[s3]; boto3 reads AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY from the
# environment itself. Several app servers then share the same files. Names are content hashes,
# so objects are public and cached for a year; pages may load them from the bucket's origin.
if os.environ.get("AWS_STORAGE_BUCKET_NAME"):
    from urllib.parse import urlsplit

    _bucket = os.environ["AWS_STORAGE_BUCKET_NAME"]
    _endpoint = os.environ.get("AWS_S3_ENDPOINT_URL") or None  # e.g. https://s3.fr-par.scw.cloud, MinIO
    _region = os.environ.get("AWS_S3_REGION_NAME") or None
    _domain = os.environ.get("AWS_S3_CUSTOM_DOMAIN") or None  # a CDN in front of the bucket
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": _bucket,
            "endpoint_url": _endpoint,
            "region_name": _region,
            "custom_domain": _domain,
            "querystring_auth": False,
            "file_overwrite": False,
            "object_parameters": {"CacheControl": "public, max-age=31536000, immutable"},
        },
    }
    if _domain:
        _media_origins = [f"https://{_domain}"]
    elif _endpoint:  # path-style URLs on the endpoint's host
        _media_origins = [f"{urlsplit(_endpoint).scheme}://{urlsplit(_endpoint).netloc}"]
    else:  # AWS itself, virtual-hosted URLs
        _media_origins = [f"https://{_bucket}.s3.amazonaws.com"]
        if _region:
            _media_origins.append(f"https://{_bucket}.s3.{_region}.amazonaws.com")
    SECURE_CSP["img-src"] = [*SECURE_CSP["img-src"], *_media_origins]

SECURE_SSL_REDIRECT = HTTPS
# Load balancers probe the health endpoint over plain HTTP, from inside.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = 60 * 60 * 24 * 365 if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if HTTPS else None
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")
# Nothing frames the site, not even itself (check --deploy asks for DENY: security.W019).
X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("DJANGO_LOG_LEVEL", "WARNING")},
}
