// Live updates of the decision list: fetch the server-rendered results every few seconds.
// The HTML comes from the console itself, escaped on the server; no record data is
// interpreted here.
// A form posts once: a second Enter or click while the first post is on its way would
// save a label twice (a second answer to an escalation the server refuses, with a 409).
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || form.method !== "post") {
      return;
    }
    if (form.dataset.sent === "1") {
      event.preventDefault();
      return;
    }
    form.dataset.sent = "1";
    form.setAttribute("aria-busy", "true");
  });
  // A note past its limit is refused whole, as the server would: a maxlength field cut a
  // pasted note short without a word. Characters are counted as the server counts them.
  document.addEventListener("input", function (event) {
    var field = event.target;
    if (!(field instanceof HTMLInputElement) || !field.dataset.maxLength) {
      return;
    }
    var limit = Number(field.dataset.maxLength);
    var length = Array.from(field.value).length;
    field.setCustomValidity(length <= limit ? "" :
      "The note is " + length.toLocaleString("en-US") + " characters long; the limit is " +
      limit.toLocaleString("en-US") + ".");
  });
  // After an action the page says what happened: keyboard focus starts there (and a
  // screen reader reads it), not at the top of the page above the header's links.
  var said = document.querySelector("[data-focus]");
  if (said) {
    said.focus();
  }
  // Back to a page the browser kept (the back/forward cache): its forms can be sent again.
  window.addEventListener("pageshow", function () {
    Array.prototype.forEach.call(document.querySelectorAll("form[data-sent]"), function (form) {
      delete form.dataset.sent;
      form.removeAttribute("aria-busy");
    });
  });
})();

// Back to the list from a decision: the list this tab last showed, with its filters and
// page, not the whole log (a reviewer working through a filtered queue keeps the queue).
(function () {
  "use strict";
  var KEY = "agent-guard.console.list";
  try {
    if (document.getElementById("filters")) {
      window.sessionStorage.setItem(KEY, window.location.search);
      return;
    }
    var link = document.querySelector("a[data-list-link]");
    var search = window.sessionStorage.getItem(KEY);
    if (link && search && search.charAt(0) === "?") {
      link.setAttribute("href", link.getAttribute("href").split("?")[0] + search);
    }
  } catch (err) {
    // Storage turned off: the link stays the whole list.
  }
})();

(function () {
  "use strict";
  var INTERVAL_MS = 5000;
  var results = document.getElementById("results");
  var toggle = document.getElementById("live");
  var status = document.getElementById("live-status");
  var news = document.getElementById("live-news");
  if (!results || !toggle || !results.dataset.liveUrl) {
    return;
  }
  var url = results.dataset.liveUrl;
  var busy = false;
  var failing = false; // the last poll failed: said once, and once more when it recovers

  function stamp(text) {
    if (status) {
      status.textContent = text;
    }
  }

  // The time now as the page gives every time: UTC ("14:03:05 UTC"), not the browser's zone.
  function now() {
    return new Date().toISOString().slice(11, 19) + " UTC";
  }

  // Said by screen readers (a polite live region): new decisions only, not every poll.
  function announce(text) {
    if (news) {
      news.textContent = text + " (" + now() + ")";
    }
  }

  // The decisions' links of the list, newest first.
  function decisionLinks() {
    var links = results.querySelectorAll("table.decisions tbody td:first-child a[href]");
    return Array.prototype.map.call(links, function (a) { return a.getAttribute("href"); });
  }

  // The rows new at the top of the list: those above the first row it showed before (a
  // row that only entered lower down, as when another drops out of a filter, is not new).
  function arrivals(before, after) {
    var seen = new Set(before);
    var n = 0;
    while (n < after.length && !seen.has(after[n])) {
      n += 1;
    }
    if (n === 0) {
      return "";
    }
    var count = before.length > 0 && n === after.length ? "at least " + n : String(n);
    return count + " new decision" + (n === 1 ? "" : "s");
  }

  // Text the reviewer selected in the list (an id to copy): an update would drop it.
  function selecting() {
    var selection = window.getSelection();
    return selection !== null && !selection.isCollapsed && selection.rangeCount > 0 &&
      results.contains(selection.getRangeAt(0).commonAncestorContainer);
  }

  // Replace the results and return what arrived ("" for nothing). Keyboard focus on a link
  // in them moves to the same link in the new ones (else to the results), not to the top.
  function show(html) {
    var focused = document.activeElement;
    var inside = focused !== null && focused !== results && results.contains(focused);
    var href = inside ? focused.getAttribute("href") : null;
    var before = decisionLinks();
    results.innerHTML = html;
    var arrived = arrivals(before, decisionLinks());
    if (inside) {
      var again = href === null ? null : results.querySelector('a[href="' + CSS.escape(href) + '"]');
      (again || results).focus({ preventScroll: true });
    }
    return arrived;
  }

  function refresh() {
    if (busy || !toggle.checked || document.visibilityState !== "visible") {
      return;
    }
    busy = true;
    fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (response) {
        if (response.status === 401 || response.status === 403) {
          window.location.reload();
          return null;
        }
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.text();
      })
      .then(function (html) {
        if (html === null) {
          return;
        }
        if (selecting()) {
          stamp("update skipped: text is selected in the list");
          return;
        }
        var arrived = show(html);
        var said = failing ? "live updates resumed" + (arrived ? "; " + arrived : "") : arrived;
        failing = false;
        if (said) {
          announce(said);
        }
        stamp("updated " + now());
      })
      .catch(function (err) {
        if (!failing) { // said once, not at every poll while it keeps failing
          failing = true;
          announce("live updates failed; the list may be out of date. Retrying");
        }
        stamp("update failed (" + err.message + "); retrying");
      })
      .then(function () {
        busy = false;
      });
  }

  function describe() {
    stamp(toggle.checked ? "live: every " + INTERVAL_MS / 1000 + " s" : "paused");
  }

  // Back to this page, the browser puts an unchecked box back once the page has loaded.
  describe();
  window.addEventListener("pageshow", describe);
  window.setInterval(refresh, INTERVAL_MS);
  toggle.addEventListener("change", function () {
    describe();
    if (toggle.checked) {
      refresh();
    }
  });
})();
