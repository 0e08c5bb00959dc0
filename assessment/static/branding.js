// Branding: a colour picker beside each hex field, kept in step with it both ways, and the
// cover preview following the colours as they change. Without this file the hex fields work
// alone (the pickers stay hidden).
(function () {
  "use strict";
  const HEX = /^#[0-9a-fA-F]{6}$/;
  const preview = document.querySelector(".cover-preview");
  const accent = preview && preview.querySelector(".cover-accent");
  function show(field, value) {
    if (!preview || !HEX.test(value)) return;
    if (field.id === "primary_colour") preview.style.background = value;
    if (field.id === "accent_colour" && accent) accent.style.background = value;
  }
  document.querySelectorAll("input[type=color][data-colour-for]").forEach(function (picker) {
    const field = document.getElementById(picker.dataset.colourFor);
    if (!field) return;
    picker.hidden = false;
    picker.addEventListener("input", function () {
      field.value = picker.value;
      show(field, picker.value);
    });
    field.addEventListener("input", function () {
      const value = field.value.trim();
      if (HEX.test(value)) {
        picker.value = value.toLowerCase();
        show(field, value);
      }
    });
  });
})();
