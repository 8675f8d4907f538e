import jinja2
from django.conf import settings
from django.test.signals import template_rendered


def pytest_configure(config):
    # WhiteNoise indexes STATIC_ROOT at start-up and warns when it is missing.
    settings.STATIC_ROOT.mkdir(parents=True, exist_ok=True)
    # Tasks run at once, in the request that asks for them; "database" is the production backend,
    # for the tests that run the worker (articles/tests/test_tasks.py).
    settings.TASKS = {
        "default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"},
        "database": {"BACKEND": "django_tasks_db.DatabaseBackend"},
    }
    instrument_jinja2()


def instrument_jinja2():
    """
    Jinja2 templates announce their rendering, as Django's test environment makes
    its own templates do (django.test.utils.setup_test_environment), so the test
    client fills response.context and response.templates for the public pages too.
    """
    render = jinja2.Template.render

    def instrumented_render(self, *args, **kwargs):
        context = dict(*args, **kwargs)
        template_rendered.send(sender=self, template=self, context=context)
        return render(self, context)

    jinja2.Template.render = instrumented_render
