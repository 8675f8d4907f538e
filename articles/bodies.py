"""
Bodies (an article's, a live update's) as readers and feeds get them.

The stored body stays what the editor wrote (sanitized, articles/html.py): a
pasted URL on its own line is a paragraph, a photo from the library is a
<figure data-image-id>. Rendering turns them into click-to-load embeds
(articles/embeds.py) and responsive figures, with two or more library figures
in a row shown as a gallery. The text part is a pure function of the body, kept
in a per-process cache; the images of every body on a page come from one query.
docs/editors.md says what editors do, docs/performance.md what it costs.
"""

import functools
import html
import re
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from django.core.files.storage import default_storage
from django.template.loader import render_to_string
from django.utils.html import format_html, strip_tags
from django.utils.safestring import mark_safe

from .embeds import Embed, find_embed
from .models import Image, Rendition

# The sanitizer writes attributes in double quotes and escapes their text, so these read its output exactly.
_BLOCKS = re.compile(
    r'<p>\s*(?:<a href="(?P<href>[^"]+)"[^>]*>(?P<text>(?:(?!</a>).)*)</a>|(?P<bare>https?://[^\s<]+))\s*</p>'
    r"|<figure(?P<attrs>[^>]*)>(?P<inner>(?:(?!</figure>).)*)</figure>",
    re.DOTALL,
)
_IMAGE_ID = re.compile(r'\bdata-image-id="(\d+)"')
_CAPTION = re.compile(r"<figcaption>(.*?)</figcaption>", re.DOTALL)


@dataclass(frozen=True)
class EmbedBlock:
    embed: Embed
    title: str  # the link's text when the editor gave one, else ""


@dataclass(frozen=True)
class Figure:
    image_id: int
    caption: str  # the body's caption (sanitized HTML); empty: the image's own


@dataclass(frozen=True)
class Gallery:
    figures: tuple


@functools.lru_cache(maxsize=2048)
def parse(body):
    """The body as a tuple of HTML strings, EmbedBlocks, Figures and Galleries (cached: bodies repeat)."""
    parts = []
    position = 0
    for match in _BLOCKS.finditer(body or ""):
        block = _block(match)
        if block is None:
            continue
        parts.append(body[position : match.start()])
        parts.append(block)
        position = match.end()
    parts.append(body[position:] if body else "")
    return tuple(_galleries(part for part in parts if part != ""))


def _block(match):
    if match["attrs"] is not None:
        found = _IMAGE_ID.search(match["attrs"]) or _IMAGE_ID.search(match["inner"])
        if not found:
            return None  # a figure not from the library stays as it is
        caption = _CAPTION.search(match["inner"])
        return Figure(int(found[1]), caption[1].strip() if caption else "")
    url = html.unescape(match["href"] or match["bare"])
    embed = find_embed(url)
    if embed is None:
        return None  # unknown URLs stay links
    text = html.unescape(strip_tags(match["text"] or "")).strip()
    return EmbedBlock(embed, "" if text in ("", url) else text)


def _galleries(parts):
    """Two or more library figures in a row, with nothing but white space between, are a gallery."""
    result, run = [], []

    def close_run():
        if len(run) > 1:
            result.append(Gallery(tuple(run)))
        else:
            result.extend(run)
        run.clear()

    for part in parts:
        if isinstance(part, Figure):
            run.append(part)
        elif isinstance(part, str) and not part.strip() and run:
            continue
        else:
            close_run()
            result.append(part)
    close_run()
    return result


def image_ids(parsed_bodies):
    ids = set()
    for parts in parsed_bodies:
        for part in parts:
            figures = part.figures if isinstance(part, Gallery) else (part,) if isinstance(part, Figure) else ()
            ids.update(figure.image_id for figure in figures)
    return ids


def _in_model_order(model, names):
    # Model.from_db() takes a partial row's values in the order of the model's fields.
    return tuple(field.attname for field in model._meta.concrete_fields if field.attname in names)


IMAGE_FIELDS = _in_model_order(
    Image,
    {"id", "file", "file_size", "alt_text", "caption", "credit", "width", "height", "focal_x", "focal_y", "sha256"},
)
RENDITION_FIELDS = _in_model_order(
    Rendition, {"id", "image_id", "spec", "kind", "format", "width", "height", "file", "file_size"}
)


