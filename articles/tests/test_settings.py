"""
The environment decides the settings. Each case runs Django in a fresh
subprocess, because settings are read once per process.
"""

import json
import os
import secrets
import string
import subprocess
import sys

from django.conf import settings

PROJECT_ROOT = settings.BASE_DIR
# Variables the settings module reads; tests start from none of them set, except DATABASE_URL.
SETTINGS_VARIABLES = [
    "DJANGO_DEBUG",
    "DJANGO_SECRET_KEY",
    "DJANGO_ALLOWED_HOSTS",
    "DJANGO_HTTPS",
    "DJANGO_TIME_ZONE",
    "DJANGO_CSRF_TRUSTED_ORIGINS",
    "REDIS_URL",
    "AWS_STORAGE_BUCKET_NAME",
    "AWS_S3_ENDPOINT_URL",
    "AWS_S3_REGION_NAME",
    "AWS_S3_CUSTOM_DOMAIN",
    "EMAIL_HOST",
    "EMAIL_PORT",
    "EMAIL_HOST_USER",
    "EMAIL_HOST_PASSWORD",
    "EMAIL_USE_TLS",
    "EMAIL_USE_SSL",
    "NEWSROOM_REQUIRE_2FA",
    "NEWSROOM_PROXY_COUNT",
    # Set by the browser tests' conftest for Playwright; never in a deployment.
    "DJANGO_ALLOW_ASYNC_UNSAFE",
]


def random_secret_key(length=50):
    alphabet = string.ascii_letters + string.digits + "!@#%^&*(-_=+)"
    return "".join(secrets.choice(alphabet) for _ in range(length))


def run(args, **variables):
    """Run `python <args>` in the project root with os.environ, minus the settings variables, plus `variables`."""
    env = {name: value for name, value in os.environ.items() if name not in SETTINGS_VARIABLES}
    env["DJANGO_SETTINGS_MODULE"] = "newsroom.settings"
    for name, value in variables.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return subprocess.run(
        [sys.executable, *args], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=60
    )


def settings_from(**variables):
    """The settings a fresh process builds from these variables: database engine and cache."""
    code = (
        "import json; from django.conf import settings; "
        "print(json.dumps({'engine': settings.DATABASES['default']['ENGINE'], "
        "'database': str(settings.DATABASES['default']['NAME']), 'cache': settings.CACHES['default'], "
        "'page_cache': settings.NEWSROOM_CACHE_PAGES}))"
    )
    result = run(["-c", code], **variables)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def production(**variables):
    return {
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": random_secret_key(),
        "DJANGO_ALLOWED_HOSTS": "example.com",
        # Password-reset mail goes out by SMTP; the console backend would print reset links to the log.
        "EMAIL_HOST": "smtp.example.com",
        **variables,
    }


def test_deploy_check_passes_with_production_environment():
    result = run(["manage.py", "check", "--deploy"], **production())

    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues" in output
    assert "WARNINGS" not in output
    assert "ERRORS" not in output


def test_deploy_check_asks_for_a_mail_server_in_production():
    """Without EMAIL_HOST, password-reset mail (with its links) would only be printed to the log."""
    result = run(["manage.py", "check", "--deploy"], **production(EMAIL_HOST=None))

    assert result.returncode != 0
    assert "mail.E001" in result.stdout + result.stderr


def test_mail_settings_come_from_the_environment():
    code = "import json; from django.conf import settings; print(json.dumps(settings.MAILERS))"
    result = run(["-c", code], **production(EMAIL_PORT="2525", EMAIL_HOST_USER="desk"))
    assert result.returncode == 0, result.stderr
    mailer = json.loads(result.stdout)["default"]
    assert mailer["BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    assert mailer["OPTIONS"] == {
        "host": "smtp.example.com",
        "port": 2525,
        "username": "desk",
        "password": "",
        "use_tls": True,
        "use_ssl": False,
        "timeout": 10,
    }


def test_mail_is_printed_to_the_console_without_a_mail_server():
    code = "import json; from django.conf import settings; print(json.dumps(settings.MAILERS))"
    result = run(["-c", code])
    assert json.loads(result.stdout)["default"]["BACKEND"] == "django.core.mail.backends.console.EmailBackend"


def test_deploy_check_does_flag_an_insecure_configuration():
    """Control for the test above: the deploy checks run and do complain about debug mode."""
    result = run(["manage.py", "check", "--deploy"], DJANGO_DEBUG="1")

    assert "security.W018" in result.stdout + result.stderr  # DEBUG on
    assert "security.W009" in result.stdout + result.stderr  # the insecure development key


