from django_prose_editor.fields import ProseEditorField

from .html import EDITOR_EXTENSIONS, sanitize_html


class SanitizedHTMLField(ProseEditorField):
    """
    Rich text that is sanitized on its way into the database.

    Sanitizing in get_prep_value() covers every write: model forms, save(),
    QuerySet.update(), bulk_create() and loaddata (which skips save() and
    pre_save()).
    """

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("extensions", EDITOR_EXTENSIONS)
        kwargs.setdefault("sanitize", sanitize_html)
        super().__init__(*args, **kwargs)

    def pre_save(self, model_instance, add):
        value = sanitize_html(getattr(model_instance, self.attname))
        setattr(model_instance, self.attname, value)
        return value

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        return sanitize_html(value) if isinstance(value, str) else value

    def deconstruct(self):
        name, _path, args, kwargs = super().deconstruct()
        kwargs.pop("extensions", None)
        kwargs.pop("sanitize", None)
        return name, "django.db.models.TextField", args, kwargs
