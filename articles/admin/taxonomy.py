from django.contrib import admin, messages
from django.db.models import Count
from django.template.response import TemplateResponse
from django.utils.translation import ngettext

from ..models import Author, Section, Tag
from ..services import merge_tags
from .forms import MergeTagsForm
from .strict import StrictChangeListMixin


class ArticleCountAdmin(StrictChangeListMixin, admin.ModelAdmin):
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
        form = MergeTagsForm(request.POST if "into" in request.POST else None, tags=tags)
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
