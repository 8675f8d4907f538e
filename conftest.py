from django.conf import settings


def pytest_configure(config):
    # WhiteNoise indexes STATIC_ROOT at start-up and warns when it is missing.
    settings.STATIC_ROOT.mkdir(parents=True, exist_ok=True)
