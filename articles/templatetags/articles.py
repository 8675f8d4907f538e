import hashlib
import json

from django import template
from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from articles import caching, seo

register = template.Library()

# As Django's json_script: nothing in the JSON can close the <script> element.
_JSON_ESCAPES = {ord(">"): "\\u003E", ord("<"): "\\u003C", ord("&"): "\\u0026"}


def json_ld_script(context, data):
    """A <script type="application/ld+json"> carrying the page's CSP nonce."""
    json_text = json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False).translate(_JSON_ESCAPES)
    return format_html(
        '<script type="application/ld+json" nonce="{}">{}</script>',
        context.get("csp_nonce", ""),
        mark_safe(json_text),
    )


@register.simple_tag(takes_context=True)
def article_json_ld(context, article):
    """NewsArticle and BreadcrumbList for a published article (nothing for a preview)."""
    if not article.is_live:
        return ""
    return json_ld_script(context, seo.article_structured_data(article, context["request"]))


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
    """2021-10-01T09:00:00+00:00: local time, whole seconds (as sitemaps want it)."""
    return timezone.localtime(value).replace(microsecond=0).isoformat()


@register.tag
def fragment(parser, token):
    """
    {% fragment "name" value ... %}...{% endfragment %}: the block, rendered once
    per content generation and per combination of the values, then served from
    each app server's memory (articles/caching.py, cached_fragment). The values
    must name everything the block shows that can differ between pages; what
    the block needs from the database is best passed lazily, so that a hit
    skips the queries too. Nothing personal (a nonce, a user) belongs inside.
    """
    bits = token.split_contents()
    if len(bits) < 2:
        raise template.TemplateSyntaxError("{% fragment %} needs a name.")
    nodelist = parser.parse(("endfragment",))
    parser.delete_first_token()
    return FragmentNode(nodelist, [parser.compile_filter(bit) for bit in bits[1:]])


class FragmentNode(template.Node):
    def __init__(self, nodelist, parts):
        self.nodelist = nodelist
        self.parts = parts

    def render(self, context):
        name, *values = [str(part.resolve(context)) for part in self.parts]
        varying = hashlib.sha256("\x1f".join(values).encode()).hexdigest()[:32]
        return caching.cached_fragment(f"{name}:{varying}", lambda: self.nodelist.render(context))
