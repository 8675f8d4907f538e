# "articles" comes before "taggit" in INSTALLED_APPS, so the admin's autodiscovery imports
# this module first: import taggit's admin now, so that its Tag can be unregistered below.
import taggit.admin  # noqa: F401
from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.admin.views.autocomplete import AutocompleteJsonView
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import ngettext
from taggit.models import Tag as TaggitTag

from .admin_workflow import StateListFilter, WorkflowAdminMixin
from .images import prepare_upload, request_renditions
from .models import Article, Author, Authorship, Correction, Image, PreviewLink, Related, Section, Tag
from .services import merge_tags, publish_articles, unpublish_articles
from .widgets import ImageChooserWidget, TagAutocompleteWidget, TagListField

# We use our own Tag model; taggit's generic one would only confuse editors.
if admin.site.is_registered(TaggitTag):
    admin.site.unregister(TaggitTag)


class AuthorshipInline(admin.TabularInline):
    model = Authorship
    autocomplete_fields = ["author"]
    fields = ["author", "position"]
    extra = 0
    verbose_name = "author"
    verbose_name_plural = "byline (in order)"


class RelatedInline(admin.TabularInline):
    model = Related
    fk_name = "article"
    autocomplete_fields = ["related_article"]
    fields = ["related_article", "position"]
    extra = 0
    verbose_name_plural = "related articles (curated, in order; the page fills up to four by shared tags)"


class CorrectionInline(admin.StackedInline):
    """Corrections, clarifications and updates; who added one is stamped when it is saved."""

    model = Correction
    fields = ["kind", "text", "created_at", "created_by"]
    readonly_fields = ["created_at", "created_by"]
    extra = 0
    verbose_name = "correction or update"
    verbose_name_plural = "corrections, clarifications and updates (shown to readers once the article is live)"

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)

        class StampingFormSet(formset):
            def save_new(self, form, commit=True):
                form.instance.created_by = request.user
                form.instance.created_at = timezone.now()
                return super().save_new(form, commit=commit)

        return StampingFormSet


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


@admin.register(Article)
class ArticleAdmin(WorkflowAdminMixin, PreviewLinksMixin, admin.ModelAdmin):
    list_display = ["thumbnail", "headline", "section", "state_badge", "published_at", "tag_list"]
    list_display_links = ["headline"]
    list_filter = ["status", StateListFilter, "section", "tags", "authors"]
    list_select_related = ["section", "lead_image"]
    date_hierarchy = "published_at"
    search_fields = ["headline", "standfirst", "body"]
    ordering = ["-published_at", "-id"]
    prepopulated_fields = {"slug": ["headline"]}
    autocomplete_fields = ["section", "lead_image"]
    inlines = [AuthorshipInline, RelatedInline, CorrectionInline]
    actions = ["publish_now", "unpublish"]
    save_on_top = True
    readonly_fields = ["created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["headline", "standfirst", "body"]}),
        ("Lead image", {"fields": ["lead_image", "lead_image_caption"]}),
        ("Publishing", {"fields": ["status", "published_at", "section", "tags", "credit"]}),
        ("Address and history", {"classes": ["collapse"], "fields": ["slug", "created_at", "updated_at"]}),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("tags", "lead_image__renditions")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "lead_image":
            kwargs["widget"] = ImageChooserWidget(db_field, self.admin_site, using=kwargs.get("using"))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description="")
    def thumbnail(self, article):
        if not article.lead_image_id:
            return ""
        return format_html(
            '<img class="admin-thumbnail" src="{}" alt="" width="64" height="42" loading="lazy">',
            article.lead_image.thumbnail_url,
        )

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "tags":
            return TagListField(
                required=False,
                widget=TagAutocompleteWidget(db_field, self.admin_site),
                help_text="Start typing to pick an existing tag; press Enter or comma to add a new one.",
            )
        formfield = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name in {"headline", "credit"}:
            formfield.widget.attrs["class"] = "vLargeTextField"
        if db_field.name == "standfirst":
            formfield.widget = forms.Textarea(attrs={"rows": 3, "class": "vLargeTextField"})
        return formfield

    @admin.display(description="state", ordering="status")
    def state_badge(self, article):
        label, css = self.state_text(article)
        return format_html('<span class="badge badge-{}">{}</span>', css, label)

    @admin.display(description="tags")
    def tag_list(self, article):
        return ", ".join(tag.name for tag in article.tags.all())

    def view_on_site(self, article):
        # Staff see drafts and scheduled articles at their URL, under a banner.
        return article.get_absolute_url()

    @admin.action(description="Publish now", permissions=["publish"])
    def publish_now(self, request, queryset):
        count = publish_articles(articles=queryset, by=request.user, comment="Published now (list action).")
        if count:
            self.message_user(
                request,
                ngettext("%d article is now live.", "%d articles are now live.", count) % count,
                messages.SUCCESS,
            )
        else:
            self.message_user(request, "The selected articles were already live.", messages.INFO)

    @admin.action(description="Unpublish (back to draft)", permissions=["publish"])
    def unpublish(self, request, queryset):
        count = unpublish_articles(articles=queryset, by=request.user, comment="Unpublished (list action).")
        if count:
            self.message_user(
                request,
                ngettext(
                    "%d article is back to draft and hidden from readers.",
                    "%d articles are back to draft and hidden from readers.",
                    count,
                )
                % count,
                messages.SUCCESS,
            )
        else:
            self.message_user(request, "None of the selected articles was published.", messages.INFO)

    def has_publish_permission(self, request):
        return request.user.has_perm("articles.publish_article")

    class Media:
        css = {"all": ["css/admin.css"]}


