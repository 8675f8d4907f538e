from django.conf import settings
from django.utils.functional import SimpleLazyObject

from .header import site_header


def site(request):
    """The site's name, its sections and the breaking-news banner, for the header of every page."""
    return {
        "site_name": settings.NEWSROOM_NAME,
        "site_description": settings.NEWSROOM_DESCRIPTION,
        "site_language": settings.NEWSROOM_LANGUAGE,
        # Lazy: the header's one query runs when a template shows the menu or the banner (or a view
        # asked for it first). A section without a published article stays out of the menu
        # (caching.keys adds MENU when that changes).
        "nav_sections": SimpleLazyObject(lambda: site_header(request).sections),
        "breaking_news": SimpleLazyObject(lambda: site_header(request).banner),
    }
