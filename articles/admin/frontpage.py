from datetime import timedelta

from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.urls import path, reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.translation import ngettext
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.csp import csp_override

from ..models import BreakingNews, FrontPageSlot
from ..views import HomeView

# The preview is framed by the front page's own admin page, and by nothing else:
# that page may frame this site (besides the embed providers every page may frame).
PREVIEW_CSP = {**settings.SECURE_CSP, "frame-ancestors": ["'self'"]}
FRAMING_CSP = {**settings.SECURE_CSP, "frame-src": ["'self'", *settings.SECURE_CSP.get("frame-src", [])]}


def local_time(value):
    return date_format(timezone.localtime(value), "j M Y, H:i")


@admin.register(FrontPageSlot)
class FrontPageSlotAdmin(admin.ModelAdmin):
    """
    The front page: its list is the curated stories in order (drag the rows,
    or move one with the keyboard, then Save), each with an optional end time
    (on its own form); below it, the page as readers see it now.
    """

    list_display = ["handle", "article", "on_the_page", "position", "until"]
    list_display_links = ["article"]
    list_editable = ["position"]  # the end time is set on each story's own form
    list_select_related = ["article", "article__section"]
    list_per_page = 100
    ordering = ["position", "id"]
    autocomplete_fields = ["article"]
    fields = ["article", "position", "until"]
    change_list_template = "admin/articles/frontpageslot/change_list.html"

    def get_urls(self):
        return [
            path("preview/", self.admin_site.admin_view(self.preview_view), name="articles_frontpageslot_preview"),
            *super().get_urls(),
        ]

    def get_changeform_initial_data(self, request):
        """New stories go to the bottom of the list (`?article=<id>` picks the article: "Put on the front page")."""
        return {"position": FrontPageSlot.next_position(), **super().get_changeform_initial_data(request)}

    @admin.display(description="")
    def handle(self, slot):
        # Filled in by front-page-order.js: a drag handle that also moves the row with the arrow keys.
        return format_html('<span class="front-page-handle" data-slot="{}"></span>', slot.pk)

    @admin.display(description="on the page now")
    def on_the_page(self, slot):
        article = slot.article
        if slot.has_ended:
            label, css = f"Ended {local_time(slot.until)}", "draft"
        elif article.is_live:
            label, css = "Showing", "live"
        elif article.is_scheduled:
            label, css = f"Scheduled: shows from {local_time(article.published_at)}", "scheduled"
        else:
            label, css = "Hidden: a draft", "draft"
        return format_html('<span class="badge badge-{}">{}</span>', css, label)

    @method_decorator(csp_override(FRAMING_CSP))
    def changelist_view(self, request, extra_context=None):
        extra_context = {
            "title": "The front page",
            "preview_url": reverse("admin:articles_frontpageslot_preview"),
            **(extra_context or {}),
        }
        return super().changelist_view(request, extra_context)

    @method_decorator(xframe_options_sameorigin)
    @method_decorator(csp_override(PREVIEW_CSP))
    def preview_view(self, request):
        """The home page exactly as an anonymous reader gets it now (never cached: it is not the public URL)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        response = HomeView.as_view(extra_context={"front_page_preview": True})(request)
        response["X-Robots-Tag"] = "noindex, nofollow"
        return response

    class Media:
        css = {"all": ["css/admin.css"]}
        js = ["js/front-page-order.js"]


@admin.register(BreakingNews)
class BreakingNewsAdmin(admin.ModelAdmin):
    """The banner on every public page: the newest current one shows; it goes by itself at its end time."""

    list_display = ["text", "url", "starts_at", "ends_at", "showing"]
    list_filter = ["starts_at"]
    search_fields = ["text"]
    ordering = ["-starts_at", "-id"]
    fields = ["text", "url", "starts_at", "ends_at"]
    actions = ["end_now"]

    @admin.display(description="showing now", boolean=True)
    def showing(self, banner):
        return banner.is_current

    @admin.action(description="Take down now", permissions=["change"])
    def end_now(self, request, queryset):
        count = 0
        for banner in queryset.current():
            banner.ends_at = max(timezone.now(), banner.starts_at + timedelta(microseconds=1))
            banner.save(update_fields=["ends_at"])
            count += 1
        if count:
            message = ngettext("%d banner taken down.", "%d banners taken down.", count) % count
            self.message_user(request, message, messages.SUCCESS)
        else:
            self.message_user(request, "None of the selected banners was showing.", messages.INFO)
