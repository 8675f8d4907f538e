import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from .factories import make_article, make_author, make_section, relate
pytestmark = pytest.mark.django_db

def test_probe(client, admin_client):
    s = make_section(); a = make_author()
    p = make_article(tags=["Mali"], section=s, authors=[a])
    d = make_article(status="draft", tags=["Mali"], section=s)
    with CaptureQueriesContext(connection) as c:
        r = client.get(p.get_absolute_url())
    print(r.status_code, len(c.captured_queries))
    for q in c.captured_queries: print("  ", q["sql"][:150])
    print(dict(r.headers))
    with CaptureQueriesContext(connection) as c:
        r = admin_client.get(d.get_absolute_url())
    print(r.status_code, len(c.captured_queries))
    for q in c.captured_queries: print("  ", q["sql"][:150])
    print(dict(r.headers))
    for url in ["/", s.get_absolute_url(), "/tag/mali/", a.get_absolute_url()]:
        with CaptureQueriesContext(connection) as c:
            r = client.get(url)
        print(url, r.status_code, len(c.captured_queries))
    r = client.get("/nope/")
    print(r.status_code, r.content.decode()[:3000])
