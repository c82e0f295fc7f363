// carebinder's pages work without JavaScript; this file only makes a few things easier.
// Nothing here is needed for any action.
"use strict";

// A file input marked data-drop: its box also takes files dropped on it. The files go
// into the same input (added to those already chosen), so the form sends them as if
// they had been picked with the button.
document.addEventListener("DOMContentLoaded", () => {
  for (const input of document.querySelectorAll("input[type=file][data-drop]")) {
    const zone = input.closest(".field") || input;
    zone.classList.add("drop-ready");
    const hint = document.createElement("p");
    hint.className = "hint drop-hint";
    hint.textContent = "Or drop the files here.";
    input.before(hint);
    const over = (event) => {
      event.preventDefault();
      zone.classList.add("drop-over");
    };
    zone.addEventListener("dragenter", over);
    zone.addEventListener("dragover", over);
    zone.addEventListener("dragleave", (event) => {
      if (!zone.contains(event.relatedTarget)) zone.classList.remove("drop-over");
    });
    zone.addEventListener("drop", (event) => {
      event.preventDefault();
      zone.classList.remove("drop-over");
      const dropped = event.dataTransfer && event.dataTransfer.files;
      if (!dropped || dropped.length === 0) return;
      const all = new DataTransfer();
      for (const file of input.files) all.items.add(file);
      for (const file of dropped) all.items.add(file);
      input.files = all.files;
      input.dispatchEvent(new Event("change", { bubbles: true }));
    });
  }
});
