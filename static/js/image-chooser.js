"use strict";
// The lead-image chooser in the article form: the admin's select2 search,
// with a thumbnail next to each photo. Results come from ImageAdmin's chooser
// endpoint ({id, text, thumbnail}); the chosen option carries data-thumbnail.
// Elements are built with the DOM API: no inline style or markup strings.
{
    const $ = django.jQuery;

    function withThumbnail(item) {
        const src = item.thumbnail || (item.element && item.element.dataset.thumbnail);
        if (!item.id || !src) {
            return item.text;
        }
        const row = document.createElement("span");
        row.className = "image-chooser-item";
        const img = document.createElement("img");
        img.src = src;
        img.alt = "";
        img.width = 48;
        img.height = 32;
        img.loading = "lazy";
        const label = document.createElement("span");
        label.textContent = item.text;
        row.append(img, label);
        return $(row);
    }

    function init(element) {
        $(element).select2({
            width: "100%",
            ajax: {
                data: (params) => ({
                    term: params.term,
                    page: params.page,
                    app_label: element.dataset.appLabel,
                    model_name: element.dataset.modelName,
                    field_name: element.dataset.fieldName,
                }),
            },
            templateResult: withThumbnail,
            templateSelection: withThumbnail,
        });
    }

    $(function () {
        $(".image-chooser").not("[name*=__prefix__]").each((i, element) => init(element));
    });
}
