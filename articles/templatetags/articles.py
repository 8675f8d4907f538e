import json

from django import template
from django.core.serializers.json import DjangoJSONEncoder
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from articles import html, seo

register = template.Library()

# As Django's json_script: nothing in the JSON can close the <script> element.
# (str.replace, not str.translate: translate with a dict costs ~1.5 ms on an article's JSON-LD.)
_JSON_ESCAPES = ((">", "\\u003E"), ("<", "\\u003C"), ("&", "\\u0026"))


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


@register.simple_tag(takes_context=True)
def article_json_ld(context, article, live_updates=()):
    """NewsArticle (LiveBlogPosting on a live page) and BreadcrumbList for a live article (none for previews)."""
    if not article.is_live:
        return ""
    return json_ld_script(context, seo.article_structured_data(article, context["request"], live_updates))


@register.simple_tag(takes_context=True)
def collection_json_ld(context, name, description, articles):
    return json_ld_script(
        context, seo.collection_structured_data(context["request"], str(name), str(description), articles)
    )


@register.simple_tag(takes_context=True)
def social_image(context, article=None):
    """{url, width, height, type, alt} of the social-card image for an article or the site."""
    return seo.social_image(article, context["request"])


@register.filter
def w3c_datetime(value):
    return seo.w3c_datetime(value)


@register.filter
def nest_headings(body):
    """The body's headings renumbered to start at <h2> under the page's <h1> (html.nest_headings)."""
    return html.nest_headings(body)
