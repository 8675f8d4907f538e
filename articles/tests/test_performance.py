"""
Performance plumbing: the corpus generator, pagination without COUNT(*),
previous/next in one query, the bounded related fill, the health endpoint and
the serving configuration.
"""

import importlib.util
import io
import json
from datetime import timedelta
from pathlib import Path
from unittest import mock

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from articles.models import RELATED_WINDOW, Article, Related, Section, Tag, TaggedArticle
from articles.pagination import NewerOlderPaginator

from .factories import make_article, make_section

pytestmark = pytest.mark.django_db
DRAFT = Article.Status.DRAFT


def generate(count, **options):
    stdout = io.StringIO()
    call_command("generate_corpus", count, stdout=stdout, stderr=io.StringIO(), **options)
    return stdout.getvalue()


# The corpus generator.


def test_generate_corpus_makes_news_shaped_articles():
    output = generate(300, seed=3, batch_size=70)

    assert "Generated 300 published articles" in output
    published = Article.objects.published()
    assert published.count() == 300
    assert Article.objects.filter(status=DRAFT).exists()
    assert Article.objects.filter(status=Article.Status.PUBLISHED, published_at__gt=timezone.now()).exists()
    article = published.order_by("id")[150]
    paragraphs = article.body.count("<p>")
    assert 6 <= paragraphs <= 8
    assert 600 <= len(article.body.split()) <= 1100
    assert article.standfirst and article.section
    assert 3 <= article.tags.count() <= 5
    assert 1 <= article.authorships.count() <= 2
    assert Related.objects.filter(article=article).count() == 3
    assert Tag.objects.count() == 300
    assert Section.objects.count() == 12
    span = published.order_by("-published_at")[0].published_at - published.order_by("published_at")[0].published_at
    assert span > timedelta(days=3 * 365)


def test_generate_corpus_has_exact_ties_and_a_skewed_tag_pool():
    generate(1000, seed=1)

    times = list(Article.objects.published().values_list("published_at", flat=True))
    assert len(times) - len(set(times)) >= 5, "some articles share their publication second"
    counts = sorted((tag.taggedarticle_items.count() for tag in Tag.objects.all()), reverse=True)
    assert 0.2 <= counts[0] / 1000 <= 0.4, "the busiest tag is on about 30% of articles"
    assert counts[len(counts) // 2] < 20


def test_generate_corpus_body_is_already_what_the_sanitizer_returns():
    """bulk_create passes the body through the sanitizer; generating clean HTML keeps it unchanged (and cheap)."""
    from articles.html import sanitize_html

    generate(20, seed=5)

    for body in Article.objects.values_list("body", flat=True):
        assert sanitize_html(body) == body


def test_generate_corpus_is_repeatable_with_a_seed():
    generate(50, seed=9)
    first = list(Article.objects.order_by("id").values_list("headline", "slug", "body"))
    generate(50, seed=9, replace=True)

    assert list(Article.objects.order_by("id").values_list("headline", "slug", "body")) == first


def test_generate_corpus_refuses_to_mix_with_existing_articles():
    make_article()

    with pytest.raises(CommandError, match="--replace"):
        generate(10)
    assert Article.objects.count() == 1


@pytest.mark.parametrize("count", [0, -5])
def test_generate_corpus_rejects_a_non_positive_count(count):
    with pytest.raises(CommandError, match="positive"):
        generate(count)


# Pagination without COUNT(*).


def test_newer_older_paginator_knows_the_next_page_from_one_extra_row():
    make_section()
    for i in range(25):
        make_article(days=-i - 1)
    articles = Article.objects.published().newest_first()
    paginator = NewerOlderPaginator(articles, 10)

    with CaptureQueriesContext(connection) as queries:
        first, last = paginator.page(1), paginator.page(3)

    assert len(queries) == 2
    assert all("COUNT(" not in query["sql"].upper() for query in queries.captured_queries)
    assert "LIMIT 11" in queries.captured_queries[0]["sql"]
    assert (first.has_next(), first.has_previous(), first.next_page_number()) == (True, False, 2)
    assert (last.has_next(), last.has_previous(), last.previous_page_number(), len(last)) == (False, True, 2, 5)


@pytest.mark.parametrize("path", ["/", "/section/scoped/", "/tag/everywhere/"])
def test_public_lists_never_count_the_whole_list(client, path):
    section = make_section("Scoped", slug="scoped")
    for i in range(12):
        make_article(days=-i - 1, section=section, tags=["Everywhere"])

    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)

    assert response.status_code == 200
    assert not [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]
    assert f'<a rel="next" href="{path}?page=2">Older →</a>' in response.content.decode()
    assert client.get(path, {"page": 2}).status_code == 200
    assert client.get(path, {"page": 3}).status_code == 404


def test_an_empty_list_is_one_empty_page(client):
    assert client.get("/").status_code == 200
    assert client.get("/?page=2").status_code == 404


# Previous/next in one query; related articles within a window.


