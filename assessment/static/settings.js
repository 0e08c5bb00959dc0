// Settings: while the firm has no time zone yet, choose this browser's zone in the list, and
// say so. Nothing is saved until the admin presses Save. Without this file the list shows UTC.
(function () {
  "use strict";
  const select = document.querySelector("select[data-browser-default]");
  if (!select || !window.Intl || !Intl.DateTimeFormat) return;
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (!zone || zone === select.value) return;
  const known = Array.from(select.options).some(function (o) { return o.value === zone; });
  if (!known) return;
  select.value = zone;
  const note = document.querySelector("[data-zone-from-browser]");
  if (note) {
    note.textContent = "Chosen from this browser's time zone: " + zone.replace(/_/g, " ") +
      ". Press Save to use it.";
    note.hidden = false;
  }
})();
