"""The filters of the Django-template sitemaps (templates/sitemaps/); the public pages are Jinja2."""

from django import template

from articles import seo

register = template.Library()


@register.filter
def w3c_datetime(value):
    return seo.w3c_datetime(value)