def test_previous_and_next_come_from_one_query_and_walk_ties_by_id(django_assert_num_queries):
    moment = timezone.now() - timedelta(days=2)
    older = make_article(published_at=moment - timedelta(hours=1))
    tie_a, tie_b, tie_c = (make_article(published_at=moment) for _ in range(3))
    make_article(status=DRAFT, published_at=moment)
    make_article(days=3)  # scheduled: never a neighbour

    with django_assert_num_queries(1):
        assert tie_b.get_previous_and_next_published() == (tie_a, tie_c)
    assert tie_a.get_previous_and_next_published() == (older, tie_b)
    assert tie_c.get_previous_and_next_published() == (tie_b, None)
    assert older.get_previous_and_next_published() == (None, tie_a)
    for article in (older, tie_a, tie_b, tie_c):
        expected = (article.get_previous_published(), article.get_next_published())
        assert article.get_previous_and_next_published() == expected


def test_related_fill_looks_only_at_articles_written_around_this_one():
    article = make_article(tags=["Mali", "Niger"])
    near = make_article(tags=["Mali"])
    far = make_article(tags=["Mali", "Niger"])
    # Move `far` out of the window by id, as if thousands of articles came between.
    TaggedArticle.objects.filter(content_object=far).delete()
    Article.objects.filter(pk=far.pk).update(id=article.pk + RELATED_WINDOW + 1)
    far = Article.objects.get(pk=article.pk + RELATED_WINDOW + 1)
    far.tags.add("Mali", "Niger")

    assert article.get_related_articles() == [near]


def test_related_fill_skips_drafts_and_keeps_curated_first():
    article = make_article(tags=["Mali", "Niger"])
    curated = make_article(tags=["Sport"])
    draft_curated = make_article(status=DRAFT)
    both = make_article(tags=["Mali", "Niger"])
    one = make_article(tags=["Mali"])
    make_article(status=DRAFT, tags=["Mali", "Niger"])
    Related.objects.create(article=article, related_article=draft_curated, position=0)
    Related.objects.create(article=article, related_article=curated, position=1)

    assert article.get_related_articles() == [curated, both, one]


# The health endpoint.


def test_healthz_reports_database_and_cache(client, django_assert_num_queries):
    with django_assert_num_queries(1):
        response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"database": "ok", "cache": "ok"}
    assert "no-store" in response["Cache-Control"]


def test_healthz_is_503_naming_the_database_when_it_is_down(client):
    with mock.patch.object(connection, "cursor", side_effect=DatabaseError("connection refused")):
        response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {"database": "unavailable", "cache": "ok"}
    assert "no-store" in response["Cache-Control"]


@pytest.mark.parametrize("failure", [{"side_effect": ConnectionError("redis is down")}, {"return_value": None}])
def test_healthz_is_503_naming_the_cache_when_it_fails(client, failure):
    with mock.patch("newsroom.health.cache.get", **failure):
        response = client.get("/healthz")

    assert response.status_code == 503
    assert json.loads(response.content) == {"database": "ok", "cache": "unavailable"}


def test_healthz_answers_only_reads(client):
    assert client.post("/healthz").status_code == 405
    assert client.head("/healthz").status_code == 200


def test_healthz_is_exempt_from_the_https_redirect(client, settings):
    settings.SECURE_SSL_REDIRECT = True

    assert client.get("/healthz").status_code == 200
    assert client.get("/").status_code == 301


# Serving configuration.


def load_gunicorn_config(monkeypatch, **env):
    for name in ("GUNICORN_BIND", "WEB_CONCURRENCY", "GUNICORN_THREADS", "GUNICORN_ACCESS_LOG", "HOST", "PORT"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    spec = importlib.util.spec_from_file_location("gunicorn_conf", Path(settings.BASE_DIR) / "gunicorn.conf.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_gunicorn_config_defaults_from_the_cpu_count(monkeypatch):
    with mock.patch("multiprocessing.cpu_count", return_value=4):
        config = load_gunicorn_config(monkeypatch)

    assert (config.workers, config.threads, config.bind) == (9, 1, "127.0.0.1:8000")
    assert config.timeout == 30 and config.accesslog == "-"
    assert "%(M)s" in config.access_log_format


def test_gunicorn_config_reads_the_environment(monkeypatch):
    config = load_gunicorn_config(
        monkeypatch, GUNICORN_BIND="0.0.0.0:9000", WEB_CONCURRENCY="2", GUNICORN_THREADS="4", GUNICORN_ACCESS_LOG=""
    )

    assert (config.workers, config.threads, config.bind, config.accesslog) == (2, 4, "0.0.0.0:9000", None)


def settings_in_subprocess(code, **env):
    import os
    import subprocess
    import sys

    environment = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "DATABASE_"))}
    environment |= env
    return subprocess.run(
        [sys.executable, "-c", f"import newsroom.settings as s; {code}"],
        cwd=settings.BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def test_postgres_connection_pool_is_opt_in_and_turns_persistent_connections_off():
    url = "postgres://postgres@127.0.0.1:5432/newsroom"
    code = 'd = s.DATABASES["default"]; print(d.get("OPTIONS", {}).get("pool"), d["CONN_MAX_AGE"])'

    assert settings_in_subprocess(code, DATABASE_URL=url) == "None 60"
    pooled = settings_in_subprocess(code, DATABASE_URL=url, DJANGO_DB_POOL="1", DJANGO_DB_POOL_MAX="20")
    assert pooled == "{'min_size': 2, 'max_size': 20, 'timeout': 10} 0"
    assert settings_in_subprocess(code, DJANGO_DB_POOL="1") == "None 60"  # SQLite: no pool, kept connections
