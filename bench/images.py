"""
`make bench-images`: the photo benchmark (not a test). The time to make every
rendition of a 12-megapixel JPEG, and the article page's transfer size on a
phone (Chromium at 390 CSS pixels, 3x and 2x density).

    DATABASE_URL=sqlite:///var/bench-images.sqlite3 python bench/images.py [--runs 3]

Needs the demo articles loaded (the Makefile target migrates and loads them
into a throwaway database); writes files to a temporary folder only.
"""

import argparse
import io
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "newsroom.settings")
import django  # noqa: E402

django.setup()

from django.core.files.uploadedfile import SimpleUploadedFile  # noqa: E402
from django.core.servers.basehttp import ThreadedWSGIServer  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.test.testcases import QuietWSGIRequestHandler  # noqa: E402
from django.test.utils import override_settings  # noqa: E402
from PIL import Image as PILImage  # noqa: E402
from PIL import ImageDraw, ImageFilter  # noqa: E402

from articles.images import ensure_renditions, prepare_upload, save_prepared_image  # noqa: E402
from articles.models import Article, Rendition  # noqa: E402
from browser_tests.chromium import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

SEED = "mali-receives-helicopters-and-weapons-from-russia"


def twelve_megapixel_jpeg():
    """A 4000×3000 JPEG with photo-like detail (noise over gradients and shapes), about 4–6 MB."""
    width, height = 4000, 3000
    base = PILImage.merge(
        "RGB",
        [
            PILImage.linear_gradient("L").resize((width, height)),
            PILImage.radial_gradient("L").resize((width, height)),
            PILImage.linear_gradient("L").rotate(90).resize((width, height)),
        ],
    )
    draw = ImageDraw.Draw(base)
    for i in range(60):
        x, y = (i * 617) % width, (i * 379) % height
        draw.ellipse((x, y, x + 300 + i * 7, y + 200 + i * 5), fill=((i * 40) % 256, (i * 90) % 256, (i * 20) % 256))
    noise = PILImage.effect_noise((width, height), 48).convert("RGB")
    photo = PILImage.blend(base.filter(ImageFilter.GaussianBlur(2)), noise, 0.18)
    buffer = io.BytesIO()
    photo.save(buffer, "JPEG", quality=92)
    return buffer.getvalue()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3, help="Rendition runs to time (the best is reported).")
    runs = parser.parse_args().runs
    article = Article.objects.filter(slug=SEED).first()
    if article is None:
        raise SystemExit(f"Load the demo first: the article {SEED} is missing (`manage.py loaddata demo`).")
    with tempfile.TemporaryDirectory() as media_root, override_settings(MEDIA_ROOT=media_root):
        image = time_renditions(runs)
        previous = article.lead_image
        article.lead_image = image
        article.save(update_fields=["lead_image"])
        try:
            measure_page(article)
        finally:
            article.lead_image = previous
            article.save(update_fields=["lead_image"])
            image.delete()


def time_renditions(runs):
    data = twelve_megapixel_jpeg()
    print(f"Source: 4000×3000 JPEG (12.0 megapixels), {len(data) / 1e6:.1f} MB")
    started = time.perf_counter()
    prepared = prepare_upload(SimpleUploadedFile("bench.jpg", data))
    checked = time.perf_counter() - started
    image = save_prepared_image(prepared=prepared, alt_text="Benchmark photo", credit="Benchmark", renditions=False)
    best = None
    for _ in range(runs):
        image.renditions.all().delete()
        image = type(image).objects.prefetch_related("renditions").get(pk=image.pk)
        started = time.perf_counter()
        made = ensure_renditions(image)
        elapsed = time.perf_counter() - started
        best = elapsed if best is None else min(best, elapsed)
    renditions = list(image.renditions.all())
    by_format = {}
    for rendition in renditions:
        by_format.setdefault(rendition.format, []).append(rendition.file.size)
    print(f"Upload check and clean copy (verify, decode, orient, strip, re-encode): {checked:.2f} s")
    print(f"All {made} renditions of a 12-megapixel JPEG: {best:.2f} s (best of {runs})")
    for format, sizes in sorted(by_format.items()):
        print(f"  {format}: {len(sizes)} files, {sum(sizes) / 1024:.0f} KB")
    return type(image).objects.prefetch_related("renditions").get(pk=image.pk)


def measure_page(article):
    if not os.access(CHROMIUM, os.X_OK):
        print(f"No Chromium at {CHROMIUM}: page weight not measured.")
        return
    from playwright.sync_api import sync_playwright

    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    server = ThreadedWSGIServer(("127.0.0.1", 0), QuietWSGIRequestHandler)
    server.set_app(get_wsgi_application())
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}{article.get_absolute_url()}"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            for scale in (3, 2):
                measure_viewport(browser, url, scale)
            browser.close()
    finally:
        server.shutdown()
        server.server_close()


def measure_viewport(browser, url, scale):
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, device_scale_factor=scale, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    responses = []
    page.on("requestfinished", lambda request: responses.append(request))
    page.goto(url, wait_until="networkidle")
    page.mouse.wheel(0, 20000)  # scroll to the end: lazy images load too
    page.wait_for_timeout(500)
    total = 0
    rows = []
    for request in responses:
        sizes = request.sizes()
        size = sizes["responseBodySize"] + sizes["responseHeadersSize"]
        total += size
        rows.append((request.resource_type, request.url.split("/", 3)[-1], size))
    chosen = page.eval_on_selector(".lead-image img", "img => img.currentSrc")
    context.close()
    print(
        f"Article page on a phone (390 CSS px, {scale}× density): {total / 1024:.0f} KB transferred "
        f"in {len(rows)} responses"
    )
    for kind, path, size in rows:
        print(f"  {kind:<10} {size / 1024:7.1f} KB  /{path}")
    chosen_rendition = Rendition.objects.filter(file=chosen.split("/media/", 1)[-1]).first()
    if chosen_rendition:
        print(f"  lead image chosen: {chosen_rendition.spec} ({chosen_rendition.width} px wide)")


if __name__ == "__main__":
    main()
