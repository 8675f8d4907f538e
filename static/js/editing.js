"use strict";
// Admin only: who else has this article open (articles/admin/editing.py).
// Pings while the form is open, so the soft lock does not expire; updates the
// notice as others open and close the article; says goodbye when the page goes.
{
    const notice = document.getElementById("editing-others");
    const form = document.getElementById("article_form");
    if (notice && form) {
        const url = notice.dataset.url;
        const every = Number(notice.dataset.pingSeconds || 30) * 1000;
        const token = () => form.querySelector("[name=csrfmiddlewaretoken]").value;

        function show(others) {
            const list = notice.querySelector("ul");
            list.replaceChildren(
                ...others.map((other) => {
                    const item = document.createElement("li");
                    item.textContent = `${other.name} has had it open since ${other.since} (${other.for}).`;
                    return item;
                }),
            );
            notice.hidden = others.length === 0;
        }

        async function ping() {
            const body = new FormData();
            body.append("csrfmiddlewaretoken", token());
            try {
                const response = await fetch(url, {method: "POST", body, credentials: "same-origin"});
                if (response.ok) show((await response.json()).others);
            } catch {
                // Offline for a moment: the next ping tries again; the save-time check still guards.
            }
        }

        setInterval(ping, every);
        window.addEventListener("pagehide", () => {
            const body = new FormData();
            body.append("csrfmiddlewaretoken", token());
            body.append("closed", "1");
            navigator.sendBeacon(url, body);
        });
    }
}
