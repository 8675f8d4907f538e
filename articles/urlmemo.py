"""
reverse(), remembered. Every page links to the same sections, tags, authors
and articles again and again, and Django's reverse() costs tens of
microseconds a call: a page has dozens. The address depends only on the view,
its arguments and the script prefix (the path the site is mounted under), so
the memo is keyed by all three; it is cleared when the URL configuration changes.
"""

import functools

from django.core.signals import setting_changed
from django.dispatch import receiver
from django.urls import get_script_prefix, reverse


@functools.lru_cache(maxsize=50_000)
def _reverse(script_prefix, viewname, kwargs):
    return reverse(viewname, kwargs=dict(kwargs))


def reverse_memo(viewname, **kwargs):
    """reverse(viewname, kwargs=kwargs), from memory after the first time."""
    return _reverse(get_script_prefix(), viewname, tuple(kwargs.items()))


@receiver(setting_changed)
def forget_on_urlconf_change(*, setting, **kwargs):
    if setting == "ROOT_URLCONF":
        _reverse.cache_clear()
