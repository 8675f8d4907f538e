from django_prose_editor.fields import ProseEditorField

from .html import EDITOR_EXTENSIONS, sanitize_html


class SanitizedHTMLField(ProseEditorField):
    """
    Rich text that is sanitized once on its way into the database.

    get_prep_value() sanitizes every write: model forms, save(),
    QuerySet.update(), bulk_create() and loaddata (which skips save() and
    pre_save()). A value that already went through sanitize_html() (the
    admin's model validation, pre_save(), an importer) is marked so, and
    passes the later steps of the same write untouched.
    """

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("extensions", EDITOR_EXTENSIONS)
        kwargs.setdefault("sanitize", sanitize_html)
        super().__init__(*args, **kwargs)

    def pre_save(self, model_instance, add):
        # The instance holds what was stored, as the editor's next read would show it.
        value = sanitize_html(getattr(model_instance, self.attname))
        setattr(model_instance, self.attname, value)
        return value

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        return str(sanitize_html(value)) if isinstance(value, str) else value
