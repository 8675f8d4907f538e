"""
The editors' admin, one module per concern: articles (roles, scheduling and
publishing), their history (django-reversion), previews, images, taxonomy
(sections, authors, tags), and the forms and widgets they use.
"""

# "articles" comes before "taggit" in INSTALLED_APPS, so the admin's autodiscovery imports
# this package first: import taggit's admin now, so that its Tag can be unregistered below.
import taggit.admin  # noqa: F401
from django.contrib import admin
from taggit.models import Tag as TaggitTag

from .articles import ArticleAdmin, ArticleRedirectAdmin
from .frontpage import BreakingNewsAdmin, FrontPageSlotAdmin
from .images import ImageAdmin
from .live import LiveUpdateAdmin
from .previews import PreviewLinkAdmin
from .taxonomy import AuthorAdmin, SectionAdmin, TagAdmin

# We use our own Tag model; taggit's generic one would only confuse editors.
if admin.site.is_registered(TaggitTag):
    admin.site.unregister(TaggitTag)

__all__ = [
    "ArticleAdmin",
    "ArticleRedirectAdmin",
    "AuthorAdmin",
    "BreakingNewsAdmin",
    "FrontPageSlotAdmin",
    "ImageAdmin",
    "LiveUpdateAdmin",
    "PreviewLinkAdmin",
    "SectionAdmin",
    "TagAdmin",
]
