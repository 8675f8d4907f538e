import json

from django import forms
from django.conf import settings
from django.contrib.admin.widgets import AutocompleteSelect
from django.urls import reverse

from ..models import Image


class TagAutocompleteWidget(forms.SelectMultiple):
    """
    Tags as removable chips, suggesting existing tags as the editor types and
    creating new ones on Enter or comma. Uses the admin's own select2 and its
    autocomplete endpoint (which applies TagAdmin's search and permissions).
    """

    def __init__(self, field, admin_site, attrs=None):
        self.field = field
        self.admin_site = admin_site
        super().__init__(attrs)

    def build_attrs(self, base_attrs, extra_attrs=None):
        attrs = super().build_attrs(base_attrs, extra_attrs)
        attrs.update(
            {
                "class": "tag-autocomplete",
                "data-url": reverse(f"{self.admin_site.name}:autocomplete"),
                "data-app-label": self.field.model._meta.app_label,
                "data-model-name": self.field.model._meta.model_name,
                "data-field-name": self.field.name,
                "data-theme": "admin-autocomplete",
                "data-token-separators": json.dumps([","]),
                "data-placeholder": "Type to find or add tags",
            }
        )
        return attrs

    def optgroups(self, name, value, attrs=None):
        options = [self.create_option(name, tag, tag, True, index) for index, tag in enumerate(value)]
        return [(None, options, 0)]

    def format_value(self, value):
        return [str(getattr(tag, "name", tag)) for tag in value or []]

    @property
    def media(self):
        extra = "" if settings.DEBUG else ".min"
        return forms.Media(
            js=(
                f"admin/js/vendor/jquery/jquery{extra}.js",
                f"admin/js/vendor/select2/select2.full{extra}.js",
                "admin/js/jquery.init.js",
                "js/tag-autocomplete.js",
            ),
            css={"screen": (f"admin/css/vendor/select2/select2{extra}.css", "admin/css/autocomplete.css")},
        )


class ImageChooserWidget(AutocompleteSelect):
    """
    The lead-image chooser: the admin's search-as-you-type select, with a
    thumbnail beside each result and beside the chosen image. Results come from
    ImageAdmin's chooser endpoint (the admin's autocomplete view plus a
    thumbnail URL); static/js/image-chooser.js draws them without inline style.
    """

    url_name = "%s:articles_image_chooser"

    def build_attrs(self, base_attrs, extra_attrs=None):
        attrs = super().build_attrs(base_attrs, extra_attrs)
        # Not "admin-autocomplete": Django's script would set it up first, without thumbnails.
        attrs["class"] = " ".join(
            [name for name in attrs["class"].split() if name != "admin-autocomplete"] + ["image-chooser"]
        )
        attrs["data-placeholder"] = "Type to search photos by alt text, caption or credit"
        return attrs

    def optgroups(self, name, value, attrs=None):
        groups = super().optgroups(name, value, attrs)
        chosen = [option for option in groups[0][1] if option["value"] not in ("", None)]
        if chosen:
            images = Image.objects.prefetch_related("renditions").in_bulk([option["value"] for option in chosen])
            for option in chosen:
                image = images.get(int(option["value"]))
                if image is not None:
                    option["attrs"]["data-thumbnail"] = image.thumbnail_url
        return groups

    @property
    def media(self):
        # jquery.init.js listed again, so that merging the form's media cannot put
        # this script before django.jQuery exists (it did: "$ is not a function").
        return super().media + forms.Media(
            js=["admin/js/jquery.init.js", "js/image-chooser.js"], css={"all": ["css/admin.css"]}
        )
