import json, io
import pytest
from django.core.management import call_command
from articles.models import *
pytestmark = pytest.mark.django_db(transaction=True)

def test_probe(tmp_path):
    call_command("loaddata", "demo", verbosity=0)
    print(Article.objects.count(), Article.objects.published().count())
    out = tmp_path / "d.json"
    call_command("dumpdata", "articles", natural_foreign=True, natural_primary=True, output=str(out), indent=1)
    d = json.loads(out.read_text())
    from collections import Counter
    print(Counter(o["model"] for o in d))
    print([o for o in d if o["model"]=="articles.taggedarticle"][:3])
    print([o for o in d if o["model"]=="articles.tag"][:2])
    for bad in [
        '[{"model": "articles.section", "fields": {"name": "X", "slug": "x"}}, {"model": ',
        json.dumps([{"model": "articles.section", "fields": {"name": "X", "slug": "x"}}, {"model":"articles.article","fields":{"headline":"h","slug":"h","section":["nope"],"status":"draft","published_at":"2021-01-01T00:00:00Z"}}]),
        json.dumps([{"model": "articles.section", "fields": {"name": "X", "slug": "x"}}, {"model":"articles.related","fields":{"article":["mali-receives-helicopters-and-weapons-from-russia"],"related_article":["mali-receives-helicopters-and-weapons-from-russia"],"position":0}}]),
        json.dumps([{"model": "articles.section", "fields": {"name": "X", "slug": "x"}}, {"model":"articles.tag","fields":{"name":"MALI","slug":"mali-2"}}]),
    ]:
        f = tmp_path / "bad.json"; f.write_text(bad)
        try:
            call_command("loaddata", str(f), verbosity=0)
        except Exception as e:
            print(type(e).__mro__[:3], str(e)[:300])
        print(Section.objects.filter(slug="x").exists())
