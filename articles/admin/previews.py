from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import ngettext

from ..models import PreviewLink


class PreviewLinksMixin:
    """The article's "Preview links" page: create, copy and revoke links for readers without an account."""

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "<path:object_id>/preview-links/",
                self.admin_site.admin_view(self.preview_links_view),
                name="{}_{}_preview_links".format(*info),
            ),
            *super().get_urls(),
        ]

    def preview_links_view(self, request, object_id):
        article = self.get_object(request, unquote(object_id))
        if article is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        user = request.user
        if not (self.has_view_or_change_permission(request, article) and user.has_perm("articles.view_previewlink")):
            raise PermissionDenied
        if request.method == "POST":
            if "create" in request.POST:
                if not user.has_perm("articles.add_previewlink"):
                    raise PermissionDenied
                if article.is_live:
                    self.message_user(
                        request, "This article is live: share its public address instead.", messages.ERROR
                    )
                else:
                    link = PreviewLink.objects.create(article=article, created_by=user)
                    self.message_user(
                        request,
                        f"Preview link created. It works until "
                        f"{timezone.localtime(link.expires_at):%d %b %Y, %H:%M %Z} unless you revoke it.",
                        messages.SUCCESS,
                    )
            elif "revoke" in request.POST:
                if not user.has_perm("articles.change_previewlink"):
                    raise PermissionDenied
                link_id = request.POST["revoke"]
                link = article.preview_links.filter(pk=link_id).first() if link_id.isdigit() else None
                if link is None:
                    self.message_user(request, "No such preview link.", messages.ERROR)
                else:
                    link.revoke()
                    self.message_user(
                        request, "Preview link revoked: it no longer opens the article.", messages.SUCCESS
                    )
            return redirect(request.path)
        links = list(article.preview_links.select_related("created_by"))
        for link in links:
            link.full_url = request.build_absolute_uri(link.get_absolute_url())
        return TemplateResponse(
            request,
            "admin/articles/article/preview_links.html",
            {
                **self.admin_site.each_context(request),
                "title": f"Preview links for “{article}”",
                "opts": self.opts,
                "original": article,
                "links": links,
                "can_create": user.has_perm("articles.add_previewlink") and not article.is_live,
                "can_revoke": user.has_perm("articles.change_previewlink"),
                "hours": settings.NEWSROOM_PREVIEW_HOURS,
            },
        )


class PreviewLinkStateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("active", "Active"), ("expired", "Expired"), ("revoked", "Revoked")]

    def queryset(self, request, queryset):
        now = timezone.now()
        if self.value() == "active":
            return queryset.active()
        if self.value() == "expired":
            return queryset.filter(revoked_at__isnull=True, expires_at__lte=now)
        if self.value() == "revoked":
            return queryset.filter(revoked_at__isnull=False)
        return queryset


@admin.register(PreviewLink)
class PreviewLinkAdmin(admin.ModelAdmin):
    """Every preview link, to see who shared what and revoke it. Links are created from the article."""

    list_display = ["article", "state", "created_by", "created_at", "expires_at"]
    list_filter = [PreviewLinkStateFilter]
    list_select_related = ["article", "created_by"]
    search_fields = ["article__headline"]
    fields = ["article", "link", "created_by", "created_at", "expires_at", "revoked_at"]
    readonly_fields = fields
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False

    @admin.display(description="state")
    def state(self, link):
        if link.is_revoked:
            label, css = "Revoked", "draft"
        elif link.is_expired:
            label, css = "Expired", "draft"
        else:
            label, css = "Active", "live"
        return format_html('<span class="badge badge-{}">{}</span>', css, label)

    @admin.display(description="link")
    def link(self, link):
        return format_html('<a href="{0}">{0}</a>', link.get_absolute_url())

    @admin.action(description="Revoke selected preview links", permissions=["change"])
    def revoke(self, request, queryset):
        count = queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
        self.message_user(
            request,
            ngettext("%d preview link revoked.", "%d preview links revoked.", count) % count,
            messages.SUCCESS,
        )
