from django import forms
from django.contrib import admin, messages
from django.db import models
from django.db.models import Case, Value, When
from django.utils import timezone
from django.utils.formats import date_format, get_format
from django.utils.html import format_html
from django.utils.timesince import timeuntil
from django.utils.translation import ngettext

from ..models import Article, Authorship, Correction, Related
from ..roles import PUBLISH_PERMISSION
from ..services import publish_articles, unpublish_articles
from .editing import EditingSessionsMixin
from .forms import ArticleAdminForm, TagListField
from .history import ArticleHistoryAdmin
from .previews import PreviewLinksMixin
from .tagging import TagActionsMixin
from .widgets import ImageChooserWidget, TagAutocompleteWidget


def datetime_format_hint():
    """'Date as 31/12/2026, time as 14:30 (UK time).': the format the date and time boxes read."""
    example = timezone.localtime().replace(month=12, day=31, hour=14, minute=30, second=0, microsecond=0)
    date_example = example.strftime(get_format("DATE_INPUT_FORMATS")[0])
    time_formats = get_format("TIME_INPUT_FORMATS")
    time_example = example.strftime("%H:%M" if "%H:%M" in time_formats else time_formats[0])
    return f"Date as {date_example}, time as {time_example} ({timezone.get_current_timezone_name()} time)."


def schedule_label(article, now=None):
    """'Scheduled for 3 Oct 2021, 09:00 (in 2 hours)', in the site's time zone."""
    now = now or timezone.now()
    when = date_format(timezone.localtime(article.published_at), "j M Y, H:i")
    return f"Scheduled for {when} (in {timeuntil(article.published_at, now, depth=1)})"


class StateListFilter(admin.SimpleListFilter):
    """Live, scheduled or draft, computed from the time of the request."""

    title = "schedule"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("live", "Live"), ("scheduled", "Scheduled"), ("draft", "Draft")]

    def queryset(self, request, queryset):
        if self.value() == "live":
            return queryset.published()
        if self.value() == "scheduled":
            return queryset.scheduled()
        if self.value() == "draft":
            return queryset.filter(status=Article.Status.DRAFT)
        return queryset


class OrderedInline(admin.TabularInline):
    """
    Rows kept in order by `position`: dragged, or moved with the arrow keys, by
    their handle (static/js/article-form.js renumbers them 0, 1, 2... as shown,
    so a new row goes after the others). Every field is named for screen readers.
    """

    template = "admin/articles/edit_inline/ordered_tabular.html"
    extra = 0

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        row_name = self.verbose_name

        class OrderedFormSet(formset):
            def add_fields(self, form, index):
                super().add_fields(form, index)
                row = "new row" if index is None else f"{row_name} {index + 1}"
                for field in form.fields.values():
                    field.widget.attrs.setdefault("aria-label", f"{field.label or 'Delete'} ({row})")

        return OrderedFormSet


class AuthorshipInline(OrderedInline):
    model = Authorship
    autocomplete_fields = ["author"]
    fields = ["author", "position"]
    verbose_name = "author"
    verbose_name_plural = "byline (in order)"


class RelatedInline(OrderedInline):
    model = Related
    fk_name = "article"
    autocomplete_fields = ["related_article"]
    fields = ["related_article", "position"]
    verbose_name = "related article"
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


@admin.register(Article)
class ArticleAdmin(EditingSessionsMixin, TagActionsMixin, PreviewLinksMixin, ArticleHistoryAdmin):
    """
    Roles: without `articles.publish_article` (reporters) a user changes and
    deletes only their own drafts, sees them first, and the form refuses any
    publishing (forms.ArticleAdminForm); only editors restore and recover
    revisions. Publishing from the list goes through articles/services.py.
    Edit conflicts: the form carries the article's version.
    """

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
    actions = ["publish_now", "unpublish", "add_tag", "remove_tag"]
    save_on_top = True
    form = ArticleAdminForm
    readonly_fields = ["created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["headline", "standfirst", "body"]}),
        ("Lead image", {"fields": ["lead_image", "lead_image_caption"]}),
        ("Publishing", {"fields": ["status", "published_at", "section", "tags", "credit"]}),
        ("Address and history", {"classes": ["collapse"], "fields": ["slug", "created_at", "updated_at"]}),
    ]

    # Roles --------------------------------------------------------------------

    def may_publish(self, request):
        return request.user.has_perm(PUBLISH_PERMISSION)

    def is_own_draft(self, request, article):
        return article.status == Article.Status.DRAFT and article.created_by_id == request.user.pk

    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj)
        if allowed and obj is not None and not self.may_publish(request):
            return self.is_own_draft(request, obj)
        return allowed

    def has_delete_permission(self, request, obj=None):
        allowed = super().has_delete_permission(request, obj)
        if allowed and obj is not None and not self.may_publish(request):
            return self.is_own_draft(request, obj)
        return allowed

    def has_publish_permission(self, request):
        return self.may_publish(request)

    def may_restore(self, request, article):
        return self.may_publish(request) and self.has_change_permission(request, article)

    def may_recover(self, request):
        # A deleted article may come back published: recovering it is publishing.
        return self.may_publish(request) and super().may_recover(request)

    def get_ordering(self, request):
        ordering = list(super().get_ordering(request) or [])
        if self.may_publish(request):
            return ordering
        own_drafts_first = Case(
            When(status=Article.Status.DRAFT, created_by=request.user.pk, then=Value(0)), default=Value(1)
        )
        return [own_drafts_first.asc(), *ordering]

    # The form ---------------------------------------------------------------

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        return type(form.__name__, (form,), {"may_publish": self.may_publish(request)})

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None or not self.has_change_permission(request, obj):
            return fieldsets
        # The version the form was opened with travels as a hidden field.
        (name, options), *rest = fieldsets
        return [(name, {**options, "fields": [*options["fields"], "version"]}), *rest]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "lead_image":
            kwargs["widget"] = ImageChooserWidget(db_field, self.admin_site, using=kwargs.get("using"))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

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
        if isinstance(db_field, models.DateTimeField) and formfield is not None:
            formfield.help_text = " ".join(filter(None, [formfield.help_text, datetime_format_hint()]))
        return formfield

    # The list -----------------------------------------------------------------

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("tags", "lead_image__renditions")

    @admin.display(description="photo")
    def thumbnail(self, article):
        if not article.lead_image_id:
            return ""
        return format_html(
            '<img class="admin-thumbnail" src="{}" alt="" width="64" height="42" loading="lazy">',
            article.lead_image.thumbnail_url,
        )

    @admin.display(description="state", ordering="status")
    def state_badge(self, article):
        # Computed at request time, so "Scheduled" turns "Live" by itself.
        if article.is_live:
            label, css = "Live", "live"
        elif article.is_scheduled:
            label, css = schedule_label(article), "scheduled"
        else:
            label, css = "Draft", "draft"
        return format_html('<span class="badge badge-{}">{}</span>', css, label)

    @admin.display(description="tags")
    def tag_list(self, article):
        # Sorted here: the prefetch's order is not guaranteed (PostgreSQL returned "Niger, Mali").
        return ", ".join(sorted((tag.name for tag in article.tags.all()), key=str.casefold))

    def view_on_site(self, article):
        # Staff see drafts and scheduled articles at their URL, under a banner.
        return article.get_absolute_url()

    # Publishing (articles/services.py) --------------------------------------

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

    class Media:
        css = {"all": ["css/admin.css"]}
