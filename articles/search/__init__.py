"""
Full-text search over articles, on PostgreSQL and on SQLite.

search() is the one entry point; SearchPaginator reads its result a page at
a time. Only the newest MAX_RESULTS matches are ranked, so a search costs
about the same however common its words. The modules: query (the reader's
query, parsed once for both databases), postgresql and sqlite (each
database's index and SQL), highlights (safe <mark> markup). How it works and
what it costs: docs/search.md.
"""

import math

from django.core.paginator import Paginator
from django.db import connections
from django.db.models import Exists, OuterRef, Q
from django.utils.html import escape
from django.utils.safestring import mark_safe

from . import postgresql, sqlite
from .query import MAX_QUERY_LENGTH, clean_query, parse_query

# Signal receivers, connected in articles/apps.py.
from .sqlite import register_functions as register_sqlite_functions
from .sqlite import restore_index as restore_sqlite_index

__all__ = [
    "MAX_QUERY_LENGTH",
    "MAX_RESULTS",
    "Matches",
    "SearchPaginator",
    "clean_query",
    "install_index",
    "parse_query",
    "published_tags",
    "register_sqlite_functions",
    "restore_sqlite_index",
    "search",
    "tag_options",
    "uninstall_index",
]

# The newest matches that are ranked, and so the most a search shows: "at least
# 500 articles match", and no search costs more than ranking 500 articles.
MAX_RESULTS = 500

_BACKENDS = {"postgresql": postgresql, "sqlite": sqlite}


def search(queryset, query, *, tag=None):
    """
    The articles of `queryset` matching `query` (a ParsedQuery), best first,
    only those with `tag` if given: Matches, to read a page at a time through
    SearchPaginator.

    The tag is not a filter of `queryset` so that it can be checked on its own,
    from the tag's index, before anything else: SQLite reads the matches one by
    one, and a rare tag with a common word would otherwise read the article row
    of every match.
    """
    vendor = connections[queryset.db].vendor
    if vendor not in _BACKENDS:
        raise NotImplementedError(f"Search supports PostgreSQL and SQLite, not {vendor}.")
    return Matches(queryset, query, tag=tag)


# One page of ranked candidates, numbered and counted in the same pass; a page
# past the end is the last one. The backend's SQL before it defines `scored`
# (id, score, published_at) for the newest MAX_RESULTS matches.
_RANKED_PAGE = """
    ranked AS (
        SELECT id,
            row_number() OVER (ORDER BY score DESC, published_at DESC, id DESC) AS position,
            count(*) OVER () AS total
        FROM scored
    )
    SELECT id, position, total FROM ranked
    WHERE position > CASE WHEN %s < total THEN %s ELSE (total - 1) / %s * %s END
    ORDER BY position
    LIMIT %s
"""


class Matches:
    """
    The result of a search, read a page at a time with ranked(). The index
    hands over the newest MAX_RESULTS matches and stops there; they are ranked,
    numbered and counted by one query, which returns a page's ids, and a second
    query fetches those articles with their highlights.
    """

    def __init__(self, queryset, query, *, tag=None):
        self.queryset = queryset
        self.query = query
        self.tag = tag
        self.backend = _BACKENDS[connections[queryset.db].vendor]

    def ranked(self, *, offset, limit):
        """
        (articles, position of the first, number of ranked matches) for the
        page at `offset`, or the last page when `offset` is past the end. Each
        article has its section, its byline and safe HTML highlights (see
        highlights.highlight()). No query when there is nothing to look for.
        """
        if not self.query:
            return [], 0, 0
        sql, params = self.ranked_sql(offset=offset, limit=limit)
        with connections[self.queryset.db].cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        if not rows:
            return [], 0, 0
        ids = [row[0] for row in rows]
        return self.articles(ids), rows[0][1], rows[0][2]

    def ranked_sql(self, *, offset, limit):
        sql, params = self.backend.scored(self.queryset, self.query, tagged=self._tagged(), limit=MAX_RESULTS)
        return sql + _RANKED_PAGE, (*params, offset, offset, limit, limit, limit)

    def articles(self, ids):
        order = {pk: position for position, pk in enumerate(ids)}
        articles = self.backend.highlighted(self.queryset, self.query, ids)
        return sorted(articles, key=lambda article: order[article.pk])

    def _tagged(self):
        """Tagged with the tag (an Exists on each match), or no condition at all when there is none."""
        from ..models import TaggedArticle

        return Exists(TaggedArticle.objects.filter(tag=self.tag, content_object=OuterRef("pk"))) if self.tag else Q()


class SearchPaginator(Paginator):
    """
    Django's page API over Matches. The count (of the ranked matches, at most
    MAX_RESULTS) comes with the page, from the same query: there is no COUNT.
    A malformed page number shows the first page, one past the end the last.
    """

    def get_page(self, number):
        try:
            number = max(int(number), 1)
        except (TypeError, ValueError):
            number = 1
        # Past the last possible page is the last page, with no huge OFFSET sent to the database.
        number = min(number, math.ceil(MAX_RESULTS / self.per_page))
        offset = (number - 1) * self.per_page
        articles, first, self.count = self.object_list.ranked(offset=offset, limit=self.per_page)
        number = (first - 1) // self.per_page + 1 if articles else 1
        return self._get_page(articles, number, self)

    page = get_page

    @property
    def is_capped(self):
        return self.count >= MAX_RESULTS


# The search form's tag filter


def published_tags():
    """The tag filter's choices: tags on at least one published article (a draft's tag stays unseen)."""
    from ..models import Tag, with_published_articles

    # From each tag's own taggings to their articles, so that the check stops at
    # the tag's first published article; the join the ORM writes for
    # `tags=OuterRef("pk")` let SQLite walk the newest articles looking for each tag.
    return with_published_articles(Tag.objects.all()).order_by("name")


def tag_options(tags, selected):
    """
    The tag filter's <option>s as safe HTML, written here rather than by a
    template loop: every tag in use is one, hundreds on a large newsroom.
    """
    return mark_safe(
        "".join(
            f'<option value="{escape(tag.slug)}"{" selected" if tag == selected else ""}>{escape(tag.name)}</option>'
            for tag in tags
        )
    )


# The index, for migrations and rebuild_search_index


def install_index(schema_editor, *, rebuild=False):
    """The database's search index, created where missing (or rebuilt)."""
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        sqlite.install_index(schema_editor.connection, rebuild=rebuild)
    elif vendor == "postgresql":
        postgresql.install_index(schema_editor, rebuild=rebuild)


def uninstall_index(schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        sqlite.uninstall_index(schema_editor.connection)
    elif vendor == "postgresql":
        postgresql.uninstall_index(schema_editor)
