from datetime import date
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import admin
from django.core import signing
from django.core.paginator import InvalidPage
from django.db.models import Q, prefetch_related_objects
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.text import Truncator
from django.views.generic import (
    ArchiveIndexView,
    DayArchiveView,
    DetailView,
    ListView,
    MonthArchiveView,
    YearArchiveView,
)

from . import search
from .bodies import render_bodies
from .caching.keys import FRONT_PAGE, list_key, related_lists, shows
from .header import site_header
from .models import (
    SECTION_BLOCK_SIZE,
    Article,
    ArticleRedirect,
    Author,
    Correction,
    FrontPageSlot,
    LiveUpdate,
    PreviewLink,
    Section,
    Tag,
    listing_prefetches,
    with_published_articles,
)
from .pagination import NewerOlderPaginator


class PublishedArticlesMixin:
    """Every public list starts from Article.objects.published()."""

    paginate_by = settings.NEWSROOM_ARTICLES_PER_PAGE
    # What the page cache keys pages on (caching.pages.page_key): every query parameter the view reads.
    query_parameters = ("page",)

    def get_queryset(self):
        # Lists show teasers: the bodies stay in the database.
        return Article.objects.published().with_listing_data().newest_first().defer("body")

    def paginate_queryset(self, queryset, page_size):
        """Newer/Older pages without a COUNT(*); a page number past the end or malformed is a 404."""
        paginator = NewerOlderPaginator(queryset, page_size)
        try:
            page = paginator.page(self.kwargs.get(self.page_kwarg) or self.request.GET.get(self.page_kwarg) or 1)
        except InvalidPage:
            raise Http404("No such page.") from None
        return paginator, page, page.object_list, page.has_other_pages()


def feed_links(name, **kwargs):
    """The RSS and Atom feeds of a page, for <link rel="alternate"> and the visible feed links."""
    return [
        {"format": "RSS", "type": "application/rss+xml", "url": reverse(f"articles:{name}-rss", kwargs=kwargs)},
        {"format": "Atom", "type": "application/atom+xml", "url": reverse(f"articles:{name}-atom", kwargs=kwargs)},
    ]


class HomeView(PublishedArticlesMixin, ListView):
    """
    The front page. Editors curate its lead and top stories (FrontPageSlot):
    then page 1 shows the lead, the top stories and a block per section with
    its latest stories, and the list of the rest, newest first, leaves the
    curated stories out on every page. With nothing curated it is the plain
    newest-first list. Queries: sections, front-page slots, then when some are
    current their stories and the section blocks (page 1), the page of the
    list, then bylines and thumbnails for all of them.
    """

    template_name = "articles/home.html"

    def get(self, request, *args, **kwargs):
        shows(FRONT_PAGE)
        # Also the header's menu: sections with a published story (a draft's section stays unseen).
        self.sections = site_header(request).sections
        self.curated = FrontPageSlot.objects.stories()
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        articles = Article.objects.published().select_related("section", "lead_image").newest_first().defer("body")
        return articles.exclude(pk__in=[article.pk for article in self.curated])

    def get_section_blocks(self):
        """Each section's latest stories not curated above, in one query (an index-served subquery per section)."""
        if not self.sections:
            return []
        curated_ids = [article.pk for article in self.curated]
        latest_of_each = Q()
        for section in self.sections:
            latest = Article.objects.published().filter(section=section).exclude(pk__in=curated_ids)
            latest_of_each |= Q(pk__in=latest.newest_first().values("pk")[:SECTION_BLOCK_SIZE])
        articles = Article.objects.filter(latest_of_each).select_related("section", "lead_image").defer("body")
        by_section = {}
        for article in articles.newest_first():
            by_section.setdefault(article.section_id, []).append(article)
        return [(section, by_section[section.pk]) for section in self.sections if section.pk in by_section]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        front_page = self.curated and context["page_obj"].number == 1
        blocks = self.get_section_blocks() if front_page else []
        shown = [*self.curated, *(article for _, articles in blocks for article in articles), *context["object_list"]]
        prefetch_related_objects(shown, *listing_prefetches())
        return context | {
            "feeds": feed_links("latest"),
            "lead": self.curated[0] if front_page else None,
            "top_stories": self.curated[1:] if front_page else [],
            "section_blocks": blocks,
        }