class ArticleCountAdmin(admin.ModelAdmin):
    """Shows how many articles use each row, and sorts by it."""

    count_lookup = "articles"
    # Explicit, because default model ordering is dropped from GROUP BY querysets.
    ordering = ["name"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(article_count=Count(self.count_lookup, distinct=True))

    @admin.display(description="articles", ordering="article_count")
    def article_count(self, obj):
        return obj.article_count


@admin.register(Section)
class SectionAdmin(ArticleCountAdmin):
    list_display = ["name", "slug", "article_count"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Author)
class AuthorAdmin(ArticleCountAdmin):
    list_display = ["name", "slug", "article_count"]
    search_fields = ["name", "slug", "bio"]
    prepopulated_fields = {"slug": ["name"]}


class MergeTagsForm(forms.Form):
    into = forms.ModelChoiceField(
        queryset=Tag.objects.all(),
        label="Merge into",
        help_text="Articles tagged with the other selected tags get this tag; the others are deleted.",
    )


@admin.register(Tag)
class TagAdmin(ArticleCountAdmin):
    count_lookup = "taggedarticle_items"
    list_display = ["name", "slug", "article_count"]
    search_fields = ["name", "slug"]
    ordering = ["name"]
    prepopulated_fields = {"slug": ["name"]}
    actions = ["merge"]

    @admin.action(description="Merge selected tags into one…", permissions=["change", "delete"])
    def merge(self, request, queryset):
        tags = list(queryset.order_by("name"))
        if len(tags) < 2:
            self.message_user(request, "Select at least two tags to merge.", messages.WARNING)
            return None
        form = MergeTagsForm(request.POST if "into" in request.POST else None)
        form.fields["into"].queryset = queryset.model.objects.filter(pk__in=[tag.pk for tag in tags])
        if form.is_valid():
            into = form.cleaned_data["into"]
            merged = [tag.name for tag in tags if tag.pk != into.pk]
            count = merge_tags(tags=tags, into=into)
            self.message_user(
                request,
                ngettext(
                    "Merged %(tags)s into “%(into)s”: %(count)d article re-tagged.",
                    "Merged %(tags)s into “%(into)s”: %(count)d articles re-tagged.",
                    count,
                )
                % {"tags": ", ".join(f"“{name}”" for name in merged), "into": into.name, "count": count},
                messages.SUCCESS,
            )
            return None
        return TemplateResponse(
            request,
            "admin/articles/tag/merge.html",
            {
                **self.admin_site.each_context(request),
                "title": "Merge tags",
                "opts": self.model._meta,
                "tags": tags,
                "form": form,
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
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


class ImageForm(forms.ModelForm):
    """Upload checks (articles/images.py): judged by content, cleaned of metadata, named by its hash."""

    class Meta:
        model = Image
        fields = ["file", "alt_text", "caption", "credit", "focal_x", "focal_y"]
        widgets = {"caption": forms.Textarea(attrs={"rows": 3, "class": "vLargeTextField"})}

    def clean_file(self):
        upload = self.cleaned_data.get("file")
        if upload is None or not hasattr(upload, "content_type"):
            return upload  # unchanged (the file is read-only once uploaded)
        prepared = prepare_upload(upload)
        duplicate = Image.objects.filter(sha256=prepared.sha256).first()
        if duplicate is not None:
            raise ValidationError(
                "This photo is already in the library as “%(image)s”. Use that one.", params={"image": duplicate}
            )
        self.instance.sha256 = prepared.sha256
        self.instance.width = prepared.width
        self.instance.height = prepared.height
        return prepared.as_file()


class ImageChooserJsonView(AutocompleteJsonView):
    """The admin's autocomplete results with a thumbnail URL for each image."""

    def get_queryset(self):
        return super().get_queryset().prefetch_related("renditions")

    def serialize_result(self, obj, to_field_name):
        return {**super().serialize_result(obj, to_field_name), "thumbnail": obj.thumbnail_url}


@admin.register(Image)
class ImageAdmin(admin.ModelAdmin):
    form = ImageForm
    list_display = ["thumbnail", "alt_text", "credit", "dimensions", "uploaded_by", "uploaded_at", "usage"]
    list_display_links = ["thumbnail", "alt_text"]
    list_filter = [("uploaded_by", admin.RelatedOnlyFieldListFilter), "uploaded_at"]
    list_select_related = ["uploaded_by"]
    search_fields = ["alt_text", "caption", "credit"]
    date_hierarchy = "uploaded_at"
    # Explicit: the usage annotation's GROUP BY drops Meta.ordering.
    ordering = ["-uploaded_at", "-id"]
    readonly_fields = ["preview", "dimensions", "uploaded_by", "uploaded_at", "used_by"]
    fieldsets = [
        (None, {"fields": ["file", "preview", "alt_text", "caption", "credit"]}),
        (
            "Crops",
            {
                "fields": ["focal_x", "focal_y"],
                "description": "The point that crops keep in view, e.g. a face. Leave empty for the centre.",
            },
        ),
        ("About this file", {"fields": ["dimensions", "uploaded_by", "uploaded_at", "used_by"]}),
    ]

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

    @admin.display(description="")
    def thumbnail(self, image):
        return format_html(
            '<img class="admin-thumbnail" src="{}" alt="" width="64" height="42" loading="lazy">', image.thumbnail_url
        )

    @admin.display(description="preview")
    def preview(self, image):
        if not image.pk:
            return "The photo appears here once it is saved."
        return format_html(
            '<img class="image-preview" src="{}" alt="{}" width="{}" height="{}">',
            image.picture["src"],
            image.alt_text,
            image.picture["width"],
            image.picture["height"],
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
