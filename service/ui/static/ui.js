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
        if (html !== null) {
          results.innerHTML = html;
          stamp("updated " + new Date().toLocaleTimeString());
        }
      })
      .catch(function (err) {
        stamp("update failed (" + err.message + "); retrying");
      })
      .then(function () {
        busy = false;
      });
  }

  stamp("live: every " + INTERVAL_MS / 1000 + " s");
  window.setInterval(refresh, INTERVAL_MS);
  toggle.addEventListener("change", function () {
    stamp(toggle.checked ? "live: every " + INTERVAL_MS / 1000 + " s" : "paused");
    if (toggle.checked) {
      refresh();
    }
  });
})();
