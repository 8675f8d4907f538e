"""
Sitemaps for search engines: /sitemap.xml is an index of the article, section,
tag and author sitemaps; /news-sitemap.xml is the Google News sitemap of the
last 48 hours. Only published articles, and only the sections, tags and
authors that have one, are listed. Served without django.contrib.sites: the
domain is the requested host.
"""

from datetime import timedelta

from django.contrib.sitemaps import Sitemap
from django.db.models import Max
from django.utils import timezone

from .models import Article, Author, Section, Tag

NEWS_WINDOW = timedelta(hours=48)


class ArticleSitemap(Sitemap):
    changefreq = "weekly"
    limit = 5000

    def items(self):
        return Article.objects.published().newest_first().only("slug", "published_at", "updated_at")

    def lastmod(self, article):
        return max(article.updated_at, article.published_at)


class ArticleListSitemap(Sitemap):
    """Sections, tags or authors that have published articles, last modified when their newest was published."""

    model = None
    articles_lookup = None  # from the model to its articles
    changefreq = "daily"

    def items(self):
        return (
            self.model.objects.filter(**{f"{self.articles_lookup}__in": Article.objects.published()})
            .annotate(lastmod=Max(f"{self.articles_lookup}__published_at"))
            .order_by("slug")
            .only("slug")
        )

    def lastmod(self, obj):
        return obj.lastmod


class SectionSitemap(ArticleListSitemap):
    model = Section
    articles_lookup = "articles"


class TagSitemap(ArticleListSitemap):
    model = Tag
    articles_lookup = "taggedarticle_items__content_object"


class AuthorSitemap(ArticleListSitemap):
    model = Author
    articles_lookup = "articles"


class NewsSitemap(Sitemap):
    """Articles published in the last 48 hours, for templates/sitemaps/news.xml (Google News, at most 1000)."""

    limit = 1000

    def items(self):
        return (
            Article.objects.published()
            .filter(published_at__gte=timezone.now() - NEWS_WINDOW)
            .newest_first()
            .only("headline", "slug", "published_at", "updated_at")
        )

    def lastmod(self, article):
        return max(article.updated_at, article.published_at)


sitemaps = {
    "articles": ArticleSitemap,
    "sections": SectionSitemap,
    "tags": TagSitemap,
    "authors": AuthorSitemap,
}
