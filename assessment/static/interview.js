// Interview mode keys: number keys pick an option of the question in focus, n / p move to the
// next / previous question. Typing in a text box or note is never intercepted.
(function () {
  "use strict";
  const questions = function () {
    return Array.from(document.querySelectorAll("form.interview [data-question]")).filter(function (el) { return !el.hidden; });
  };
  function current() {
    return document.activeElement && document.activeElement.closest ? document.activeElement.closest("[data-question]") : null;
  }
  function focusQuestion(el) {
    if (!el) return;
    const input = el.querySelector("input:checked") || el.querySelector("input:not([type=hidden]), textarea");
    if (input) { input.focus(); el.scrollIntoView({ block: "center" }); }
  }
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const target = event.target;
    if (target.tagName === "TEXTAREA" || (target.tagName === "INPUT" && target.type === "text")) return;
    const list = questions();
    const here = current();
    const at = here ? list.indexOf(here) : -1;
    if (event.key === "n" || event.key === "p") {
      event.preventDefault();
      focusQuestion(list[event.key === "n" ? Math.min(at + 1, list.length - 1) : Math.max(at - 1, 0)]);
      return;
    }
    if (here && /^[1-9]$/.test(event.key)) {
      const options = here.querySelectorAll(".choices input");
      const option = options[parseInt(event.key, 10) - 1];
      if (option) {
        event.preventDefault();
        option.focus();
        option.click();
      }
    }
  });
})();

// The Note box says who reads it: the firm only, or the client too (its "Show" box).
(function () {
  "use strict";
  document.querySelectorAll("form.interview [data-share-note]").forEach(function (box) {
    const audience = box.closest(".interview-extra").querySelector("[data-note-audience]");
    box.addEventListener("change", function () {
      audience.textContent = box.checked ? "(shown to the client)" : "(private to your firm)";
    });
  });
})();
