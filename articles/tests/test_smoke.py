import pytest

from .factories import make_article

pytestmark = pytest.mark.django_db


def test_published_article_page_renders(client):
    article = make_article(headline="Hello readers", tags=["Mali"])
    response = client.get(article.get_absolute_url())
    assert response.status_code == 200
    assert b"Hello readers" in response.content
