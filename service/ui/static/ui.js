// Live updates of the decision list: fetch the server-rendered results every few seconds.
// The HTML comes from the console itself, escaped on the server; no record data is
// interpreted here.
(function () {
  "use strict";
  var INTERVAL_MS = 5000;
  var results = document.getElementById("results");
  var toggle = document.getElementById("live");
  var status = document.getElementById("live-status");
  if (!results || !toggle || !results.dataset.liveUrl) {
    return;
  }
  var url = results.dataset.liveUrl;
  var busy = false;

  function stamp(text) {
    if (status) {
      status.textContent = text;
    }
  }

  // Text the reviewer selected in the list (an id to copy): an update would drop it.
  function selecting() {
    var selection = window.getSelection();
    return selection !== null && !selection.isCollapsed && selection.rangeCount > 0 &&
      results.contains(selection.getRangeAt(0).commonAncestorContainer);
  }

  // Replace the results; keyboard focus on a link in them moves to the same link in the
  // new ones (else to the results), not to the top of the page.
  function show(html) {
    var focused = document.activeElement;
    var inside = focused !== null && focused !== results && results.contains(focused);
    var href = inside ? focused.getAttribute("href") : null;
    results.innerHTML = html;
    if (inside) {
      var again = href === null ? null : results.querySelector('a[href="' + CSS.escape(href) + '"]');
      (again || results).focus({ preventScroll: true });
    }
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
        show(html);
        stamp("updated " + new Date().toLocaleTimeString());
      })
      .catch(function (err) {
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
