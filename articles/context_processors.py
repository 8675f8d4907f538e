from django.conf import settings
from django.utils.functional import SimpleLazyObject

from .models import BreakingNews, Section, with_published_articles


def site(request):
    """The site's name, its sections and the breaking-news banner, for the header of every page."""
    return {
        "site_name": settings.NEWSROOM_NAME,
        "site_description": settings.NEWSROOM_DESCRIPTION,
        "site_language": settings.NEWSROOM_LANGUAGE,
        # Lazy, query and all: built only when a template renders the menu (views that list the
        # sections anyway pass their own). A section without a published article stays out of it
        # (caching.keys adds MENU when that changes).
        "nav_sections": SimpleLazyObject(lambda: list(with_published_articles(Section.objects.all()))),
        "breaking_news": SimpleLazyObject(lambda: BreakingNews.objects.current().first()),
    }
