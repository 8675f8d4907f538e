from django.conf import settings


def pytest_configure(config):
    # WhiteNoise indexes STATIC_ROOT at start-up and warns when it is missing.
    settings.STATIC_ROOT.mkdir(parents=True, exist_ok=True)
    # Tasks run at once, in the request that asks for them; "database" is the production backend,
    # for the tests that run the worker (articles/tests/test_tasks.py).
    settings.TASKS = {
        "default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"},
        "database": {"BACKEND": "django_tasks_db.DatabaseBackend"},
    }
