// The wizard's enhancements. Everything works without this file: it adds saving each answer as
// it changes, showing follow-up questions as answers change, focus handling and a copy button.
(function () {
  "use strict";

  const form = document.querySelector("form[data-autosave]");

  // Focus: the error summary if there is one, else the question in the address, else the heading.
  function placeFocus() {
    const summary = document.querySelector("[data-error-summary]");
    if (summary) { summary.focus(); return; }
    const target = location.hash && document.getElementById(location.hash.slice(1));
    if (target) {
      const input = target.querySelector("input:not([type=hidden]), textarea, button");
      if (input) { input.focus(); return; }
      if (target.hasAttribute("tabindex")) { target.focus(); return; }  // a section heading
    }
    const heading = document.querySelector("[data-focus-heading]");
    if (heading) heading.focus();
  }

  // Copy the private link.
  document.querySelectorAll("[data-copy]").forEach(function (button) {
    const input = document.querySelector(button.dataset.copy);
    const status = document.querySelector("[data-copy-status]");
    button.hidden = false;
    button.addEventListener("click", function () {
      const done = function () { if (status) status.textContent = "Link copied."; };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(input.value).then(done, function () {
          input.select(); if (status) status.textContent = "Press Ctrl+C (or Cmd+C) to copy.";
        });
      } else {
        input.select();
        try { document.execCommand("copy"); done(); } catch (e) { /* selected for manual copy */ }
      }
    });
  });

  if (!form) {
    if (document.readyState === "complete") setTimeout(placeFocus, 0);
    else window.addEventListener("load", function () { setTimeout(placeFocus, 0); });
    return;
  }

  const csrf = form.querySelector("input[name=csrf_token]").value;
  const questions = Array.from(form.querySelectorAll("[data-question]"));
  const byId = {};
  questions.forEach(function (el) { byId[el.dataset.question] = el; });

  // The answer in a question block, in the shape the server reads (null: no answer).
  function readAnswer(el) {
    const name = el.dataset.field;
    const widget = el.dataset.widget;
    if (widget === "radios") {
      const checked = el.querySelector("input[name='" + name + "']:checked");
      if (!checked) return null;
      return (checked.value === "not_sure" || checked.value === "na") ? { state: checked.value } : checked.value;
    }
    if (widget === "checkboxes") {
      const values = Array.from(el.querySelectorAll("input[name='" + name + "']:checked")).map(function (i) { return i.value; });
      const special = values.filter(function (v) { return v === "not_sure" || v === "na"; });
      if (special.length && values.length > 1) return undefined; // contradictory: let Save explain
      if (special.length) return { state: special[0] };
      return values.length ? values : null;
    }
    if (widget === "number") {
      const unsure = document.getElementById(name + "__not_sure");
      const na = document.getElementById(name + "__na");
      if (unsure && unsure.checked) return { state: "not_sure" };
      if (na && na.checked) return { state: "na" };
      const value = el.querySelector("input[name='" + name + "']").value.trim();
      // A figure that reads two ways, and the reading chosen: the number itself.
      const meant = el.querySelector("input[name='" + name + "__meant']:checked");
      const asked = el.querySelector("input[name='" + name + "__asked']");
      if (meant && asked && asked.value === value) return Number(meant.value);
      return value === "" ? null : value;
    }
    const text = el.querySelector("input[name='" + name + "'], textarea[name='" + name + "']").value;
    return text.trim() === "" ? null : text;
  }

  // Tokens of an answer, as the server names them for conditions.
  function tokens(el) {
    const answer = readAnswer(el);
    if (answer === null || answer === undefined) return null;
    if (typeof answer === "object" && !Array.isArray(answer)) return { tokens: [answer.state], value: null };
    if (Array.isArray(answer)) {
      const scoring = JSON.parse(el.dataset.scoring || "[]");
      const missing = scoring.filter(function (id) { return answer.indexOf(id) < 0; }).map(function (id) { return "missing_" + id; });
      return { tokens: answer.concat(missing), value: null };
    }
    const number = parseFloat(String(answer).replace(/[\s,_$£€¥%]/g, ""));
    return { tokens: [String(answer)], value: isNaN(number) ? null : number };
  }

  function holds(condition) {
    if (condition.all) return condition.all.every(holds);
    if (condition.any) return condition.any.some(holds);
    if (condition.not) return !holds(condition.not);
    const el = byId[condition.q];
    const found = el && !el.hidden ? tokens(el) : null;
    if ("answered" in condition) return (found !== null) === condition.answered;
    if (found === null) return false;
    const t = found.tokens;
    if ("equals" in condition) return t.indexOf(condition.equals) >= 0;
    if ("includes" in condition) return t.indexOf(condition.includes) >= 0;
    if ("not_equals" in condition) return t.indexOf(condition.not_equals) < 0;
    if ("excludes" in condition) return t.indexOf(condition.excludes) < 0;
    if ("in" in condition) return condition.in.some(function (v) { return t.indexOf(v) >= 0; });
    if ("not_in" in condition) return !condition.not_in.some(function (v) { return t.indexOf(v) >= 0; });
    if (found.value === null) return false;
    if ("gt" in condition) return found.value > condition.gt;
    if ("gte" in condition) return found.value >= condition.gte;
    if ("lt" in condition) return found.value < condition.lt;
    if ("lte" in condition) return found.value <= condition.lte;
    return true;
  }

  function applyConditions() {
    questions.forEach(function (el) {
      if (el.dataset.showIf) el.hidden = !holds(JSON.parse(el.dataset.showIf));
    });
  }

  function setStatus(el, text, kind) {
    const status = el.querySelector("[data-status]");
    status.textContent = text;
    status.className = "save-status" + (kind ? " save-" + kind : "");
  }

  function versionInput(el) { return el.querySelector("input[data-version]"); }

  function clientKey() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return String(Date.now()) + "-" + Math.random().toString(36).slice(2);
  }

  // Put an answer the server holds back into the inputs of a question.
  function showAnswer(el, answer) {
    const name = el.dataset.field;
    const values = answer === null ? [] : (typeof answer === "object" && !Array.isArray(answer)) ? [answer.state] : [].concat(answer).map(String);
    el.querySelectorAll("input[name='" + name + "']").forEach(function (input) {
      if (input.type === "radio" || input.type === "checkbox") input.checked = values.indexOf(input.value) >= 0;
      else input.value = values.length && values[0] !== "not_sure" && values[0] !== "na" ? values[0] : "";
    });
    ["__not_sure", "__na"].forEach(function (suffix) {
      const box = document.getElementById(name + suffix);
      if (box) box.checked = values.indexOf(suffix.slice(2)) >= 0;
    });
    const area = el.querySelector("textarea[name='" + name + "']");
    if (area) area.value = values.length ? values[0] : "";
  }

  // One save at a time per question: a change made while a save is on its way is sent when
  // that save has answered, with the version it returned, so quick changes never conflict
  // with each other and "Saved" means the last change is saved. What changed is kept per
  // question (the answer, and in the interview its note, Verified tick and "show the note"
  // tick), so each save sends only that: saving a note never re-confirms a copied answer.
  function save(el, baseVersion, field) {
    el.pending = el.pending || {};
    el.pending[field || "answer"] = true;
    el.dataset.unsaved = "1";
    if (el.dataset.saving === "1") { el.dataset.again = "1"; setStatus(el, "Saving…", "pending"); return; }
    send(el, baseVersion);
  }

  function finished(el) {
    el.dataset.saving = "0";
    el.dataset.retrying = "0";
    if (el.dataset.again === "1") { el.dataset.again = "0"; send(el); return true; }
    return false;
  }

  function extra(el, prefix) {
    return el.querySelector("[name='" + prefix + el.dataset.field + "']");
  }

  function send(el, baseVersion) {
    const fields = el.pending || { answer: true };
    const data = { question: el.dataset.question };
    if (fields.answer) {
      const answer = readAnswer(el);
      if (answer === undefined) {
        setStatus(el, "Tick either the options that apply or the last option, not both.", "error");
        return;
      }
      data.answer = answer;
      const figure = el.querySelector("input.input-number");
      el.sentText = figure ? figure.value : null;
    }
    if (fields.note) data.note = extra(el, "n_").value.trim();
    if (fields.verified) data.verified = extra(el, "c_").checked;
    if (fields.note_shared) data.note_shared = extra(el, "s_").checked;
    el.pending = {};
    el.sending = fields;
    const version = versionInput(el);
    const base = baseVersion === undefined ? parseInt(version.value || "0", 10) : baseVersion;
    setStatus(el, "Saving…", "pending");
    el.dataset.saving = "1";
    // One key per save: if the answer to a request is lost (a dropped connection, a restarted
    // server), the same request is sent again and the server applies it at most once.
    data.base_version = base;
    data.client_key = clientKey();
    attempt(el, version, JSON.stringify(data), 0);
  }

  // What a save that did not go through was sending is still to save.
  function unsent(el) {
    el.pending = Object.assign({}, el.sending || {}, el.pending || {});
  }

  // A save the server did not acknowledge (no connection, or the service down for a while) is
  // sent again, sooner at first, then every 30 seconds (or when the server's Retry-After says),
  // for as long as the page is open; and it is kept in this browser meanwhile (keepUnsaved),
  // so a reload or a closed tab does not lose it either.
  const RETRY_DELAYS = [500, 1000, 2000, 4000, 8000, 15000];
  const RETRY_MAX = 30000;
  const OUTAGE = "Not saved yet: the service cannot be reached. Your answer is kept in this browser and sent as soon as it is back.";
  let waitingRetries = [];

  function attempt(el, version, body, tries) {
    function retryLater(retryAfter) {
      el.dataset.retrying = "1";  // a Save pressed meanwhile does not wait for it
      setStatus(el, tries < 2 ? "Not saved yet: trying again…" : OUTAGE, "error");
      keepUnsaved();
      const delay = retryAfter ? Math.min(retryAfter * 1000, 60000)
        : (tries < RETRY_DELAYS.length ? RETRY_DELAYS[tries] : RETRY_MAX);
      const again = function () {
        clearTimeout(timer);
        waitingRetries = waitingRetries.filter(function (f) { return f !== again; });
        attempt(el, version, body, tries + 1);
      };
      const timer = setTimeout(again, delay);
      waitingRetries.push(again);
    }
    fetch(form.dataset.autosave, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: body
    }).then(function (response) {
      const retryAfter = parseInt(response.headers.get("Retry-After") || "", 10) || 0;
      return response.json().then(function (data) { return { status: response.status, body: data, retryAfter: retryAfter }; },
                                  function () { return { status: response.status, body: {}, retryAfter: retryAfter }; });
    }).then(function (reply) {
      if (reply.status === 200) {
        version.value = reply.body.version;
        if (reply.body.progress) showProgress(reply.body.progress);
        if (reply.body.checks) showChecks(reply.body.checks);
        const readings = el.querySelector("[data-readings]");
        const figure = el.querySelector("input.input-number");
        if (readings && reply.body.box !== undefined) {
          readings.remove();  // the reading chosen is saved: the box now shows it plainly
          figure.value = reply.body.box;
        } else if (figure && reply.body.box !== undefined && figure.value === el.sentText) {
          // The box shows the figure as saved, without a second currency sign ("£600": 600).
          figure.value = reply.body.box;
        }
        // A copied answer saved (changed, or ticked "Still true") is re-confirmed.
        const copied = el.sending.answer && el.querySelector("[data-reconfirm]");
        if (copied) copied.remove();
        el.sending = {};
        if (!finished(el)) {
          if (!Object.keys(el.pending || {}).length) el.dataset.unsaved = "0";
          setStatus(el, reply.body.saved_as ? "Saved as " + reply.body.saved_as : "Saved", "ok");
        }
        keepUnsaved();
      } else if (reply.status === 422 && reply.body.readings) {
        el.dataset.saving = "0";
        el.dataset.again = "0";
        setStatus(el, reply.body.message, "error");
        showReadings(el, reply.body);
      } else if (reply.status === 409) {
        el.dataset.saving = "0";
        el.dataset.again = "0";
        unsent(el);
        conflict(el, reply.body);
      } else if (reply.status >= 500) {
        retryLater(reply.retryAfter);
      } else {
        unsent(el);
        if (!finished(el)) setStatus(el, reply.body.message || "Not saved. Press Save at the bottom of the page.", "error");
      }
    }).catch(function () {
      retryLater(0);
    });
  }

  // Back online: the saves waiting for their next try go now.
  window.addEventListener("online", function () {
    waitingRetries.slice().forEach(function (again) { again(); });
  });

  // ---- kept in this browser until the server has them ----------------------------------
  // What each question with an unsaved change holds, and the version it was changed from, in
  // localStorage under a key of this assessment's page (a hash of the save address and the
  // private link's field, so the key itself gives nothing away). Removed once saved. Where the
  // browser has no storage or no hashing (a page served over plain HTTP), saves are still
  // retried while the page is open.
  let keptKey = null;
  const resume = form.querySelector("input[name='resume']");
  if (window.localStorage && window.crypto && crypto.subtle && window.TextEncoder) {
    crypto.subtle.digest("SHA-256", new TextEncoder().encode(
      form.dataset.autosave + "|" + (resume ? resume.value : ""))).then(function (digest) {
      keptKey = "it-health:unsent:" + Array.from(new Uint8Array(digest)).map(function (b) {
        return b.toString(16).padStart(2, "0");
      }).join("");
      restoreKept();
    }).catch(function () { keptKey = null; });
  }

  // Only what was changed: a kept note must not re-send (and so re-confirm) a copied answer.
  function stateOf(el) {
    const state = { base: parseInt(versionInput(el).value || "0", 10) };
    const changed = Object.assign({}, el.sending || {}, el.pending || {});
    const answer = changed.answer ? readAnswer(el) : undefined;
    if (answer !== undefined) state.answer = answer;
    const note = extra(el, "n_");
    if (note && (changed.note || changed.verified || changed.note_shared)) {
      state.note = note.value.trim();
      state.verified = extra(el, "c_").checked;
      state.note_shared = extra(el, "s_").checked;
    }
    return state;
  }

  function keepUnsaved() {
    if (!keptKey) return;
    const kept = {};
    questions.forEach(function (el) {
      if (el.dataset.unsaved === "1") kept[el.dataset.question] = stateOf(el);
    });
    try {
      if (Object.keys(kept).length) localStorage.setItem(keptKey, JSON.stringify(kept));
      else localStorage.removeItem(keptKey);
    } catch (e) { /* storage full or refused: the retries still run while the page is open */ }
  }

  // A page opened again with answers kept from before: they are put back in their questions
  // and sent, from the version they were changed from (so a change made meanwhile in another
  // window is shown as a conflict, not overwritten).
  function restoreKept() {
    let kept = null;
    try { kept = JSON.parse(localStorage.getItem(keptKey) || "null"); } catch (e) { kept = null; }
    if (!kept) return;
    questions.forEach(function (el) {
      const state = kept[el.dataset.question];
      if (!state) return;
      const fields = {};
      if ("answer" in state) { showAnswer(el, state.answer); fields.answer = true; }
      if ("note" in state && extra(el, "n_")) {
        extra(el, "n_").value = state.note;
        extra(el, "c_").checked = state.verified;
        extra(el, "s_").checked = state.note_shared;
        fields.note = fields.verified = fields.note_shared = true;
      }
      if (!Object.keys(fields).length) return;
      el.pending = fields;
      el.dataset.unsaved = "1";
      send(el, state.base);
    });
    applyConditions();
  }

  window.addEventListener("pagehide", keepUnsaved);
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") keepUnsaved();
  });

  // A figure that reads two ways ("9.500"): the two readings to choose from, as the page
  // shows them without JavaScript; choosing one saves it.
  function showReadings(el, body) {
    const name = el.dataset.field;
    const old = el.querySelector("[data-readings]");
    if (old) old.remove();
    const set = document.createElement("fieldset");
    set.className = "readings";
    set.dataset.readings = "";
    const legend = document.createElement("legend");
    legend.textContent = "Which did you mean?";
    set.appendChild(legend);
    const asked = document.createElement("input");
    asked.type = "hidden";
    asked.name = name + "__asked";
    asked.value = body.asked;
    set.appendChild(asked);
    body.readings.forEach(function (reading, i) {
      const choice = document.createElement("div");
      choice.className = "choice";
      const input = document.createElement("input");
      input.type = "radio";
      input.name = name + "__meant";
      input.id = name + "__meant-" + i;
      input.value = reading.value;
      const label = document.createElement("label");
      label.htmlFor = input.id;
      label.textContent = reading.label;
      choice.appendChild(input);
      choice.appendChild(label);
      set.appendChild(choice);
    });
    el.querySelector("[data-status]").after(set);  // after what the message says
  }

  // Figures that contradict each other, as the server found them after the last save.
  function showChecks(checks) {
    const box = document.querySelector("[data-checks]");
    if (!box) return;
    const shown = Array.from(box.querySelectorAll("input[name=checked]")).map(function (i) { return i.value; });
    const now = checks.map(function (c) { return c.key; });
    if (shown.join() === now.join()) return;  // unchanged: nothing to announce again
    box.textContent = "";
    checks.forEach(function (c) {
      const notice = document.createElement("div");
      notice.className = "notice notice-warning";
      const text = document.createElement("p");
      text.textContent = c.message;
      const key = document.createElement("input");
      key.type = "hidden";
      key.name = "checked";
      key.value = c.key;
      notice.appendChild(text);
      notice.appendChild(key);
      box.appendChild(notice);
    });
  }

  // Money figures show the sign of the currency chosen on the same page as it changes.
  function showCurrency() {
    const source = byId[form.dataset.currencyQuestion];
    if (!source) return;
    const symbols = JSON.parse(form.dataset.currencies || "{}");
    const chosen = source.querySelector("input:checked");
    const sign = chosen ? (symbols[chosen.value] || "") : "";
    form.querySelectorAll("[data-currency]").forEach(function (span) {
      span.textContent = sign;
      span.hidden = !sign;
    });
  }

  function showProgress(p) {
    const bar = document.querySelector(".progress progress");
    const label = document.querySelector(".progress-label");
    if (!bar || !label) return;
    bar.value = p.percent;
    bar.textContent = p.percent + "%";
    label.children[0].textContent = p.done + " of " + p.total + " questions answered" +
      (p.waiting ? ", " + p.waiting + " copied answer" + (p.waiting === 1 ? "" : "s") + " to re-confirm" : "") +
      (p.time_left ? ", " + p.time_left + " left" : "");
    label.children[1].textContent = p.percent + "%";
  }

  function conflict(el, body) {
    const status = el.querySelector("[data-status]");
    status.className = "save-status save-error";
    status.textContent = "This answer was changed in another window to “" + body.label + "”. Yours is not saved.";
    const keepTheirs = document.createElement("button");
    keepTheirs.type = "button";
    keepTheirs.className = "button-link";
    keepTheirs.textContent = "Keep “" + body.label + "”";
    keepTheirs.addEventListener("click", function () {
      versionInput(el).value = body.version;
      showAnswer(el, body.answer);
      if (body.note !== undefined && extra(el, "n_")) {
        extra(el, "n_").value = body.note;
        extra(el, "c_").checked = body.verified;
        extra(el, "s_").checked = body.note_shared;
      }
      applyConditions();
      el.pending = {};
      el.dataset.unsaved = "0";
      setStatus(el, "Kept the other answer.", "ok");
    });
    const useMine = document.createElement("button");
    useMine.type = "button";
    useMine.className = "button-link";
    useMine.textContent = "Use my answer";
    useMine.addEventListener("click", function () { save(el, body.version); });
    const choices = document.createElement("span");
    choices.className = "conflict-actions";
    choices.appendChild(keepTheirs);
    choices.appendChild(useMine);
    status.appendChild(choices);
  }

  // In the interview, a question's note, Verified tick and "show the note to the client" tick
  // save like its answer; a note saves a moment after typing stops, and when the box is left.
  const EXTRAS = { n_: "note", c_: "verified", s_: "note_shared" };
  function extraField(target) {
    const prefix = (target.name || "").slice(0, 2);
    return EXTRAS[prefix] && target.name === prefix + target.closest("[data-question]").dataset.field ? EXTRAS[prefix] : null;
  }

  questions.forEach(function (el) {
    el.addEventListener("change", function (event) {
      const field = extraField(event.target);
      if (field) {
        clearTimeout(el.noteTimer);
        el.noteTimer = null;
        save(el, undefined, field);
        return;
      }
      applyConditions();
      if (el.dataset.question === form.dataset.currencyQuestion) showCurrency();
      save(el);
    });
    el.addEventListener("input", function (event) {
      if (extraField(event.target) !== "note") return;
      el.dataset.unsaved = "1";
      clearTimeout(el.noteTimer);
      el.noteTimer = setTimeout(function () { el.noteTimer = null; save(el, undefined, "note"); }, 800);
    });
  });

  // Leaving the page with something not saved yet asks first (the page's own Save buttons
  // send everything, so they do not).
  let submitting = false;
  // Save pressed while a change is still being saved (or a note waits for typing to stop):
  // the page is sent once those saves have answered, with the versions they returned, so the
  // page's own save never collides with them.
  form.addEventListener("submit", function (event) {
    const waits = questions.filter(function (el) { return el.noteTimer; });
    waits.forEach(function (el) {
      clearTimeout(el.noteTimer);
      el.noteTimer = null;
      save(el, undefined, "note");
    });
    const busy = function () {
      return questions.some(function (el) { return el.dataset.saving === "1" && el.dataset.retrying !== "1"; });
    };
    if (!busy()) { submitting = true; return; }
    event.preventDefault();
    const submitter = event.submitter;
    const until = Date.now() + 5000;
    (function check() {
      if (busy() && Date.now() < until) { setTimeout(check, 50); return; }
      submitting = true;
      if (submitter) form.requestSubmit(submitter); else form.requestSubmit();
    })();
  });
  window.addEventListener("beforeunload", function (event) {
    if (submitting) return;
    if (!questions.some(function (el) { return el.dataset.unsaved === "1"; })) return;
    event.preventDefault();
    event.returnValue = "";
  });

  applyConditions();
  // After load: the browser's own jump to the #fragment would otherwise take focus away again.
  if (document.readyState === "complete") setTimeout(placeFocus, 0);
  else window.addEventListener("load", function () { setTimeout(placeFocus, 0); });
})();
