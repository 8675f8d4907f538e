// Click-to-load embeds (templates/includes/embed.html): the provider's frame is
// created only when the reader asks for it. Without this script, the link remains.
"use strict";

function showEmbedButtons(root) {
  for (const button of root.querySelectorAll(".embed .embed-load")) button.hidden = false;
}

document.addEventListener("click", (event) => {
  const button = event.target.closest(".embed .embed-load");
  if (!button) return;
  const embed = button.closest(".embed");
  const frame = document.createElement("iframe");
  frame.src = embed.dataset.embedSrc;
  frame.title = embed.dataset.embedTitle;
  frame.allow = "autoplay; encrypted-media; fullscreen; picture-in-picture; clipboard-write";
  frame.allowFullscreen = true;
  frame.referrerPolicy = "strict-origin-when-cross-origin";
  embed.querySelector(".embed-placeholder").replaceWith(frame);
  embed.classList.add("embed-loaded");
  frame.focus();
});

showEmbedButtons(document);
// Live updates arrive later (live-updates.js): their embeds get the button too.
document.addEventListener("newsroom:updates", (event) => showEmbedButtons(event.target));
