"""
The Jinja2 environment of the public pages (templates/jinja2/; docs/development.md).

Templates see what the Django template language gave them: url(), static(),
the `date`, `w3c_datetime`, `nest_headings`, `urlencode` and `linebreaks`
filters (`join` too, escaping as Django does), and the JSON-LD helpers.
"""

import html as html_lib
import json

import jinja2
from django.core.serializers.json import DjangoJSONEncoder
from django.template.defaultfilters import join, urlencode
from django.templatetags.static import static
from django.urls import reverse
from django.utils import dateformat
from django.utils.html import format_html, linebreaks
from django.utils.safestring import mark_safe
from django.utils.timezone import template_localtime
from markupsafe import Markup

from articles import html, seo
from articles.urlmemo import reverse_memo

# As Django's json_script: nothing in the JSON can close the <script> element.
# (str.replace, not str.translate: translate with a dict costs ~1.5 ms on an article's JSON-LD.)
_JSON_ESCAPES = ((">", "\\u003E"), ("<", "\\u003C"), ("&", "\\u0026"))


def escape(value):
    """
    Each {{ value }} escaped as Django escapes it (&#x27; and &quot;, where
    MarkupSafe writes &#39; and &#34;), so the pages carry the same markup as before.
    """
    if type(value) is str:
        return Markup(html_lib.escape(value))
    if hasattr(value, "__html__"):
        return value
    return Markup(html_lib.escape(str(value)))


def url(viewname, *args, **kwargs):
    """{% url %}: positional arguments reverse as Django's tag does; keyword arguments come from the memo."""
    if args:
        return reverse(viewname, args=args)
    return reverse_memo(viewname, **kwargs)


def date(value, format_string):
    """The `date` filter of Django's templates: in the current time zone, Django's format strings."""
    if value in (None, ""):
        return ""
    return dateformat.format(template_localtime(value), format_string)


def json_ld_script(context, data):
    """A <script type="application/ld+json"> carrying the page's CSP nonce."""
    json_text = json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False)
    for character, escaped in _JSON_ESCAPES:
        json_text = json_text.replace(character, escaped)
    return format_html(
        '<script type="application/ld+json" nonce="{}">{}</script>',
        context.get("csp_nonce", ""),
        mark_safe(json_text),
    )


@jinja2.pass_context
def article_json_ld(context, article, live_updates=()):
    """NewsArticle (LiveBlogPosting on a live page) and BreadcrumbList for a live article (none for previews)."""
    if not article.is_live:
        return ""
    return json_ld_script(context, seo.article_structured_data(article, context["request"], live_updates))


@jinja2.pass_context
def collection_json_ld(context, name, description, articles):
    return json_ld_script(
        context, seo.collection_structured_data(context["request"], str(name), str(description), articles)
    )


@jinja2.pass_context
def social_image(context, article=None):
    """{url, width, height, type, alt} of the social-card image for an article or the site."""
    return seo.social_image(article, context["request"])


def environment(**options):
    # As Django's templates, in DEBUG too: a missing variable renders empty (the backend's default
    # in DEBUG, DebugUndefined, would print its name into the page).
    env = jinja2.Environment(**options | {"undefined": jinja2.Undefined, "finalize": escape})
    env.globals.update(
        url=url,
        static=static,
        article_json_ld=article_json_ld,
        collection_json_ld=collection_json_ld,
        social_image=social_image,
    )
    env.filters.update(
        date=date,
        join=join,
        w3c_datetime=seo.w3c_datetime,
        nest_headings=html.nest_headings,
        urlencode=urlencode,
        linebreaks=lambda value: mark_safe(linebreaks(value, autoescape=True)),
    )
    return env