class ScopedArticleListView(PublishedArticlesMixin, ListView):
    """The published articles of one section, tag or author."""

    scope_model = None
    scope_filter = None
    # "tag" or "section": teasers link to ?in=<kind>:<slug> so previous/next stay in this list.
    navigation_scope = None
    template_name = "articles/article_list.html"

    def get_queryset(self):
        slug = self.kwargs["slug"]
        # Only with a published article: a draft-only tag, section or author is not public yet.
        self.scope = with_published_articles(self.scope_model.objects.filter(slug=slug)).first()
        if self.scope is None:
            raise Http404(f"No {self.scope_model._meta.verbose_name} “{slug}”.")
        shows(list_key(self.scope))
        return super().get_queryset().filter(**{self.scope_filter: self.scope})

    def get_context_data(self, **kwargs):
        intro = getattr(self.scope, "description", "") or getattr(self.scope, "bio", "")
        return super().get_context_data(
            scope=self.scope,
            scope_label=self.scope_model._meta.verbose_name.capitalize(),
            intro=intro,
            page_description=Truncator(intro).chars(160)
            if intro
            else f"The latest articles on {self.scope} from {settings.NEWSROOM_NAME}.",
            feeds=feed_links(self.scope_model._meta.model_name, slug=self.scope.slug),
            teaser_scope=f"{self.navigation_scope}:{self.scope.slug}" if self.navigation_scope else "",
            **kwargs,
        )


class SectionView(ScopedArticleListView):
    scope_model = Section
    scope_filter = "section"
    navigation_scope = "section"


class TagView(ScopedArticleListView):
    scope_model = Tag
    scope_filter = "tags"
    navigation_scope = "tag"


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

    query_parameters = ("in",)

    def get_queryset(self):
        articles = Article.objects.all() if self.is_preview_allowed() else Article.objects.published()
        return articles.select_related("section", "lead_image")

    def is_preview_allowed(self):
        # The admin's own rule: staff, past the second factor if they set one up (newsroom/admin.py).
        return admin.site.has_permission(self.request) and self.request.user.has_perm("articles.view_article")

    def get(self, request, *args, **kwargs):
        try:
            self.object = self.get_object()
        except Http404:
            return self.redirect_from_old_address(request)
        canonical = self.object.get_absolute_url()
        if request.path != canonical:
            moved = ArticleRedirect.objects.live_article_for(request.path)
            if moved is not None:  # another article took this slug; this address was `moved`'s
                return redirect(moved.get_absolute_url(), permanent=True)
            if request.GET.get("in"):
                canonical += "?" + urlencode({"in": request.GET["in"]}, safe=":")
            return redirect(canonical, permanent=self.object.is_live)
        response = self.render_to_response(self.get_context_data(object=self.object))
        if not self.object.is_live:
            add_never_cache_headers(response)
        return response

    def redirect_from_old_address(self, request):
        """An address the article had before a slug or date change: 301 to where it is now (or the 404)."""
        moved = ArticleRedirect.objects.live_article_for(request.path)
        if moved is None:
            raise Http404("No such article.")
        return redirect(moved.get_absolute_url(), permanent=True)

    def get_object(self, queryset=None):
        try:
            date(self.kwargs["year"], self.kwargs["month"], self.kwargs["day"])
        except ValueError:
            raise Http404("No such date.") from None
        return super().get_object(queryset).load_page_data()

    def get_navigation_scope(self):
        """
        The tag or section named by ?in=tag:<slug> or ?in=section:<slug>,
        when this article belongs to it; otherwise None and previous/next walk
        the whole site. The article's section and tags are already loaded, so
        this costs no query.
        """
        kind, _, slug = self.request.GET.get("in", "").partition(":")
        article = self.object
        if kind == "section" and article.section and article.section.slug == slug:
            return article.section
        if kind == "tag":
            for tag in article.tags.all():
                if tag.slug == slug:
                    return tag
        return None

    def get_context_data(self, **kwargs):
        article = self.object
        nav_scope = self.get_navigation_scope()
        # The ?in= value previous/next links carry on (empty: site-wide).
        nav_scope_param = self.request.GET["in"] if nav_scope else ""
        updates, corrections = article.corrections_for_readers()
        shows(*related_lists(article))
        # A live page's updates in one query; the figures of its body and every update in one more.
        live_updates = (
            list(LiveUpdate.objects.filter(article=article).select_related("author")) if article.live_coverage else []
        )
        body, *update_bodies = render_bodies([article.body, *(update.body for update in live_updates)])
        for update, update_body in zip(live_updates, update_bodies, strict=True):
            update.body_html = update_body
        return super().get_context_data(
            body=body,
            has_embeds="data-embed-src" in body or any("data-embed-src" in each for each in update_bodies),
            live_updates=live_updates,
            key_points=[update for update in live_updates if update.is_key_point],
            live_poll_seconds=settings.NEWSROOM_LIVE_POLL_SECONDS,
            updates=updates,
            corrections=corrections,
            links=article.get_links(nav_scope),
            nav_scope=nav_scope,
            nav_scope_param=nav_scope_param,
            **kwargs,
        )


