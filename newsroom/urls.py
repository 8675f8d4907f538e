import re

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.sitemaps import views as sitemap_views
from django.http import HttpResponsePermanentRedirect
from django.templatetags.static import static
from django.urls import include, path, re_path
from django.views.decorators.cache import cache_control
from django.views.generic import TemplateView
from django.views.static import serve as static_serve

from articles.caching import cache_public_page as cached
from articles.caching.keys import SITEMAPS
from articles.sitemaps import NewsSitemap, sitemaps

from .admin import ThrottledPasswordResetForm
from .health import healthz

# Sitemaps list the whole site: one key for them, not one per article.
sitemap_cached = cached(keys=[SITEMAPS], instances=False, parameters=["p"])  # ?p=: a sitemap's page

admin.site.site_header = f"{settings.NEWSROOM_NAME} editors"
admin.site.site_title = f"{settings.NEWSROOM_NAME} admin"
admin.site.index_title = "Newsroom"

# Password reset by e-mail with Django's own views and the admin's templates; the admin login page
# links to it because "admin_password_reset" exists (docs/security.md).
admin_look = {"site_header": admin.site.site_header, "site_title": admin.site.site_title}
password_reset_urls = [
    path(
        "admin/password-reset/",
        auth_views.PasswordResetView.as_view(form_class=ThrottledPasswordResetForm, extra_context=admin_look),
        name="admin_password_reset",
    ),
    path(
        "admin/password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(extra_context=admin_look),
        name="password_reset_done",
    ),
    path(
        "admin/password-reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(extra_context=admin_look),
        name="password_reset_confirm",
    ),
    path(
        "admin/password-reset/done/",
        auth_views.PasswordResetCompleteView.as_view(extra_context=admin_look),
        name="password_reset_complete",
    ),
]


@cache_control(public=True, max_age=60 * 60 * 24)
def favicon(request):
    return HttpResponsePermanentRedirect(static("img/favicon.ico"))


urlpatterns = [
    *password_reset_urls,
    # Passkeys' ceremonies (newsroom/passkeys.py), before the admin's catch-all.
    path("admin/passkeys/", include("newsroom.passkeys")),
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path(
        "sitemap.xml",
        sitemap_cached(sitemap_views.index),
        {"sitemaps": sitemaps, "sitemap_url_name": "sitemap-section"},
        name="sitemap",
    ),
    path(
        "sitemap-<section>.xml", sitemap_cached(sitemap_views.sitemap), {"sitemaps": sitemaps}, name="sitemap-section"
    ),
    path(
        "news-sitemap.xml",
        sitemap_cached(sitemap_views.sitemap),
        {"sitemaps": {"news": NewsSitemap}, "template_name": "sitemaps/news.xml"},
        name="news-sitemap",
    ),
    path(
        "robots.txt",
        cached(TemplateView.as_view(template_name="robots.txt", content_type="text/plain")),
        name="robots",
    ),
    # Browsers and feed readers ask for it whatever the page's <link rel="icon"> says.
    path("favicon.ico", favicon, name="favicon"),
    path("", include("articles.urls")),
]


@cache_control(public=True, max_age=60 * 60 * 24 * 365, immutable=True)
def serve_media(request, path):
    """Uploaded photos from MEDIA_ROOT. Their names are content hashes, so they can be cached for a year."""
    return static_serve(request, path, document_root=settings.MEDIA_ROOT)


if settings.NEWSROOM_SERVE_MEDIA:
    # For DEBUG and the local demo only: production serves MEDIA_URL from a web server or S3-compatible storage.
    urlpatterns.insert(
        0, re_path(rf"^{re.escape(settings.MEDIA_URL.lstrip('/'))}(?P<path>.+)$", serve_media, name="media")
    )
