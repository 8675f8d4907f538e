"""
A reader finds the seed article through search, then reads on within one of
its tags: from the tag page, "Next in Mali" walks the tag to its end. On the
demo newsroom, with nothing going wrong in the browser (CSP included: the
article page's JSON-LD carries the nonce).
"""

import json
import re

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from articles.models import Article, Tag

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SEED = "Mali receives helicopters and weapons from Russia"


@pytest.fixture
def demo():
    call_command("loaddata", "demo", verbosity=0)


def assert_no_problems(problems, where):
    found = problems.take()
    assert not found, f"browser problems on {where}:\n" + "\n".join(found)


def test_search_open_the_seed_article_and_walk_a_tag(demo, open_page):
    page, problems = open_page()

    # Search from the header on the home page.
    page.goto("/")
    page.locator("#site-search-q").fill("Wagner")
    page.locator("#site-search-q").press("Enter")
    expect(page).to_have_url(re.compile(r"/search/\?q=Wagner"))
    expect(page.locator("h1")).to_contain_text("Wagner")
    assert_no_problems(problems, "the search results")

    # Open the seed article from the results.
    page.locator(".search-results").get_by_role("link", name=SEED).click()
    expect(page.locator("h1")).to_have_text(SEED)
    structured = json.loads(page.locator('script[type="application/ld+json"]').text_content())
    assert structured[0]["@type"] == "NewsArticle"
    assert structured[0]["headline"] == SEED
    assert page.locator('meta[property="og:type"]').get_attribute("content") == "article"
    expect(page.locator(".prev-next .label").first).to_have_text("Previous article")
    assert_no_problems(problems, "the seed article")

    # Its tag "Mali", then the seed article again from the tag page: now in the tag's scope.
    page.locator(".article-tags").get_by_role("link", name="Mali", exact=True).click()
    expect(page.locator("h1")).to_have_text("Mali")
    page.locator(".teasers").get_by_role("link", name=SEED).click()
    expect(page).to_have_url(re.compile(r"\?in=tag:mali$"))
    canonical = page.locator('link[rel="canonical"]').get_attribute("href")
    assert canonical.endswith("/2021/10/01/mali-receives-helicopters-and-weapons-from-russia/")
    assert_no_problems(problems, "the tag page and the scoped article")

    # Walk "Next in Mali" to the end: every later published Mali article, once, in order.
    mali = Tag.objects.get(slug="mali")
    seed = Article.objects.get(headline=SEED)
    expected = [
        article.headline
        for article in Article.objects.published()
        .filter(tags=mali, published_at__gte=seed.published_at)
        .exclude(pk=seed.pk)
        .order_by("published_at", "id")
    ]
    assert expected, "the demo has Mali articles after the seed"
    seen = []
    while page.locator('a[rel="next"]').count():
        expect(page.locator(".prev-next .next .label")).to_have_text("Next in Mali")
        page.locator('a[rel="next"]').click()
        expect(page).to_have_url(re.compile(r"\?in=tag:mali$"))
        seen.append(page.locator("h1").text_content())
        expect(page.locator(".prev-next .prev .label")).to_have_text("Previous in Mali")
        assert len(seen) <= len(expected)
    assert seen == expected
    assert_no_problems(problems, "the walk through Mali")
