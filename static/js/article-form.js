"use strict";
// The article form's own behaviour (admin only, no inline script or style):
// - names for the widgets that scripts draw (the body editor, select2 boxes),
//   taken from the field's label, so screen readers announce every field;
// - ordered inlines (byline, related articles): rows move by dragging their
//   handle or with the arrow keys on it; positions are renumbered 0, 1, 2...
//   in the order shown, and a new row goes last.
{
    const labelText = (element) => {
        const label = element.id && document.querySelector(`label[for="${CSS.escape(element.id)}"]`);
        const text = label ? label.textContent : element.getAttribute("aria-label") || "";
        return text.replace(/:\s*$/, "").trim();
    };

    // The body editor (django-prose-editor): named after its textarea's label.
    function nameEditors(root) {
        for (const dom of root.querySelectorAll(".prose-editor .ProseMirror:not([aria-label])")) {
            const textarea = dom.closest(".prose-editor").querySelector("textarea");
            dom.setAttribute("aria-label", (textarea && labelText(textarea)) || "Body");
            dom.setAttribute("aria-multiline", "true");
            dom.setAttribute("spellcheck", "true");
        }
    }

    // select2 draws its own boxes next to a hidden <select>: name them after it.
    function nameSelect2(root) {
        nameEditors(root);
        for (const select of root.querySelectorAll("select.select2-hidden-accessible")) {
            const name = labelText(select);
            const container = select.nextElementSibling;
            if (!name || !container || !container.classList.contains("select2")) continue;
            for (const part of container.querySelectorAll(
                ".select2-selection__rendered, .select2-search__field, .select2-selection[role=combobox]",
            )) {
                if (!part.getAttribute("aria-label")) part.setAttribute("aria-label", name);
            }
        }
    }
    const form = document.querySelector("form[id$=_form]");
    if (form) {
        let queued = false;
        new MutationObserver(() => {
            if (queued) return;
            queued = true;
            requestAnimationFrame(() => {
                queued = false;
                nameSelect2(form);
            });
        }).observe(form, {childList: true, subtree: true});
        window.addEventListener("load", () => nameSelect2(form));
    }

    // Ordered inlines.
    const rowsOf = (group) =>
        [...group.querySelectorAll("tbody tr.form-row")].filter(
            (row) => !row.classList.contains("empty-form") && !row.id.endsWith("-empty"),
        );

    function renumber(group) {
        rowsOf(group).forEach((row, index) => {
            const position = row.querySelector("td.field-position input");
            if (position) position.value = index;
        });
    }

    function announce(group, text) {
        let status = group.querySelector(".order-status");
        if (!status) {
            status = document.createElement("p");
            status.className = "order-status sr-only";
            status.setAttribute("role", "status");
            group.prepend(status);
        }
        status.textContent = text;
    }

    function move(row, offset) {
        const group = row.closest(".ordered-inline");
        const rows = rowsOf(group);
        const index = rows.indexOf(row);
        const target = rows[index + offset];
        if (!target) return;
        if (offset < 0) target.before(row);
        else target.after(row);
        renumber(group);
        announce(group, `Moved to position ${index + offset + 1} of ${rows.length}.`);
    }

    document.addEventListener("keydown", (event) => {
        const handle = event.target.closest && event.target.closest(".ordered-inline .order-handle");
        if (!handle || !["ArrowUp", "ArrowDown"].includes(event.key)) return;
        event.preventDefault();
        move(handle.closest("tr"), event.key === "ArrowUp" ? -1 : 1);
        handle.focus();
    });

    // Browsers do not drag from a button: the row becomes draggable while its handle is held.
    let dragged = null;
    document.addEventListener("pointerdown", (event) => {
        const handle = event.target.closest && event.target.closest(".ordered-inline .order-handle");
        if (handle) handle.closest("tr").draggable = true;
    });
    document.addEventListener("pointerup", () => {
        for (const row of document.querySelectorAll(".ordered-inline tr[draggable=true]")) row.draggable = false;
    });
    document.addEventListener("dragstart", (event) => {
        const row = event.target.closest && event.target.closest(".ordered-inline tr.form-row[draggable=true]");
        if (!row) return;
        dragged = row;
        dragged.classList.add("dragging");
        event.dataTransfer.effectAllowed = "move";
        event.dataTransfer.setData("text/plain", dragged.id);
    });
    document.addEventListener("dragover", (event) => {
        if (!dragged) return;
        const row = event.target.closest && event.target.closest("tr.form-row");
        if (!row || row === dragged || row.parentElement !== dragged.parentElement || row.id.endsWith("-empty")) {
            return;
        }
        event.preventDefault();
        const box = row.getBoundingClientRect();
        if (event.clientY < box.top + box.height / 2) row.before(dragged);
        else row.after(dragged);
    });
    document.addEventListener("drop", (event) => {
        if (dragged) event.preventDefault();
    });
    document.addEventListener("dragend", () => {
        if (!dragged) return;
        const group = dragged.closest(".ordered-inline");
        dragged.classList.remove("dragging");
        dragged.draggable = false;
        const rows = rowsOf(group);
        announce(group, `Moved to position ${rows.indexOf(dragged) + 1} of ${rows.length}.`);
        renumber(group);
        dragged = null;
    });

    // A row added with "Add another …" goes last (Django's inlines.js sends formset:added).
    document.addEventListener("formset:added", (event) => {
        const group = event.target.closest(".ordered-inline");
        if (group) renumber(group);
    });
}

