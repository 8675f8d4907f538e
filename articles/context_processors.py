from django.conf import settings

from .models import Section


def site(request):
    """The site's name and its sections, for the header of every page."""
    return {
        "site_name": settings.NEWSROOM_NAME,
        "site_description": settings.NEWSROOM_DESCRIPTION,
        "site_language": settings.NEWSROOM_LANGUAGE,
        # Lazy: evaluated only when a template renders the menu.
        "nav_sections": Section.objects.all(),
    }
