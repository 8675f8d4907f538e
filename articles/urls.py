from django.urls import path, register_converter

from . import converters, feeds, views
from .caching import cache_public_page as cached
from .caching.keys import ARCHIVE, CORRECTIONS, HOME, SEARCH

register_converter(converters.YearConverter, "yyyy")
register_converter(converters.MonthConverter, "mm")
register_converter(converters.TwoDigitConverter, "dd")
register_converter(converters.TagSlugConverter, "tagslug")

app_name = "articles"
archive = cached(keys=[ARCHIVE])

urlpatterns = [
    path("", cached(views.HomeView.as_view(), keys=[HOME]), name="home"),
    path("section/<slug:slug>/", cached(views.SectionView.as_view()), name="section"),
    path("tag/<tagslug:slug>/", cached(views.TagView.as_view()), name="tag"),
    path("author/<slug:slug>/", cached(views.AuthorView.as_view()), name="author"),
    path("feed/rss/", cached(feeds.LatestArticlesFeed(), keys=[HOME]), name="latest-rss"),
    path("feed/atom/", cached(feeds.LatestArticlesAtomFeed(), keys=[HOME]), name="latest-atom"),
    path("section/<slug:slug>/feed/rss/", cached(feeds.SectionFeed()), name="section-rss"),
    path("section/<slug:slug>/feed/atom/", cached(feeds.SectionAtomFeed()), name="section-atom"),
    path("tag/<tagslug:slug>/feed/rss/", cached(feeds.TagFeed()), name="tag-rss"),
    path("tag/<tagslug:slug>/feed/atom/", cached(feeds.TagAtomFeed()), name="tag-atom"),
    path("author/<slug:slug>/feed/rss/", cached(feeds.AuthorFeed()), name="author-rss"),
    path("author/<slug:slug>/feed/atom/", cached(feeds.AuthorAtomFeed()), name="author-atom"),
    # Results depend on every public article: dropped on any change to one (keys.SEARCH).
    path("search/", cached(views.SearchView.as_view(), keys=[SEARCH]), name="search"),
    path("archive/", cached(views.ArticleArchiveView.as_view(), keys=[ARCHIVE]), name="archive"),
    path("corrections/", cached(views.CorrectionListView.as_view(), keys=[CORRECTIONS]), name="corrections"),
    path("preview/<str:signed_token>/", views.PreviewLinkView.as_view(), name="preview"),
    path("<yyyy:year>/", archive(views.ArticleYearArchiveView.as_view()), name="archive-year"),
    path(
        "<yyyy:year>/<mm:month>/",
        archive(views.ArticleMonthArchiveView.as_view()),
        name="archive-month",
    ),
    path(
        "<yyyy:year>/<mm:month>/<dd:day>/",
        archive(views.ArticleDayArchiveView.as_view()),
        name="archive-day",
    ),
    path(
        "<yyyy:year>/<mm:month>/<dd:day>/<slug:slug>/",
        cached(views.ArticleDetailView.as_view()),
        name="article",
    ),
]
