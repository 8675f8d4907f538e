from django import forms
from django.contrib import admin, messages
from django.db.models import Count
from django.template.response import TemplateResponse
from django.utils.html import format_html
from django.utils.translation import ngettext
from taggit.models import Tag as TaggitTag

from .models import Article, Author, Authorship, Related, Section, Tag
from .services import merge_tags
from .widgets import TagAutocompleteWidget, TagListField

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


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin):
    list_display = ["headline", "section", "state_badge", "published_at", "tag_list"]
    list_display_links = ["headline"]
    list_filter = ["status", "section", "tags", "authors"]
    list_select_related = ["section"]
    date_hierarchy = "published_at"
    search_fields = ["headline", "standfirst", "body"]
    ordering = ["-published_at", "-id"]
    prepopulated_fields = {"slug": ["headline"]}
    autocomplete_fields = ["section"]
    inlines = [AuthorshipInline, RelatedInline]
    actions = ["publish_now", "unpublish"]
    save_on_top = True
    readonly_fields = ["created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["headline", "standfirst", "body"]}),
        ("Publishing", {"fields": ["status", "published_at", "section", "tags", "credit"]}),
        ("Address and history", {"classes": ["collapse"], "fields": ["slug", "created_at", "updated_at"]}),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("tags")

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
        if article.is_live:
            label, css = "Published", "live"
        elif article.is_scheduled:
            label, css = "Scheduled", "scheduled"
        else:
            label, css = "Draft", "draft"
        return format_html('<span class="badge badge-{}">{}</span>', css, label)

    @admin.display(description="tags")
    def tag_list(self, article):
        return ", ".join(tag.name for tag in article.tags.all())

    def view_on_site(self, article):
        # Staff see drafts and scheduled articles at their URL, under a banner.
        return article.get_absolute_url()

    @admin.action(description="Publish now", permissions=["publish"])
    def publish_now(self, request, queryset):
        count = queryset.publish_now()
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
        count = queryset.unpublish()
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
