from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db import models, transaction
from django.db.models import Case, Value, When
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format, get_format
from django.utils.html import format_html
from django.utils.timesince import timeuntil
from django.utils.translation import ngettext

from ..models import Article, ArticleRedirect, FrontPageSlot
from ..roles import PUBLISH_PERMISSION
from ..services import NotReady, publish_articles, unpublish_articles
from .editing import EditingSessionsMixin
from .forms import NOT_ALLOWED_TO_PUBLISH, PUBLICATION_TIME_HELP, ArticleAdminForm, TagListField
from .history import ArticleHistoryAdmin
from .inlines import AuthorshipInline, CorrectionInline, RelatedInline
from .live import live_updates_links
from .previews import PreviewLinksMixin
from .strict import StrictChangeListMixin
from .tagging import TagActionsMixin
from .widgets import ImageChooserWidget, TagAutocompleteWidget


def local_time(moment):
    return date_format(timezone.localtime(moment), "j M Y, H:i")


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
    return f"Scheduled for {local_time(article.published_at)} (in {timeuntil(article.published_at, now, depth=1)})"


def publication_state(article):
    """The article's state in plain words, for the form and the confirmation pages."""
    if article.is_live:
        return f"Live since {local_time(article.published_at)}"
    if article.is_scheduled:
        return schedule_label(article)
    return "Draft: readers cannot see it"


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


