"use strict";
// Tag chips for the article form: suggests existing tags from the admin's
// autocomplete endpoint and lets the editor add new ones. Values are tag
// names, so an existing tag and a newly typed one are saved the same way.
//
// Enter picks the highlighted suggestion, and existing tags come first: the
// first match is highlighted, so Enter takes it (whatever its case). Creating
// a tag is a deliberate choice: it is offered last, as "Create new tag “…”",
// and not at all when a tag of that name (ignoring case) exists.
{
    const $ = django.jQuery;
    const same = (a, b) => a.localeCompare(b, undefined, {sensitivity: "accent"}) === 0;

    function describe(item) {
        if (!item.newTag) return item.text;
        const row = document.createElement("span");
        row.className = "tag-create";
        row.textContent = `Create new tag “${item.text}”`;
        return $(row);
    }

    function init(element) {
        $(element).select2({
            tags: true,
            width: "100%",
            ajax: {
                url: element.dataset.url,
                dataType: "json",
                delay: 200,
                data: (params) => ({
                    term: params.term,
                    page: params.page,
                    app_label: element.dataset.appLabel,
                    model_name: element.dataset.modelName,
                    field_name: element.dataset.fieldName,
                }),
                processResults: (data) => ({
                    results: data.results.map((tag) => ({id: tag.text, text: tag.text})),
                    pagination: data.pagination,
                }),
            },
            createTag: (params) => {
                const name = params.term.trim().replace(/\s+/g, " ");
                return name ? {id: name, text: name, newTag: true} : null;
            },
            insertTag: (data, tag) => {
                const existing = data.find((item) => !item.newTag && same(item.text, tag.text));
                if (!existing) data.push(tag);
            },
            templateResult: describe,
        });
        // A comma or Enter on a name that exists in another case takes the existing tag.
        $(element).on("select2:selecting", (event) => {
            const chosen = event.params.args.data;
            if (!chosen.newTag) return;
            const option = [...element.options].find((o) => o.value !== chosen.id && same(o.value, chosen.id));
            if (option) {
                event.preventDefault();
                option.selected = true;
                $(element).trigger("change");
            }
        });
    }

    $(function () {
        $("select.tag-autocomplete").each((i, element) => init(element));
    });
}
