"""The newsroom's models, one module per concern; import them from here."""

from .articles import (
    RELATED_ARTICLES_COUNT,
    RELATED_CANDIDATES,
    RELATED_WINDOW,
    Article,
    ArticleQuerySet,
    Authorship,
    Related,
    TaggedArticle,
    listing_prefetches,
)
from .base import NaturalKeyManager
from .corrections import Correction, CorrectionQuerySet
from .editing import EDITING_EXPIRY, EDITING_PING, EditingSession
from .frontpage import SECTION_BLOCK_SIZE, BreakingNews, FrontPageSlot
from .images import Image, Rendition, image_upload_to, srcset
from .links import published_condition, with_published_articles
from .live import LiveUpdate
from .previews import PreviewLink, PreviewLinkQuerySet, new_preview_token, preview_expiry
from .redirects import ArticleRedirect, ArticleRedirectQuerySet
from .search import ArticleSearchEntry
from .taxonomy import Author, Section, Tag

__all__ = [
    "RELATED_ARTICLES_COUNT",
    "RELATED_CANDIDATES",
    "RELATED_WINDOW",
    "SECTION_BLOCK_SIZE",
    "Article",
    "ArticleQuerySet",
    "ArticleRedirect",
    "ArticleRedirectQuerySet",
    "ArticleSearchEntry",
    "Author",
    "BreakingNews",
    "Authorship",
    "Correction",
    "EDITING_EXPIRY",
    "EDITING_PING",
    "EditingSession",
    "CorrectionQuerySet",
    "FrontPageSlot",
    "Image",
    "LiveUpdate",
    "NaturalKeyManager",
    "PreviewLink",
    "PreviewLinkQuerySet",
    "Related",
    "Rendition",
    "Section",
    "Tag",
    "TaggedArticle",
    "image_upload_to",
    "listing_prefetches",
    "new_preview_token",
    "preview_expiry",
    "srcset",
    "published_condition",
    "with_published_articles",
]
