from django.contrib import admin, messages
from django.contrib.admin.views.autocomplete import AutocompleteJsonView
from django.db.models import Count
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import ngettext

from ..images import request_renditions
from ..models import Image
from .forms import ImageForm


class ImageChooserJsonView(AutocompleteJsonView):
    """The admin's autocomplete results, each image with its thumbnail, a body-width rendition, alt text and credit."""

    def get_queryset(self):
        return super().get_queryset().prefetch_related("renditions")

    def serialize_result(self, obj, to_field_name):
        # The body editor's "Insert photo from the library" builds a figure from these.
        picture = obj.picture
        return {
            **super().serialize_result(obj, to_field_name),
            "thumbnail": obj.thumbnail_url,
            "src": picture["src"],
            "width": picture["width"],
            "height": picture["height"],
            "alt": obj.alt_text,
            "caption": obj.caption,
            "credit": obj.credit,
        }


@admin.register(Image)
class ImageAdmin(admin.ModelAdmin):
    form = ImageForm
    list_display = [
        "thumbnail",
        "alt_text",
        "credit",
        "dimensions",
        "uploaded_by",
        "uploaded_at",
        "usage",
        "renditions_state",
    ]
    list_display_links = ["thumbnail", "alt_text"]
    list_filter = ["renditions_status", ("uploaded_by", admin.RelatedOnlyFieldListFilter), "uploaded_at"]
    actions = ["make_renditions_again"]
    list_select_related = ["uploaded_by"]
    search_fields = ["alt_text", "caption", "credit"]
    date_hierarchy = "uploaded_at"
    # Explicit: the usage annotation's GROUP BY drops Meta.ordering.
    ordering = ["-uploaded_at", "-id"]
    readonly_fields = ["preview", "dimensions", "uploaded_by", "uploaded_at", "used_by", "renditions_state"]
    fieldsets = [
        (None, {"fields": ["file", "preview", "alt_text", "caption", "credit"]}),
        (
            "Crops",
            {
                "fields": ["focal_x", "focal_y"],
                "description": (
                    "The point that crops keep in view, e.g. a face: click it on the photo above, "
                    "or type it (0 is the left or top edge, 1 the right or bottom). Leave empty for the centre."
                ),
            },
        ),
        ("About this file", {"fields": ["dimensions", "uploaded_by", "uploaded_at", "used_by", "renditions_state"]}),
    ]

    class Media:
        css = {"all": ["css/admin.css"]}
        js = ["js/focal-point.js"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(usage_count=Count("articles", distinct=True))
            .prefetch_related("renditions")
        )

    def get_readonly_fields(self, request, obj=None):
        # A photo's file is fixed once uploaded: upload another photo instead (renditions follow the file).
        return ["file", *self.readonly_fields] if obj else self.readonly_fields

    def get_urls(self):
        return [
            path(
                "chooser/",
                self.admin_site.admin_view(ImageChooserJsonView.as_view(admin_site=self.admin_site)),
                name="articles_image_chooser",
            ),
            *super().get_urls(),
        ]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.uploaded_by = request.user
        super().save_model(request, obj, form, change)
        if not change or "focal_x" in form.changed_data or "focal_y" in form.changed_data:
            request_renditions(obj)

    @admin.display(description="photo")
    def thumbnail(self, image):
        return format_html(
            '<img class="admin-thumbnail" src="{}" alt="" width="64" height="42" loading="lazy">', image.thumbnail_url
        )

    @admin.display(description="preview")
    def preview(self, image):
        if not image.pk:
            return "The photo appears here once it is saved."
        # static/js/focal-point.js: a click on the photo sets the focal point.
        return format_html(
            '<span class="focal-picker" data-focal-x="{}" data-focal-y="{}">'
            '<img class="image-preview" src="{}" alt="{}" width="{}" height="{}">'
            '<span class="focal-marker" aria-hidden="true"></span></span>'
            '<span class="help focal-help">Click the photo on the point that crops must keep in view.</span>',
            "" if image.focal_x is None else image.focal_x,
            "" if image.focal_y is None else image.focal_y,
            image.picture["src"],
            image.alt_text,
            image.picture["width"],
            image.picture["height"],
        )

    @admin.display(description="renditions", ordering="renditions_status")
    def renditions_state(self, image):
        """Ready, waiting for the worker, or failed with the reason: what readers get depends on it."""
        if image.renditions_status == image.RenditionsStatus.FAILED:
            attempts = image.renditions_attempts
            return format_html(
                '<span class="renditions-failed">Failed ({} attempt{} in a row): {}</span>',
                attempts,
                "" if attempts == 1 else "s",
                image.renditions_error,
            )
        if image.renditions_status == image.RenditionsStatus.PENDING:
            return "Waiting for the worker; pages show a placeholder or the sizes made so far"
        return image.get_renditions_status_display()

    @admin.action(description="Make renditions again for the selected images", permissions=["change"])
    def make_renditions_again(self, request, queryset):
        images = list(queryset)
        for image in images:
            request_renditions(image)
        self.message_user(
            request,
            ngettext(
                "The renditions of %d image will be made again by the worker.",
                "The renditions of %d images will be made again by the worker.",
                len(images),
            )
            % len(images),
            messages.SUCCESS,
        )

    @admin.display(description="size")
    def dimensions(self, image):
        return f"{image.width} × {image.height} px" if image.width else "–"

    @admin.display(description="used by", ordering="usage_count")
    def usage(self, image):
        count = getattr(image, "usage_count", None)
        if count is None:
            count = image.articles.count()
        if not count:
            return "not used"
        url = reverse("admin:articles_article_changelist") + f"?lead_image__id__exact={image.pk}"
        return format_html(
            '<a href="{}">{}</a>', url, ngettext("used by %d article", "used by %d articles", count) % count
        )

    @admin.display(description="used by")
    def used_by(self, image):
        if not image.pk:
            return "–"
        articles = list(image.articles.order_by("-published_at")[:20])
        if not articles:
            return "Not used by any article yet."
        return format_html(
            '<p>{}</p><ul class="image-usage">{}</ul>',
            self.usage(image),
            format_html_join(
                "",
                '<li><a href="{}">{}</a></li>',
                (
                    (reverse("admin:articles_article_change", args=[article.pk]), article.headline)
                    for article in articles
                ),
            ),
        )
