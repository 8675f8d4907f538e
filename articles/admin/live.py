from django.contrib import admin
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html, strip_tags
from django.utils.text import Truncator
from django.utils.translation import ngettext

from ..models import Article, LiveUpdate


@admin.register(LiveUpdate)
class LiveUpdateAdmin(admin.ModelAdmin):
    """
    Posting to a live page, a focused form: opened from the article's form
    ("Post an update") with the article filled in; after saving, the form comes
    back empty for the next update to the same page (or the page's list of
    updates, with "Save"). An update is public as soon as it is saved.
    """

    list_display = ["posted_at", "summary", "article", "author", "is_key_point"]
    list_display_links = ["posted_at", "summary"]
    list_editable = ["is_key_point"]
    list_filter = ["is_key_point", ("article", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["article", "author"]
    search_fields = ["title", "body", "article__headline"]
    date_hierarchy = "posted_at"
    autocomplete_fields = ["article", "author"]
    fields = ["article", "title", "body", "author", "is_key_point", "posted_at"]
    save_on_top = True

    def get_fields(self, request, obj=None):
        # A new update is stamped when it is saved (to the microsecond); its time is corrected afterwards if need be.
        fields = super().get_fields(request, obj)
        return fields if obj else [name for name in fields if name != "posted_at"]

    @admin.display(description="update")
    def summary(self, update):
        return update.title or Truncator(strip_tags(update.body)).chars(100)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "article":
            kwargs["queryset"] = Article.objects.filter(live_coverage=True)
            kwargs["help_text"] = "A live page (an article with “Live page” ticked)."
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def view_on_site(self, update):
        return update.get_absolute_url()

    def updates_of(self, update):
        url = reverse("admin:articles_liveupdate_changelist")
        return HttpResponseRedirect(f"{url}?article__id__exact={update.article_id}")

    def response_add(self, request, obj, post_url_continue=None):
        if "_addanother" in request.POST:
            self.message_user(request, f"Posted: “{obj}”. Write the next update to “{obj.article}”.")
            return HttpResponseRedirect(f"{reverse('admin:articles_liveupdate_add')}?article={obj.article_id}")
        response = super().response_add(request, obj, post_url_continue)
        return self.updates_of(obj) if "_continue" not in request.POST and "_popup" not in request.POST else response

    def response_change(self, request, obj):
        response = super().response_change(request, obj)
        plain_save = not {"_continue", "_addanother", "_saveasnew", "_popup"} & request.POST.keys()
        return self.updates_of(obj) if plain_save else response


def live_updates_links(article):
    """For the article form: the live page's updates and the way to post one."""
    if article.pk is None or not article.live_coverage:
        return "Tick “Live page” and save to post updates."
    count = article.live_updates.count()
    return format_html(
        '<a class="button" href="{}?article={}">Post an update</a> <a href="{}?article__id__exact={}">{}</a>',
        reverse("admin:articles_liveupdate_add"),
        article.pk,
        reverse("admin:articles_liveupdate_changelist"),
        article.pk,
        ngettext("%d update", "%d updates", count) % count,
    )
