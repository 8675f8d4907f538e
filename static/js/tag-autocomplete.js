"use strict";
// Tag chips for the article form: suggests existing tags from the admin's
// autocomplete endpoint and lets the editor add new ones. Values are tag
// names, so an existing tag and a newly typed one are saved the same way.
{
    const $ = django.jQuery;

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
                const name = params.term.trim();
                return name ? {id: name, text: name, newTag: true} : null;
            },
        });
    }

    $(function () {
        $("select.tag-autocomplete").each((i, element) => init(element));
    });
}
