"""
The reader's hot queries are served by indexes, read from the database's own
query plans on a realistic corpus (generate_corpus): previous/next, the home,
section and tag lists, related articles and search.

On PostgreSQL (CI runs it) the plans come from EXPLAIN after ANALYZE, so the
planner sees real statistics, and any "Seq Scan on articles_article" fails. On
SQLite (no statistics, as a site has by default), EXPLAIN QUERY PLAN must not
show "SCAN articles_article" (a full table scan); index scans ("SCAN ... USING
INDEX") and searches are fine.
"""

import io

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from articles.management.commands.generate_corpus import RARE_WORDS
from articles.models import Article, Section, Tag

CORPUS = 10_000 if connection.vendor == "postgresql" else 5_000


@pytest.fixture(scope="module")
def corpus(django_db_setup, django_db_blocker):
    """One realistic corpus for the whole module (generated once, removed afterwards)."""
    with django_db_blocker.unblock():
        call_command("generate_corpus", CORPUS, seed=2, replace=True, stdout=io.StringIO(), stderr=io.StringIO())
        if connection.vendor == "postgresql":
            # What autovacuum does on a live site; SQLite sites keep no statistics by default.
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        yield
        call_command("flush", interactive=False, verbosity=0)


def plan(sql):
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("EXPLAIN " + sql)
            return "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("EXPLAIN QUERY PLAN " + sql)
        return "\n".join(row[-1] for row in cursor.fetchall())


def full_scans_of_articles(text):
    lines = text.splitlines()
    if connection.vendor == "postgresql":
        return [line for line in lines if "Seq Scan on articles_article " in line + " "]
    return [line for line in lines if line.strip().startswith("SCAN articles_article") and "USING" not in line]


def page_queries(path):
    """The SQL of every query a reader's request for `path` runs (with its parameters inlined)."""
    with CaptureQueriesContext(connection) as captured:
        response = Client().get(path)
    assert response.status_code == 200, path
    return [query["sql"] for query in captured.captured_queries]


def assert_index_served(path):
    for sql in page_queries(path):
        if "articles_article" not in sql:
            continue
        text = plan(sql)
        assert not full_scans_of_articles(text), f"{path}: full scan of the article table\n{sql}\n{text}"


@pytest.fixture
def middle_article(corpus):
    published = Article.objects.published().order_by("published_at", "id")
    return published[published.count() // 2]


@pytest.mark.django_db
def test_article_page_previous_next_and_related_use_indexes(middle_article):
    assert_index_served(middle_article.get_absolute_url())


@pytest.mark.django_db
def test_previous_next_within_a_tag_use_indexes(middle_article):
    tag = middle_article.tags.first()
    assert_index_served(f"{middle_article.get_absolute_url()}?in=tag:{tag.slug}")


@pytest.mark.django_db
def test_home_uses_indexes(corpus):
    assert_index_served("/")
    assert_index_served("/?page=5")


@pytest.mark.django_db
@pytest.mark.parametrize("which", ["busiest", "rarest"])
def test_section_and_tag_pages_use_indexes(corpus, which):
    from django.db.models import Count

    order = "-c" if which == "busiest" else "c"
    section = Section.objects.annotate(c=Count("articles")).order_by(order, "pk").first()
    tag = Tag.objects.annotate(c=Count("taggedarticle_items")).filter(c__gt=0).order_by(order, "pk").first()

    assert_index_served(section.get_absolute_url())
    assert_index_served(tag.get_absolute_url())


@pytest.mark.django_db
@pytest.mark.parametrize("query", [RARE_WORDS[7], f"{RARE_WORDS[7]}+harvest"])
def test_search_uses_indexes(corpus, query):
    """A selective search (a name in ~0.1% of articles); a word in every article is rightly a scan."""
    assert_index_served(f"/search/?q={query}")
