from django.conf import settings
from django.utils.functional import SimpleLazyObject

from .models import BreakingNews, Section


def site(request):
    """The site's name, its sections and the breaking-news banner, for the header of every page."""
    return {
        "site_name": settings.NEWSROOM_NAME,
        "site_description": settings.NEWSROOM_DESCRIPTION,
        "site_language": settings.NEWSROOM_LANGUAGE,
        # Lazy: evaluated only when a template renders the menu or the banner.
        "nav_sections": Section.objects.all(),
        "breaking_news": SimpleLazyObject(lambda: BreakingNews.objects.current().first()),
    }