class ArchiveMixin(PublishedArticlesMixin):
    """
    Date-based archives of published articles, by local publication date. An
    empty period is a 404, and its previous/next links skip to periods that
    have articles (a query each, on the bare queryset; only the page's own
    articles get their listing data).
    """

    date_field = "published_at"
    month_format = "%m"
    day_format = "%d"
    allow_empty = False

    def get_queryset(self):
        return Article.objects.published().newest_first()

    def get_dated_items(self):
        date_list, articles, extra_context = super().get_dated_items()
        return date_list, articles.with_listing_data().defer("body"), extra_context


class ArticleArchiveView(ArchiveMixin, ArchiveIndexView):
    """/archive/: the years and months that have articles (one query); no article list."""

    date_list_period = "month"
    allow_empty = True
    paginate_by = None


class ArticleYearArchiveView(ArchiveMixin, YearArchiveView):
    """The months of one year that have articles."""

    date_list_period = "month"
    make_object_list = False
    paginate_by = None

    def get_dated_queryset(self, **lookup):
        # Django's emptiness check would load every article of the year; its
        # months (get_date_list, a 404 when there are none) tell the same in one query.
        return self.get_queryset().filter(**lookup)


class ArticleMonthArchiveView(ArchiveMixin, MonthArchiveView):
    pass


class ArticleDayArchiveView(ArchiveMixin, DayArchiveView):
    pass


class CorrectionListView(ListView):
    """/corrections/: every correction, clarification and update to a published article, newest first."""

    paginate_by = 20
    query_parameters = ("page",)
    # Newer/Older pages, no COUNT(*), as the article lists.
    paginate_queryset = PublishedArticlesMixin.paginate_queryset

    def get_queryset(self):
        return (
            Correction.objects.published()
            .select_related("article")
            .only("kind", "text", "created_at", "article__headline", "article__slug", "article__published_at")
            .newest_first()
        )


