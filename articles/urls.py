from django.urls import path, register_converter

from . import converters, feeds, views

register_converter(converters.YearConverter, "yyyy")
register_converter(converters.TwoDigitConverter, "mm")
register_converter(converters.TwoDigitConverter, "dd")

app_name = "articles"

urlpatterns = [
    path("", views.HomeView.as_view(), name="home"),
    path("section/<slug:slug>/", views.SectionView.as_view(), name="section"),
    path("tag/<str:slug>/", views.TagView.as_view(), name="tag"),
    path("author/<slug:slug>/", views.AuthorView.as_view(), name="author"),
    path("feed/rss/", feeds.LatestArticlesFeed(), name="latest-rss"),
    path("feed/atom/", feeds.LatestArticlesAtomFeed(), name="latest-atom"),
    path("section/<slug:slug>/feed/rss/", feeds.SectionFeed(), name="section-rss"),
    path("section/<slug:slug>/feed/atom/", feeds.SectionAtomFeed(), name="section-atom"),
    path("tag/<str:slug>/feed/rss/", feeds.TagFeed(), name="tag-rss"),
    path("tag/<str:slug>/feed/atom/", feeds.TagAtomFeed(), name="tag-atom"),
    path("author/<slug:slug>/feed/rss/", feeds.AuthorFeed(), name="author-rss"),
    path("author/<slug:slug>/feed/atom/", feeds.AuthorAtomFeed(), name="author-atom"),
    path("search/", views.SearchView.as_view(), name="search"),
    path("archive/", views.ArticleArchiveView.as_view(), name="archive"),
    path("corrections/", views.CorrectionListView.as_view(), name="corrections"),
    path("preview/<str:signed_token>/", views.PreviewLinkView.as_view(), name="preview"),
    path("<yyyy:year>/", views.ArticleYearArchiveView.as_view(), name="archive-year"),
    path("<yyyy:year>/<mm:month>/", views.ArticleMonthArchiveView.as_view(), name="archive-month"),
    path("<yyyy:year>/<mm:month>/<dd:day>/", views.ArticleDayArchiveView.as_view(), name="archive-day"),
    path(
        "<yyyy:year>/<mm:month>/<dd:day>/<slug:slug>/",
        views.ArticleDetailView.as_view(),
        name="article",
    ),
]