def test_check_without_secret_key_fails_clearly_when_debug_is_off():
    result = run(["manage.py", "check"], **production(DJANGO_SECRET_KEY=None))

    assert result.returncode != 0
    assert "ImproperlyConfigured: Set DJANGO_SECRET_KEY when DJANGO_DEBUG=0." in result.stderr


def test_check_without_allowed_hosts_fails_clearly_when_debug_is_off():
    result = run(["manage.py", "check"], **production(DJANGO_ALLOWED_HOSTS=None))

    assert result.returncode != 0
    assert "DJANGO_ALLOWED_HOSTS" in result.stderr


def test_unreadable_debug_flag_is_refused():
    result = run(["manage.py", "check"], DJANGO_DEBUG="maybe")

    assert result.returncode != 0
    assert "DJANGO_DEBUG must be 1 or 0, not 'maybe'." in result.stderr


def test_without_database_url_the_database_is_the_local_sqlite_file():
    configured = settings_from(DATABASE_URL=None)

    assert configured["engine"] == "django.db.backends.sqlite3"
    assert configured["database"] == str(PROJECT_ROOT / "db.sqlite3")


def test_database_url_selects_postgresql():
    configured = settings_from(DATABASE_URL="postgres://postgres@127.0.0.1:5432/newsroom")

    assert configured["engine"] == "django.db.backends.postgresql"
    assert configured["database"] == "newsroom"


def test_redis_url_selects_the_redis_cache():
    """Only the setting: building settings opens no connection, so no Redis server is needed."""
    configured = settings_from(REDIS_URL="redis://127.0.0.1:6379/3")

    assert configured["cache"] == {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:6379/3",
    }
    # A cache every worker shares: pages can be cached and invalidated everywhere.
    assert configured["page_cache"] is True


def test_without_redis_url_the_cache_is_local_memory():
    configured = settings_from()

    assert configured["cache"]["BACKEND"] == "django.core.cache.backends.locmem.LocMemCache"
    # Each worker's own memory cannot hear another worker's edit: no page cache by default.
    assert configured["page_cache"] is False


def media_settings(**variables):
    code = (
        "import json; from django.conf import settings; "
        "print(json.dumps({'storages': settings.STORAGES, 'img_src': settings.SECURE_CSP['img-src']}))"
    )
    result = run(["-c", code], **variables)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_media_on_s3_compatible_storage_is_a_settings_change():
    """Only the setting: django-storages is imported when a file is first stored, so it need not be installed here."""
    configured = media_settings(
        AWS_STORAGE_BUCKET_NAME="newsroom-media",
        AWS_S3_ENDPOINT_URL="https://s3.example.net",
        AWS_S3_REGION_NAME="fr-par",
    )

    assert configured["storages"]["default"] == {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": "newsroom-media",
            "endpoint_url": "https://s3.example.net",
            "region_name": "fr-par",
            "custom_domain": None,
            "querystring_auth": False,
            "file_overwrite": False,
            "object_parameters": {"CacheControl": "public, max-age=31536000, immutable"},
        },
    }
    # Static files stay with WhiteNoise; the pages' CSP lets images come from the bucket.
    assert configured["storages"]["staticfiles"] == media_settings()["storages"]["staticfiles"]
    assert configured["img_src"] == ["'self'", "data:", "https://s3.example.net"]


def test_a_cdn_in_front_of_the_bucket_is_the_images_origin():
    configured = media_settings(AWS_STORAGE_BUCKET_NAME="newsroom-media", AWS_S3_CUSTOM_DOMAIN="media.example.com")

    assert configured["storages"]["default"]["OPTIONS"]["custom_domain"] == "media.example.com"
    assert configured["img_src"] == ["'self'", "data:", "https://media.example.com"]
    on_aws = media_settings(AWS_STORAGE_BUCKET_NAME="newsroom-media")
    assert on_aws["img_src"] == ["'self'", "data:", "https://newsroom-media.s3.amazonaws.com"]


def test_without_a_bucket_media_are_local_files():
    configured = media_settings()

    assert configured["storages"]["default"] == {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    assert configured["img_src"] == ["'self'", "data:"]


def test_deploy_check_passes_with_media_on_s3():
    result = run(["manage.py", "check", "--deploy"], **production(AWS_STORAGE_BUCKET_NAME="newsroom-media"))

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout + result.stderr
