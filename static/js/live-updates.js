// Live pages (templates/articles/article_detail.html): new updates without reloading.
// Every few seconds the page itself is fetched again; the browser revalidates its copy
// (If-None-Match), so an unchanged page costs a 304 and no parsing. New updates are put
// on top, edited ones replaced, removed ones taken out, and the key points refreshed.
// Without JavaScript the page is complete; a reload shows the same.
"use strict";

(() => {
  const live = document.querySelector(".live[data-live-poll]");
  if (!live) return;
  const seconds = Math.max(1, Number(live.dataset.livePoll) || 10);
  const status = live.querySelector(".live-status");
  let lastTag = null;
  let timer = null;

  function schedule() {
    clearTimeout(timer);
    if (!document.hidden) timer = setTimeout(check, seconds * 1000);
  }

  async function check() {
    try {
      const response = await fetch(location.pathname, { cache: "no-cache", credentials: "same-origin" });
      const tag = response.headers.get("ETag") || response.headers.get("Last-Modified");
      if (response.ok && (tag === null || tag !== lastTag)) {
        lastTag = tag;
        if (!merge(new DOMParser().parseFromString(await response.text(), "text/html"))) return;
      }
    } catch {
      // Offline for a moment: try again later.
    }
    schedule();
  }

  function replaceOrRemove(selector, fresh) {
    const current = document.querySelector(selector);
    if (current && fresh) current.replaceWith(document.importNode(fresh, true));
    else if (current) current.remove();
    return current;
  }

  // Returns false once the coverage has ended (the page then stops asking).
  function merge(doc) {
    const freshLive = doc.querySelector(".live");
    if (!freshLive) return false;
    const list = live.querySelector(".live-updates");
    const freshItems = [...freshLive.querySelectorAll(".live-updates > li")];
    const freshIds = new Set(freshItems.map((item) => item.id));
    for (const item of [...list.children]) {
      if (!freshIds.has(item.id)) item.remove();
    }
    let added = 0;
    let previous = null;
    for (const freshItem of freshItems) {
      const current = document.getElementById(freshItem.id);
      const item = document.importNode(freshItem, true);
      if (!current) {
        if (previous) previous.after(item);
        else list.prepend(item);
        added += 1;
        item.dispatchEvent(new CustomEvent("newsroom:updates", { bubbles: true }));
      } else if (current.innerHTML !== freshItem.innerHTML && !current.querySelector(".embed-loaded")) {
        current.replaceWith(item);
        item.dispatchEvent(new CustomEvent("newsroom:updates", { bubbles: true }));
      }
      previous = document.getElementById(freshItem.id);
    }
    const freshKeyPoints = doc.getElementById("key-points");
    if (!replaceOrRemove("#key-points", freshKeyPoints) && freshKeyPoints) {
      document.querySelector(".article-header").append(document.importNode(freshKeyPoints, true));
    }
    if (list.children.length) live.querySelector(".live-none")?.remove();
    if (added) status.textContent = added === 1 ? "1 new update" : `${added} new updates`;
    if (!freshLive.hasAttribute("data-live-poll")) {
      // Coverage ended: show the page's final state and stop.
      live.querySelector("h2").replaceWith(document.importNode(freshLive.querySelector("h2"), true));
      const ended = freshLive.querySelector(".live-ended");
      if (ended) live.querySelector(".live-status").before(document.importNode(ended, true));
      live.removeAttribute("data-live-poll");
      return false;
    }
    return true;
  }

  document.addEventListener("visibilitychange", () => {
    if (document.hidden) clearTimeout(timer);
    else if (live.hasAttribute("data-live-poll")) check();
  });
  schedule();
})();
