from datetime import date

from django.conf import settings
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.views.generic import DetailView, ListView

from .models import Article, Author, Section, Tag


class PublishedArticlesMixin:
    """Every public list starts from Article.objects.published()."""

    paginate_by = settings.NEWSROOM_ARTICLES_PER_PAGE
    # A page number past the end is a 404, a malformed one too (Django's default).

    def get_queryset(self):
        return Article.objects.published().with_listing_data().newest_first()


class HomeView(PublishedArticlesMixin, ListView):
    template_name = "articles/home.html"


class ScopedArticleListView(PublishedArticlesMixin, ListView):
    """The published articles of one section, tag or author."""

    scope_model = None
    scope_filter = None
    template_name = "articles/article_list.html"

    def get_queryset(self):
        self.scope = get_object_or_404(self.scope_model, slug=self.kwargs["slug"])
        return super().get_queryset().filter(**{self.scope_filter: self.scope})

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            scope=self.scope,
            scope_label=self.scope_model._meta.verbose_name.capitalize(),
            intro=getattr(self.scope, "description", "") or getattr(self.scope, "bio", ""),
            **kwargs,
        )


class SectionView(ScopedArticleListView):
    scope_model = Section
    scope_filter = "section"


class TagView(ScopedArticleListView):
    scope_model = Tag
    scope_filter = "tags"


class AuthorView(ScopedArticleListView):
    scope_model = Author
    scope_filter = "authors"


class ArticleDetailView(DetailView):
    """
    An article at its canonical URL, /<year>/<month>/<day>/<slug>/.

    The slug alone finds it (it is unique); the date comes from the local
    publication time, and a URL with another date redirects permanently to the
    canonical one. Staff who may view articles also see drafts and scheduled
    articles here, with a "Not published" banner and no caching.
    """

    def get_queryset(self):
        articles = Article.objects.all() if self.is_preview_allowed() else Article.objects.published()
        return articles.with_listing_data().prefetch_related("tags")

    def is_preview_allowed(self):
        user = self.request.user
        return user.is_active and user.is_staff and user.has_perm("articles.view_article")

    def get(self, request, *args, **kwargs):
        self.object = self.get_object()
        canonical = self.object.get_absolute_url()
        if request.path != canonical:
            return redirect(canonical, permanent=self.object.is_live)
        response = self.render_to_response(self.get_context_data(object=self.object))
        if not self.object.is_live:
            add_never_cache_headers(response)
        return response

    def get_object(self, queryset=None):
        try:
            date(self.kwargs["year"], self.kwargs["month"], self.kwargs["day"])
        except ValueError:
            raise Http404("No such date.")
        return super().get_object(queryset)

    def get_context_data(self, **kwargs):
        article = self.object
        return super().get_context_data(
            previous_article=article.get_previous_published(),
            next_article=article.get_next_published(),
            related_articles=article.get_related_articles(),
            now=timezone.now(),
            **kwargs,
        )
