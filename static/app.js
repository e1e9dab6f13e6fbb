// opsreview's page script. It is loaded from a file because the CSP forbids inline script;
// htmx is configured by the htmx-config meta tag in the layout, not from here.
//
// Relative times: the server renders "12 min ago" into every <time data-ago datetime="…">;
// this script keeps those texts current while a page stays open (the TV stays open for days).
// It measures from the server's clock (<body data-now>), so a wall screen whose own clock is
// wrong still shows the right age.
(function () {
  "use strict";

  var MINUTE = 60e3, HOUR = 60 * MINUTE, DAY = 24 * HOUR;

  // skew is the server's clock minus this browser's, in milliseconds.
  var skew = 0;
  var serverNow = Date.parse(document.body.getAttribute("data-now") || "");
  if (!isNaN(serverNow)) {
    skew = serverNow - Date.now();
  }

  // ago must say exactly what the Go template func ago says, or texts jump on the first tick.
  function ago(now, t) {
    var d = now - t;
    var future = d < 0;
    if (future) {
      d = -d;
    }
    var s;
    if (d < MINUTE) {
      return "just now";
    } else if (d < HOUR) {
      s = Math.floor(d / MINUTE) + " min";
    } else if (d < 48 * HOUR) {
      s = Math.floor(d / HOUR) + " h";
    } else {
      s = Math.floor(d / DAY) + " d";
    }
    return future ? "in " + s : s + " ago";
  }

  function refresh(root) {
    var now = Date.now() + skew;
    var els = (root || document).querySelectorAll("time[data-ago]");
    for (var i = 0; i < els.length; i++) {
      var t = Date.parse(els[i].getAttribute("datetime"));
      if (!isNaN(t)) {
        els[i].textContent = ago(now, t);
      }
    }
  }

  refresh(document);
  setInterval(function () { refresh(document); }, 30e3);
  // Every htmx request carries the session's CSRF token; the server refuses a mutating request
  // without it. The token is in <meta name="csrf-token">, filled by the server per page.
  var csrf = document.querySelector('meta[name="csrf-token"]');
  document.addEventListener("htmx:configRequest", function (e) {
    if (csrf && csrf.content) {
      e.detail.headers["X-CSRF-Token"] = csrf.content;
    }
  });

  // Content that htmx swaps in was rendered with the server's time of that request: bring it in line.
  document.addEventListener("htmx:load", function (e) { refresh(e.target); });
})();
