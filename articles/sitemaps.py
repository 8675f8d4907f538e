"""
Sitemaps for search engines: /sitemap.xml is an index of the home page,
article, section, tag and author sitemaps; /news-sitemap.xml is the Google
News sitemap of the last 48 hours. Only published articles, and only the
sections, tags and authors that have one, are listed. Served without
django.contrib.sites: the domain is the requested host.
"""

from datetime import timedelta

from django.contrib.sitemaps import Sitemap
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone

from .caching.keys import changes_at
from .models import Article, Author, Section, Tag

NEWS_WINDOW = timedelta(hours=48)
HOME_PAGE = "articles:home"


class HomeSitemap(Sitemap):
    """The home page, last modified when the newest article was published."""

    changefreq = "hourly"

    def items(self):
        return [HOME_PAGE]

    def location(self, name):
        return reverse(name)

    def lastmod(self, name):
        return Article.objects.published().aggregate(newest=Max("published_at"))["newest"]


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
    """
    Articles published in the last 48 hours, for templates/sitemaps/news.xml
    (Google News, at most 1000). The sitemaps schema wants at least one <url>:
    with nothing that recent, it lists the newest article without its news
    metadata, as Google allows for articles past the window (the home page on a
    site with no article). The cached copy expires when its oldest entry leaves.
    """

    limit = 1000

    def items(self):
        window_start = timezone.now() - NEWS_WINDOW
        articles = Article.objects.published().newest_first().only("headline", "slug", "published_at", "updated_at")
        recent = list(articles.filter(published_at__gte=window_start)[: self.limit])
        if recent:
            changes_at(recent[-1].published_at + NEWS_WINDOW)
            for article in recent:
                article.is_news = True
            return recent
        return list(articles[:1]) or [HOME_PAGE]

    def location(self, item):
        return reverse(item) if item == HOME_PAGE else item.get_absolute_url()

    def lastmod(self, item):
        return None if item == HOME_PAGE else max(item.updated_at, item.published_at)


sitemaps = {
    "pages": HomeSitemap,
    "articles": ArticleSitemap,
    "sections": SectionSitemap,
    "tags": TagSitemap,
    "authors": AuthorSitemap,
}
