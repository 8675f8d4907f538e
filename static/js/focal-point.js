"use strict";
// Admin only: the photo form's focal point, set by clicking the photo.
// Fills the "focal point (across/down)" fields with fractions (0 to 1) and
// shows the point; typing in the fields moves the point too.
document.addEventListener("DOMContentLoaded", () => {
    const picker = document.querySelector(".focal-picker");
    const across = document.getElementById("id_focal_x");
    const down = document.getElementById("id_focal_y");
    if (!picker || !across || !down) return;
    const photo = picker.querySelector("img");
    const marker = picker.querySelector(".focal-marker");

    function show() {
        const x = parseFloat(across.value);
        const y = parseFloat(down.value);
        const set = !Number.isNaN(x) && !Number.isNaN(y);
        marker.hidden = !set;
        if (set) {
            marker.style.left = `${x * 100}%`;
            marker.style.top = `${y * 100}%`;
        }
    }

    photo.addEventListener("click", (event) => {
        const box = photo.getBoundingClientRect();
        const fraction = (offset, size) => Math.min(1, Math.max(0, offset / size)).toFixed(3);
        across.value = fraction(event.clientX - box.left, box.width);
        down.value = fraction(event.clientY - box.top, box.height);
        for (const input of [across, down]) input.dispatchEvent(new Event("change", {bubbles: true}));
        show();
    });
    across.addEventListener("input", show);
    down.addEventListener("input", show);
    show();
});
