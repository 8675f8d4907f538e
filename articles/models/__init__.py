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
)
from .base import NaturalKeyManager
from .corrections import Correction, CorrectionQuerySet
from .images import Image, Rendition, image_upload_to, srcset
from .live import LiveUpdate
from .previews import PreviewLink, PreviewLinkQuerySet, new_preview_token, preview_expiry
from .search import ArticleSearchEntry
from .taxonomy import Author, Section, Tag

__all__ = [
    "RELATED_ARTICLES_COUNT",
    "RELATED_CANDIDATES",
    "RELATED_WINDOW",
    "Article",
    "ArticleQuerySet",
    "ArticleSearchEntry",
    "Author",
    "Authorship",
    "Correction",
    "CorrectionQuerySet",
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
    "new_preview_token",
    "preview_expiry",
    "srcset",
]