def load_images(ids):
    """
    {id: Image} with their renditions, in ONE query (images left-joined to
    renditions), for the figures of every body on a page. Each Image loaded
    adds its cache key to the page being rendered (caching/keys.py).
    """
    if not ids:
        return {}
    rows = (
        Image.objects.filter(pk__in=ids)
        .order_by("id", "renditions__width", "renditions__id")
        .values_list(*IMAGE_FIELDS, *(f"renditions__{name}" for name in RENDITION_FIELDS))
    )
    images = {}
    image_count = len(IMAGE_FIELDS)
    for row in rows:
        image = images.get(row[0])
        if image is None:  # Model.from_db: the ORM's own way of making an instance from a row
            image = images[row[0]] = Image.from_db(None, IMAGE_FIELDS, row[:image_count])
            image._prefetched_objects_cache = {"renditions": []}
        if row[image_count] is not None:
            rendition = Rendition.from_db(None, RENDITION_FIELDS, row[image_count:])
            image._prefetched_objects_cache["renditions"].append(rendition)
    return images


def render_bodies(bodies, *, feed_request=None):
    """
    Every body of a page (or of a feed), rendered, with at most one query for
    all their figures. `feed_request`: for a feed, where embeds are plain links
    and figures plain <img> with absolute URLs.
    """
    parsed = [parse(body) for body in bodies]
    images = load_images(image_ids(parsed))
    render = functools.partial(_render_part, images=images, feed_request=feed_request)
    return [mark_safe("".join(render(part) for part in parts)) for parts in parsed]


def _render_part(part, *, images, feed_request):
    if isinstance(part, str):
        return part
    if isinstance(part, EmbedBlock):
        if feed_request is not None:
            label = f"{part.embed.provider.name} {part.embed.provider.kind}"
            if part.title:
                label = f"{label}: {part.title}"
            return str(format_html('<p><a href="{}">{}</a></p>', part.embed.url, label))
        return render_to_string("includes/embed.html", {"embed": part.embed, "title": part.title})
    if isinstance(part, Figure):
        return _figure(part, images, feed_request)
    figures = "".join(_figure(figure, images, feed_request, in_gallery=True) for figure in part.figures)
    if feed_request is not None:
        return figures
    return format_html(
        '<div class="gallery" role="group" aria-label="Gallery of {} photos">{}</div>',
        len(part.figures),
        mark_safe(figures),
    )


def _figure(figure, images, feed_request, in_gallery=False):
    image = images.get(figure.image_id)
    if image is None:
        return ""  # deleted from the library (Image.delete refuses while a body shows it)
    context = {"image": image, "caption": mark_safe(figure.caption) or image.caption, "in_gallery": in_gallery}
    if feed_request is not None:
        picture = image.picture
        context["src"] = feed_request.build_absolute_uri(picture["src"])
        context["picture"] = picture
        return render_to_string("includes/feed_figure.html", context)
    return render_to_string("includes/body_figure.html", context)


# A figure the body editor wrote: its first element is the photo, by address only.
_UNLINKED_FIGURE = re.compile(
    r'<figure(?![^>]*\bdata-image-id=)(?P<attrs>[^>]*)>(?P<img>\s*<img\b[^>]*?\bsrc="(?P<src>[^"]+)")'
)


def _stored_name(src):
    """The storage name a media address points at ("renditions/ab/photo-640.jpg"), or None."""
    base = urlsplit(default_storage.url("x")).path[:-1]
    path = unquote(urlsplit(html.unescape(src)).path)
    return path[len(base) :] if path.startswith(base) and len(path) > len(base) else None


def link_library_figures(body):
    """
    Give each figure whose photo is in the library its `data-image-id`, from the
    photo's address: the body editor keeps only the address, and readers' pages
    rebuild library photos from the id (renditions, alt text, credit). Two queries,
    only when the body has figures without one.
    """
    names = {name for match in _UNLINKED_FIGURE.finditer(body or "") if (name := _stored_name(match["src"]))}
    if not names:
        return body
    image_ids = dict(Rendition.objects.filter(file__in=names).values_list("file", "image_id"))
    image_ids |= dict(Image.objects.filter(file__in=names).values_list("file", "id"))

    def link(match):
        image_id = image_ids.get(_stored_name(match["src"]))
        if image_id is None:
            return match[0]
        return f'<figure data-image-id="{image_id}"{match["attrs"]}>{match["img"]}'

    return _UNLINKED_FIGURE.sub(link, body)