class PreviewLinkView(ArticleDetailView):
    """
    /preview/<signed token>/: a draft or scheduled article for someone without
    an account, as readers will see it, under a "Preview" banner. Never cached,
    never indexed. A tampered or unknown link is a 404; an expired or revoked
    one a 410; once the article is live, the link redirects to its public URL,
    and once it has been live the link stays dead (410), even if it is unpublished.
    """

    def get(self, request, *args, **kwargs):
        try:
            token = PreviewLink.token_from_signed(kwargs["signed_token"])
        except signing.BadSignature:
            raise Http404("No such preview link.") from None
        link = get_object_or_404(PreviewLink.objects.select_related("article"), token=token)
        if link.article.is_live:
            return self.private(redirect(link.article.get_absolute_url()))
        if not link.is_active:
            response = render(request, "articles/preview_gone.html", {"link": link}, status=410)
            return self.private(response)
        self.object = self.get_article(link)
        return self.private(self.render_to_response(self.get_context_data(object=self.object, preview_link=link)))

    def get_article(self, link):
        # The link is the permission: any article, published or not, with what its page shows.
        articles = Article.objects.select_related("section", "lead_image")
        return get_object_or_404(articles, pk=link.article_id).load_page_data()

    @staticmethod
    def private(response):
        add_never_cache_headers(response)
        response["X-Robots-Tag"] = "noindex, nofollow"
        return response


class SearchView(ListView):
    """
    /search/?q=...&section=<slug>&tag=<slug>&page=<n>: published articles
    matching the query, best first, with highlighted snippets (articles/search.py).

    Nothing a reader types is an error: an empty, too long or unanswerable
    query, an unknown section or tag and a bad page number each get a normal
    page with a message. Queries: sections and tags for the form (the sections
    also fill the header), then the page of ranked matches (with their count),
    its articles and their bylines.
    """

    template_name = "articles/search.html"
    paginate_by = settings.NEWSROOM_ARTICLES_PER_PAGE
    query_parameters = ("q", "section", "tag", "page")
    paginator_class = search.SearchPaginator

    def get(self, request, *args, **kwargs):
        self.notices = []
        self.query, truncated = search.clean_query(request.GET.get("q", ""))
        if truncated:
            limit = search.MAX_QUERY_LENGTH
            self.notices.append(f"Searches are limited to {limit} characters; this one was shortened.")
        self.parsed = search.parse_query(self.query)
        if self.query and not self.parsed:
            self.notices.append(
                "There was nothing to look for in that search: add a word or a phrase "
                "(punctuation and -exclusions alone find nothing)."
            )
        self.sections = site_header(request).sections
        self.tags = list(search.published_tags())
        self.section = self.choose(self.sections, "section")
        self.tag = self.choose(self.tags, "tag")
        return super().get(request, *args, **kwargs)

    def choose(self, options, parameter):
        slug = self.request.GET.get(parameter, "")
        if not slug:
            return None
        for option in options:
            if option.slug == slug:
                return option
        name = Truncator(slug).chars(40)
        self.notices.append(f"There is no {parameter} “{name}”, so all {parameter}s were searched.")
        return None

    def get_queryset(self):
        articles = Article.objects.published()
        if self.section:
            articles = articles.filter(section=self.section)
        return search.search(articles, self.parsed, tag=self.tag)

    def paginate_queryset(self, queryset, page_size):
        """Like ListView's, but a malformed or out-of-range page number shows the first or last page."""
        paginator = self.get_paginator(queryset, page_size)
        page = paginator.get_page(self.request.GET.get(self.page_kwarg))
        return paginator, page, page.object_list, page.has_other_pages()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        parameters = {
            "q": self.query,
            "section": self.section and self.section.slug,
            "tag": self.tag and self.tag.slug,
        }
        return context | {
            "results": context["object_list"],
            "query": self.query,
            "searched": bool(self.parsed),
            "notices": self.notices,
            "sections": self.sections,
            "tags": self.tags,
            "tag_options": search.tag_options(self.tags, self.tag),
            "section": self.section,
            "tag": self.tag,
            "search_parameters": urlencode({key: value for key, value in parameters.items() if value}),
        }