// The body editor: figures from the photo library. A button under the editor
// searches the library (ImageAdmin's chooser endpoint: renditions, alt text,
// caption, credit) and inserts the chosen photo as a figure at the cursor.
{
    const chooserUrl = () => document.querySelector("select.image-chooser")?.getAttribute("data-ajax--url");

    function figureHtml(photo) {
        const figure = document.createElement("figure");
        const img = document.createElement("img");
        img.src = photo.src;
        img.alt = photo.alt;
        img.width = photo.width;
        img.height = photo.height;
        figure.append(img);
        // The library's caption, to edit in place; the credit comes from the library on
        // readers' pages (articles/bodies.py finds the photo by its address when saved).
        if (photo.caption) {
            const figcaption = document.createElement("figcaption");
            figcaption.textContent = photo.caption;
            figure.append(figcaption);
        }
        return figure.outerHTML;
    }

    function makeChooser(field, editor) {
        const button = document.createElement("button");
        button.type = "button";
        button.className = "button library-photo-button";
        button.textContent = "Insert photo from the library";
        const panel = document.createElement("div");
        panel.className = "library-photo-panel";
        panel.hidden = true;
        const label = document.createElement("label");
        label.textContent = "Search photos by alt text, caption or credit";
        label.htmlFor = "library-photo-search";
        const search = document.createElement("input");
        search.type = "search";
        search.id = "library-photo-search";
        search.className = "vTextField";
        const results = document.createElement("ul");
        results.className = "library-photo-results";
        results.setAttribute("aria-live", "polite");
        panel.append(label, search, results);
        field.append(button, panel);

        let timer = null;
        async function find() {
            const params = new URLSearchParams({
                term: search.value,
                app_label: "articles",
                model_name: "article",
                field_name: "lead_image",
            });
            const response = await fetch(`${chooserUrl()}?${params}`, {credentials: "same-origin"});
            if (!response.ok) return;
            const photos = (await response.json()).results;
            results.replaceChildren(
                ...photos.map((photo) => {
                    const item = document.createElement("li");
                    const choose = document.createElement("button");
                    choose.type = "button";
                    choose.className = "library-photo-choice";
                    const thumb = document.createElement("img");
                    thumb.src = photo.thumbnail;
                    thumb.alt = "";
                    thumb.width = 64;
                    thumb.height = 42;
                    const text = document.createElement("span");
                    text.textContent = [photo.alt || photo.text, photo.credit && `(${photo.credit})`]
                        .filter(Boolean)
                        .join(" ");
                    choose.append(thumb, text);
                    choose.addEventListener("click", () => {
                        editor.chain().focus().insertContent(figureHtml(photo)).run();
                        panel.hidden = true;
                        button.setAttribute("aria-expanded", "false");
                        button.focus();
                    });
                    item.append(choose);
                    return item;
                }),
            );
            if (!photos.length) {
                const none = document.createElement("li");
                none.textContent = "No photo matches. Upload it to the photo library first.";
                results.append(none);
            }
        }
        search.addEventListener("input", () => {
            clearTimeout(timer);
            timer = setTimeout(find, 200);
        });
        button.setAttribute("aria-expanded", "false");
        button.addEventListener("click", () => {
            panel.hidden = !panel.hidden;
            button.setAttribute("aria-expanded", String(!panel.hidden));
            if (!panel.hidden) {
                search.focus();
                find();
            }
        });
    }

    // This script runs before the editor's (change_form.html loads it first), so it hears "ready".
    document.addEventListener("prose-editor:ready", (event) => {
        const {editor, textarea} = event.detail;
        const field = textarea.closest(".field-body");
        if (!field || !chooserUrl() || field.querySelector(".library-photo-button")) return;
        makeChooser(textarea.closest(".prose-editor").parentElement, editor);
    });
}