@admin.register(Article)
class ArticleAdmin(
    StrictChangeListMixin, EditingSessionsMixin, TagActionsMixin, PreviewLinksMixin, ArticleHistoryAdmin
):
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
    actions = ["publish_now", "unpublish", "add_tag", "remove_tag", "put_on_front_page"]
    save_on_top = True
    form = ArticleAdminForm
    readonly_fields = ["state", "created_at", "updated_at", "live_updates"]
    fieldsets = [
        (None, {"fields": ["headline", "standfirst", "body"]}),
        ("Lead image", {"fields": ["lead_image", "lead_image_caption"]}),
        ("Live coverage", {"fields": ["live_coverage", "coverage_ended_at", "live_updates"]}),
        ("Publishing", {"fields": ["state", "published_at", "section", "tags", "credit"]}),
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
            help_text = PUBLICATION_TIME_HELP if db_field.name == "published_at" else formfield.help_text
            formfield.help_text = " ".join(filter(None, [help_text, datetime_format_hint()]))
        return formfield

    @admin.display(description="state")
    def state(self, article):
        if article.pk is None:
            return "New draft: readers cannot see it"
        text = publication_state(article)
        if article.is_live:
            return format_html(
                '{} at <a href="{}">{}</a>', text, article.get_absolute_url(), article.get_absolute_url()
            )
        return text

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

    @admin.display(description="updates")
    def live_updates(self, article):
        return live_updates_links(article)

    def view_on_site(self, article):
        # Staff see drafts and scheduled articles at their URL, under a banner.
        return article.get_absolute_url()

    # Publishing (articles/services.py) --------------------------------------
    #
    # The change form's buttons (submit_line.html): Publish (Schedule when the
    # chosen time is in the future) and Save draft on a draft; Update, Publish
    # now (scheduled only) and Unpublish on a published article. Saving
    # without one of them (a script) keeps the article's state.

    PUBLISH_BUTTONS = ("_publish", "_publish_now")

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "<path:object_id>/unpublish/",
                self.admin_site.admin_view(self.unpublish_view),
                name="{}_{}_unpublish".format(*info),
            ),
            *super().get_urls(),
        ]

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        problems = [
            inline.formset.publication_problems
            for inline in context.get("inline_admin_formsets", [])
            if getattr(inline.formset, "publication_problems", "")
        ]
        chosen = obj.time_to_publish(None) if obj is not None else None
        context.update(
            may_publish=self.may_publish(request),
            publication_problems=problems,
            publish_label="Schedule" if chosen and chosen > timezone.now() else "Publish",
        )
        if obj is not None and self.has_front_page_permission(request):
            slot = FrontPageSlot.objects.filter(article=obj).first()
            if slot is not None:
                context["front_page_url"] = reverse("admin:articles_frontpageslot_changelist")
                context["front_page_label"] = "On the front page"
            else:
                add_url = reverse("admin:articles_frontpageslot_add")
                context["front_page_url"] = f"{add_url}?article={obj.pk}"
                context["front_page_label"] = "Put on the front page"
        return super().render_change_form(request, context, add, change, form_url, obj)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        publishing = request.method == "POST" and any(name in request.POST for name in self.PUBLISH_BUTTONS)
        if publishing and not self.may_publish(request):
            raise PermissionDenied(NOT_ALLOWED_TO_PUBLISH)
        return super().changeform_view(request, object_id, form_url, extra_context)

    def response_add(self, request, obj, post_url_continue=None):
        return self.publish_from_form(request, obj) or super().response_add(request, obj, post_url_continue)

    def response_change(self, request, obj):
        return self.publish_from_form(request, obj) or super().response_change(request, obj)

    def publish_from_form(self, request, article):
        """
        After the form and its inlines are saved: Publish (at the chosen time,
        else now) or Publish now. A story that is not ready stays a saved draft,
        with one message listing what it needs. None when no publish button was pressed.
        """
        if "_publish_now" in request.POST:
            at = timezone.now()
        elif "_publish" in request.POST:
            at = None
        else:
            return None
        change_url = reverse(f"{self.admin_site.name}:articles_article_change", args=[article.pk])
        try:
            publish_articles(articles=[article], by=request.user, at=at, comment="Published from the form.")
        except NotReady as not_ready:
            self.message_user(request, f"Draft saved. {not_ready}", messages.ERROR)
            return redirect(change_url)
        article.refresh_from_db()
        if article.is_scheduled:
            self.message_user(request, f"“{article}” saved. {schedule_label(article)}.", messages.SUCCESS)
        else:
            self.message_user(
                request,
                format_html(
                    '“{}” is live since {} at <a href="{}">{}</a>.',
                    article,
                    local_time(article.published_at),
                    article.get_absolute_url(),
                    article.get_absolute_url(),
                ),
                messages.SUCCESS,
            )
        return redirect(change_url)

    def unpublish_view(self, request, object_id):
        """Unpublish one article, after a page saying what readers will see."""
        article = self.get_object(request, unquote(object_id))
        if article is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not (self.may_publish(request) and self.has_change_permission(request, article)):
            raise PermissionDenied
        change_url = reverse(f"{self.admin_site.name}:articles_article_change", args=[article.pk])
        if article.status != Article.Status.PUBLISHED:
            self.message_user(request, f"“{article}” is a draft already.", messages.INFO)
            return redirect(change_url)
        if request.method == "POST":
            unpublish_articles(articles=[article], by=request.user, comment="Unpublished from the form.")
            self.message_user(request, f"“{article}” is back to draft: readers no longer see it.", messages.SUCCESS)
            return redirect(change_url)
        return self.confirm_publishing(request, "unpublish", [article], title=f"Unpublish “{article}”?")

    def confirm_publishing(self, request, action, articles, *, title):
        """The page before unpublishing (or a bulk publish touching published articles): what readers will see."""
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.opts,
            "action": action,
            "rows": [{"article": article, "state": publication_state(article)} for article in articles],
            "live": [article for article in articles if article.is_live],
            "scheduled": [article for article in articles if article.is_scheduled],
            "drafts": [article for article in articles if article.status == Article.Status.DRAFT],
            "single": len(articles) == 1 and action == "unpublish" and "action" not in request.POST,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/articles/article/confirm_publishing.html", context)

    @admin.action(description="Publish now", permissions=["publish"])
    def publish_now(self, request, queryset):
        articles = list(queryset)
        if "post" not in request.POST and any(article.status == Article.Status.PUBLISHED for article in articles):
            return self.confirm_publishing(request, "publish_now", articles, title="Publish these articles now?")
        try:
            count = publish_articles(
                articles=queryset, by=request.user, at=timezone.now(), comment="Published now (list action)."
            )
        except NotReady as not_ready:
            self.message_user(request, str(not_ready), messages.ERROR)
            return None
        if count:
            self.message_user(
                request,
                ngettext("%d article is now live.", "%d articles are now live.", count) % count,
                messages.SUCCESS,
            )
        else:
            self.message_user(request, "The selected articles were already live.", messages.INFO)
        return None

    @admin.action(description="Unpublish (back to draft)", permissions=["publish"])
    def unpublish(self, request, queryset):
        articles = list(queryset)
        if "post" not in request.POST and any(article.status == Article.Status.PUBLISHED for article in articles):
            return self.confirm_publishing(request, "unpublish", articles, title="Unpublish these articles?")
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
        return None

    # The front page -----------------------------------------------------------

    def has_front_page_permission(self, request):
        return request.user.has_perm("articles.add_frontpageslot")

    @admin.action(description="Put on the front page", permissions=["front_page"])
    def put_on_front_page(self, request, queryset):
        """Adds the selected articles at the bottom of the front page's top stories, in the list's order."""
        with transaction.atomic():
            already = set(FrontPageSlot.objects.filter(article__in=queryset).values_list("article_id", flat=True))
            added = [article for article in queryset if article.pk not in already]
            position = FrontPageSlot.next_position()
            for offset, article in enumerate(added):
                FrontPageSlot.objects.create(article=article, position=position + offset)
        front_page = reverse("admin:articles_frontpageslot_changelist")
        waiting = sum(not article.is_live for article in added)
        if added:
            text = ngettext("%d article put on the front page.", "%d articles put on the front page.", len(added))
            text %= len(added)
            if waiting:
                text += " " + ngettext("%d shows once it is published.", "%d show once they are published.", waiting)
                text %= waiting
            message = format_html('{} <a href="{}">Order the front page</a>.', text, front_page)
            self.message_user(request, message, messages.SUCCESS)
        else:
            self.message_user(
                request,
                format_html('The selected articles are already on the <a href="{}">front page</a>.', front_page),
                messages.INFO,
            )

    class Media:
        css = {"all": ["css/admin.css"]}


@admin.register(ArticleRedirect)
class ArticleRedirectAdmin(admin.ModelAdmin):
    """
    The addresses articles had before a slug or date change, each answering a
    301 to the article. Recorded by Article.save() and restores, never typed:
    read-only except for deleting one (to free it for good).
    """

    list_display = ["old_path", "article", "created_at"]
    list_select_related = ["article"]
    search_fields = ["old_path", "article__headline", "article__slug"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
