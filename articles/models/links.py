"""
Where an article's page links to (previous/next in a scope, related articles) in one
raw query, and the visibility rule as SQL for such queries. Raw SQL because building
these parts with the ORM cost more CPU than the rest of the page (docs/performance.md).
"""

from typing import NamedTuple

from django.db import connection
from django.db.models import Exists, OuterRef, prefetch_related_objects

from .articles import (
    RELATED_ARTICLES_COUNT,
    RELATED_CANDIDATES,
    RELATED_WINDOW,
    Article,
    Authorship,
    TaggedArticle,
    lead_image_renditions,
)
from .taxonomy import Author, Section, Tag


def published_condition():
    """
    ArticleQuerySet.published() as SQL on the unaliased article table, (sql,
    params): raw queries use the one visibility rule instead of repeating it.
    """
    query = Article.objects.published().query
    compiler = query.get_compiler(connection=connection)
    return compiler.compile(query.where)


class ArticleLinks(NamedTuple):
    """Where an article's page links to: its neighbours and its related articles."""

    previous: Article | None
    next: Article | None
    related: list


def article_links(article, scope=None, *, related=RELATED_ARTICLES_COUNT):
    """
    ArticleLinks(previous, next, related) for `article`'s page, in one query.

    previous and next: the published articles immediately older and newer, by
    (published_at, id), within `scope` (a Section or Tag) when given. related:
    up to `related` articles, the editor's curated links in position order,
    then the published articles sharing the most tags (most recent first on
    ties) among the best RELATED_CANDIDATES of the RELATED_WINDOW articles
    written before and after this one (the window keeps the cost the same at
    any size of archive; a busy tag is on thousands of articles).

    SQL, because building these four parts with the ORM took more CPU than
    the rest of the page together (docs/performance.md). The links are
    teasers: no body.
    """
    live, live_params = published_condition()
    at = Article._meta.get_field("published_at").get_db_prep_value(article.published_at, connection)
    columns = "{t}.id, {t}.headline, {t}.slug, {t}.standfirst, {t}.published_at, {t}.lead_image_id"
    # A tag scope is a join, as the ORM writes filter(tags=tag): PostgreSQL then walks the
    # (status, published_at, id) index and checks each article in the tagged-article index
    # (an IN (subquery) made it scan the whole table).
    scope_join, join_params, scope_where, where_params = "", [], "", []
    if isinstance(scope, Section):
        scope_where, where_params = "AND articles_article.section_id = %s", [scope.pk]
    elif isinstance(scope, Tag):
        scope_join = "JOIN articles_taggedarticle s ON s.content_object_id = articles_article.id AND s.tag_id = %s"
        join_params = [scope.pk]
    parts, params = [], []
    for link, compare, order in (("previous", "<", "DESC"), ("next", ">", "ASC")):
        # published() on the row itself, so the index serves it. published_at {<=,>=} t gives
        # the database a range to start from (it cannot derive one from the OR); it comes
        # first because SQLite, given two upper bounds, starts from the first one.
        parts.append(
            f"""SELECT {columns.format(t="articles_article")}, 0 AS rank, '{link}' AS link
            FROM articles_article {scope_join}
            WHERE articles_article.published_at {compare}= %s AND {live} {scope_where}
            AND (articles_article.published_at {compare} %s OR articles_article.id {compare} %s)
            ORDER BY articles_article.published_at {order}, articles_article.id {order} LIMIT 1"""
        )
        params += [*join_params, at, *live_params, *where_params, at, article.pk]
    if related:
        # Articles found by id are checked against published() by id: as a condition on
        # the joined row, SQLite (without statistics) would walk the whole status index.
        is_live = f"EXISTS (SELECT 1 FROM articles_article WHERE articles_article.id = a.id AND {live})"
        curated = f"""SELECT {columns.format(t="a")}, r.position AS rank FROM articles_related r
            JOIN articles_article a ON a.id = r.related_article_id WHERE r.article_id = %s AND {is_live}"""
        parts.append(f"SELECT curated.*, 'curated' AS link FROM ({curated}) curated ORDER BY rank, id LIMIT %s")
        params += [article.pk, *live_params, related]
        parts.append(
            f"""SELECT {columns.format(t="a")}, candidates.shared AS rank, 'tagged' AS link FROM (
                SELECT t.content_object_id AS id, COUNT(*) AS shared FROM articles_taggedarticle t
                WHERE t.tag_id IN (SELECT tag_id FROM articles_taggedarticle WHERE content_object_id = %s)
                AND t.content_object_id BETWEEN %s AND %s AND t.content_object_id <> %s
                AND t.content_object_id NOT IN (SELECT curated.id FROM ({curated}) curated)
                GROUP BY t.content_object_id ORDER BY shared DESC, t.content_object_id DESC LIMIT %s
            ) candidates JOIN articles_article a ON a.id = candidates.id
            WHERE {is_live} ORDER BY candidates.shared DESC, a.published_at DESC, a.id DESC LIMIT %s"""
        )
        params += [article.pk, article.pk - RELATED_WINDOW, article.pk + RELATED_WINDOW, article.pk]
        params += [article.pk, *live_params, RELATED_CANDIDATES, *live_params, related]
    sql = " UNION ALL ".join(f"SELECT * FROM ({part}) part{number}" for number, part in enumerate(parts))
    found = {"previous": None, "next": None, "curated": [], "tagged": []}
    for linked in Article.objects.raw(sql, params):
        if linked.link in ("previous", "next"):
            found[linked.link] = linked
        else:
            found[linked.link].append(linked)
    found["curated"].sort(key=lambda article: (article.rank, article.pk))
    found["tagged"].sort(key=lambda article: (-article.rank, -article.published_at.timestamp(), -article.pk))
    related_articles = (found["curated"] + found["tagged"])[:related]
    return ArticleLinks(found["previous"], found["next"], with_thumbnails(related_articles))


def with_thumbnails(articles):
    """Their lead images and renditions: two queries more, only when some of them has a lead image."""
    if any(article.lead_image_id for article in articles):  # prefetching nothing still costs ~0.5 ms
        prefetch_related_objects(articles, "lead_image", lead_image_renditions())
    return articles


def with_published_articles(scopes):
    """
    `scopes` (a queryset of sections, tags or authors) narrowed to those with a
    published article: a draft's section, tag or author stays unseen. An EXISTS
    in the same query, from the scope's own rows to their articles, so it stops
    at the first published one.
    """
    published = Article.objects.published()
    if scopes.model is Section:
        return scopes.filter(Exists(published.filter(section=OuterRef("pk"))))
    if scopes.model is Tag:
        links = TaggedArticle.objects.filter(tag=OuterRef("pk"))
        return scopes.filter(Exists(links.filter(Exists(published.filter(pk=OuterRef("content_object_id"))))))
    if scopes.model is Author:
        links = Authorship.objects.filter(author=OuterRef("pk"))
        return scopes.filter(Exists(links.filter(Exists(published.filter(pk=OuterRef("article_id"))))))
    raise TypeError(f"{scopes.model.__name__} has no articles.")
