// The "Preparing your report" page: ask the server how far the PDF has got, show it, and fetch
// the PDF once it is ready. Without this file the page reloads itself until the PDF is ready.
(function () {
  "use strict";

  const box = document.querySelector("[data-report-wait]");
  if (!box || !window.fetch) return;
  const bar = box.querySelector("[data-wait-progress]");
  const step = box.querySelector("[data-wait-step]");
  const percent = box.querySelector("[data-wait-percent]");
  const heading = box.querySelector("[data-wait-heading]");
  const lead = box.querySelector("[data-wait-lead]");
  const download = box.querySelector("[data-wait-download]");
  let failures = 0;

  function show(reply) {
    bar.value = reply.percent;
    bar.textContent = reply.percent + "%";
    percent.textContent = reply.percent + "%";
    if (step.textContent !== reply.step) step.textContent = reply.step;
  }

  function ready(reply) {
    heading.textContent = "Your report is ready";
    lead.textContent = "It is downloading. If it does not, use the download button.";
    download.classList.add("button-primary");
    window.location.assign(reply.pdf);
  }

  function stop(message, title) {
    heading.textContent = title || "The report could not be made just now";
    lead.textContent = message;
    step.textContent = "Stopped";
    download.textContent = "Try the download again";
  }

  function poll() {
    fetch(box.dataset.statusUrl, {headers: {"Accept": "application/json"}, cache: "no-store",
                                  credentials: "same-origin"})
      .then(function (response) {
        if (!response.ok) throw new Error("status " + response.status);
        return response.json();
      })
      .then(function (reply) {
        failures = 0;
        show(reply);
        if (reply.state === "ready") ready(reply);
        else if (reply.state === "failed" || reply.state === "busy" || reply.state === "delayed") {
          stop(reply.message || "Your answers are safe. Please try again in a minute.",
               reply.state === "failed" ? null : reply.step);
        }
        else setTimeout(poll, 200);  // the server holds each answer until there is news
      })
      .catch(function () {
        failures += 1;
        if (failures >= 6) stop("We could not reach the server. Check your connection and try again.");
        else setTimeout(poll, 500 * failures);
      });
  }

  poll();
})();
