// The front page's admin list: reorder the curated stories by dragging a row's handle, or by
// focusing the handle and pressing the up and down arrow keys. It rewrites the rows' position
// fields (0, 1, 2, ...); Save stores them. Without JavaScript the position fields do the same.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const table = document.getElementById("result_list");
  const status = document.getElementById("front-page-order-status");
  if (!table || !table.tBodies.length) return;
  const body = table.tBodies[0];
  const rows = () => Array.from(body.rows);
  const headline = (row) => (row.querySelector("th a")?.textContent || "this story").trim();
  let dragged = null;

  function renumber() {
    rows().forEach((row, index) => {
      const input = row.querySelector('input[name$="-position"]');
      if (input && input.value !== String(index)) {
        input.value = String(index);
        input.dispatchEvent(new Event("change", { bubbles: true }));
      }
      row.classList.toggle("row1", index % 2 === 0);
      row.classList.toggle("row2", index % 2 === 1);
    });
  }

  function announce(row) {
    const place = rows().indexOf(row) + 1;
    if (status) {
      status.textContent = `${headline(row)}: now ${place} of ${rows().length}${place === 1 ? ", the lead" : ""}. Save to keep this order.`;
    }
  }

  function clearTargets() {
    table.querySelectorAll(".drop-target").forEach((row) => row.classList.remove("drop-target"));
  }

  rows().forEach((row) => {
    const cell = row.querySelector(".front-page-handle");
    if (!cell) return;
    const handle = document.createElement("button");
    handle.type = "button";
    handle.textContent = "↕";
    handle.draggable = true;
    handle.setAttribute("aria-label", `Move “${headline(row)}”: drag, or press the up and down arrow keys`);
    cell.append(handle);

    handle.addEventListener("keydown", (event) => {
      if (event.key === "ArrowUp" && row.previousElementSibling) {
        row.previousElementSibling.before(row);
      } else if (event.key === "ArrowDown" && row.nextElementSibling) {
        row.nextElementSibling.after(row);
      } else {
        return;
      }
      event.preventDefault();
      renumber();
      handle.focus();
      announce(row);
    });
    handle.addEventListener("dragstart", (event) => {
      dragged = row;
      row.classList.add("dragging");
      event.dataTransfer.effectAllowed = "move";
      event.dataTransfer.setData("text/plain", headline(row));
    });
    handle.addEventListener("dragend", () => {
      row.classList.remove("dragging");
      clearTargets();
      dragged = null;
    });
    row.addEventListener("dragover", (event) => {
      if (!dragged || dragged === row) return;
      event.preventDefault();
      clearTargets();
      row.classList.add("drop-target");
    });
    row.addEventListener("drop", (event) => {
      if (!dragged || dragged === row) return;
      event.preventDefault();
      const box = row.getBoundingClientRect();
      if (event.clientY > box.top + box.height / 2) row.after(dragged);
      else row.before(dragged);
      clearTargets();
      renumber();
      announce(dragged);
    });
  });
});
