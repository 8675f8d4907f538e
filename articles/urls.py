from django.urls import path, register_converter

from . import converters, views

register_converter(converters.YearConverter, "yyyy")
register_converter(converters.TwoDigitConverter, "mm")
register_converter(converters.TwoDigitConverter, "dd")

app_name = "articles"

urlpatterns = [
    path("", views.HomeView.as_view(), name="home"),
    path("section/<slug:slug>/", views.SectionView.as_view(), name="section"),
    path("tag/<str:slug>/", views.TagView.as_view(), name="tag"),
    path("author/<slug:slug>/", views.AuthorView.as_view(), name="author"),
    path(
        "<yyyy:year>/<mm:month>/<dd:day>/<slug:slug>/",
        views.ArticleDetailView.as_view(),
        name="article",
    ),
]
