"""
Before the server starts: pick the benchmark URLs, count SQL queries per page
in-process (Django's test client through the whole middleware stack, the
server's settings, DEBUG off), and write the static ceiling file, a copy of the
article page's HTML, into STATIC_ROOT (WhiteNoise scans it at start-up).

    DJANGO_DEBUG=0 ... python bench/prepare.py OUTDIR   -> OUTDIR/prepare.json, urls_mix.txt, queries_*.sql
"""

import json
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "newsroom.settings")
import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from articles.management.commands.generate_corpus import RARE_WORDS  # noqa: E402
from articles.models import Article, Section, Tag  # noqa: E402

# A name in about 0.1% of the corpus, as a reader's search for a person or place is.
SEARCH_WORDS = RARE_WORDS[7]


def main(out):
    assert not settings.DEBUG, "run with DJANGO_DEBUG=0, like the server"
    out.mkdir(parents=True, exist_ok=True)
    live = Article.objects.published().order_by("published_at", "id")
    n = live.count()
    middle = live[n // 2]
    ids = list(live.values_list("pk", flat=True))
    mix = [a.get_absolute_url() for a in Article.objects.filter(pk__in=random.Random(7).sample(ids, min(200, n)))]
    (out / "urls_mix.txt").write_text("\n".join(mix) + "\n")
    section = Section.objects.annotate(c=Count("articles")).order_by("-c", "name").first()
    tag = Tag.objects.annotate(c=Count("taggedarticle_items")).order_by("-c", "name").first()
    urls = {
        "article": middle.get_absolute_url(),
        "home": "/",
        "section": section.get_absolute_url(),
        "tag": tag.get_absolute_url(),
        "search": f"/search/?q={SEARCH_WORDS}",
    }

    client = Client(HTTP_HOST="127.0.0.1")
    pages = {}
    for name, url in urls.items():
        runs = []
        for _ in range(3):  # the first request in a process warms its caches; report the last
            with CaptureQueriesContext(connection) as ctx:
                started = time.perf_counter()
                response = client.get(url)
                ms = (time.perf_counter() - started) * 1000
            runs.append({"status": response.status_code, "queries": len(ctx), "ms": round(ms, 2)})
        if response.status_code != 200:
            if name == "search":  # search is optional: measured once /search/ exists
                continue
            raise SystemExit(f"{url} answered {response.status_code}")
        sql = "\n".join(f"-- {i}\n{q['sql']};" for i, q in enumerate(ctx.captured_queries, 1))
        (out / f"queries_{name}.sql").write_text(sql + "\n")
        pages[name] = {"url": url, "bytes": len(response.content), "runs": runs, **runs[-1]}
        if name == "article":
            article_html = response.content

    mix_queries = []
    for url in mix:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200, url
        mix_queries.append(len(ctx))
    pages["mix"] = {"url": urls["article"], "queries": max(mix_queries), "queries_min": min(mix_queries)}

    static = Path(settings.STATIC_ROOT) / "bench" / "article.html"
    static.parent.mkdir(parents=True, exist_ok=True)
    static.write_bytes(article_html)
    pages["static"] = {"url": f"/{settings.STATIC_URL.strip('/')}/bench/article.html", "bytes": len(article_html)}

    info = {
        "articles_live": n,
        "section": f"{section.name} ({section.c} articles)",
        "tag": f"{tag.name} ({tag.c} articles)",
        "pages": pages,
    }
    (out / "prepare.json").write_text(json.dumps(info, indent=2) + "\n")
    for name, page in pages.items():
        print(f"{name:8} {page['url']:60} {page.get('queries', 0):3} queries {page.get('ms', '')} ms")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
