// The wall TV's script (loaded on /tv only; the CSP forbids inline script). htmx polls each panel
// every few seconds and swaps in the server's fragment, which says how old its data is. This
// script does what the server cannot:
//   - rotates the panels, one at a time, every data-rotate-ms;
//   - while the server cannot be reached (htmx:sendError, htmx:responseError), keeps the last
//     content on screen and says how old it is, and clears that as soon as a poll succeeds;
//   - keeps the clock. Everything is set up once: no listener or timer is added per refresh,
//     and htmx replaces panel content rather than appending, so a screen can run for months.
(function () {
  "use strict";

  var MINUTE = 60e3, HOUR = 60 * MINUTE, DAY = 24 * HOUR;
  var tv = document.getElementById("tv");
  if (!tv) {
    return;
  }

  // ageWords must say what the Go function ageWords says.
  function ageWords(d) {
    function plural(n, unit) { return n === 1 ? "1 " + unit : n + " " + unit + "s"; }
    if (d < MINUTE) { return "less than a minute"; }
    if (d < HOUR) { return plural(Math.floor(d / MINUTE), "minute"); }
    if (d < 48 * HOUR) { return plural(Math.floor(d / HOUR), "hour"); }
    return plural(Math.floor(d / DAY), "day");
  }

  // ---- rotation ----
  var rotateMs = parseInt(tv.getAttribute("data-rotate-ms"), 10) || 20e3;
  function rotate() {
    var panels = document.querySelectorAll("#tv .tv-panel");
    if (panels.length < 2) {
      return;
    }
    var next = 0;
    for (var i = 0; i < panels.length; i++) {
      if (panels[i].classList.contains("is-active")) {
        next = (i + 1) % panels.length;
      }
    }
    var name = panels[next].getAttribute("data-panel");
    for (var j = 0; j < panels.length; j++) {
      panels[j].classList.toggle("is-active", j === next);
    }
    var dots = document.querySelectorAll("#tv .tv-dots li");
    for (var k = 0; k < dots.length; k++) {
      dots[k].classList.toggle("is-active", dots[k].getAttribute("data-panel") === name);
    }
  }
  setInterval(rotate, rotateMs);

  // ---- the server's reachability ----
  var lastOK = Date.now(); // the last successful poll: the content is at least this old
  var problem = "";        // why polls fail; "" while they succeed
  function showOffline() {
    var el = document.getElementById("tv-offline");
    if (!el) {
      return;
    }
    if (!problem) {
      el.hidden = true;
      return;
    }
    el.textContent = "data is " + ageWords(Date.now() - lastOK) + " old — " + problem;
    el.hidden = false;
  }
  document.addEventListener("htmx:sendError", function () {
    problem = "opsreview server unreachable";
    showOffline();
  });
  document.addEventListener("htmx:responseError", function (e) {
    var status = e.detail && e.detail.xhr ? e.detail.xhr.status : 0;
    problem = status === 503 ? "opsreview cannot reach its data" : "opsreview answered with an error (" + status + ")";
    showOffline();
  });
  document.addEventListener("htmx:afterRequest", function (e) {
    if (e.detail && e.detail.successful) {
      problem = "";
      lastOK = Date.now();
      showOffline();
    }
  });
  setInterval(showOffline, 5e3);

  // ---- clock, in the team's time zone, from the server's clock ----
  var clock = document.querySelector("#tv .tv-clock");
  if (clock) {
    var skew = Date.parse(clock.getAttribute("datetime")) - Date.now();
    if (isNaN(skew)) {
      skew = 0;
    }
    var fmt;
    try {
      fmt = new Intl.DateTimeFormat("en-GB", { hour: "2-digit", minute: "2-digit", hourCycle: "h23",
        timeZone: tv.getAttribute("data-tz") || "UTC" });
    } catch (err) {
      fmt = new Intl.DateTimeFormat("en-GB", { hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
    }
    var tick = function () { clock.textContent = fmt.format(new Date(Date.now() + skew)); };
    tick();
    setInterval(tick, 10e3);
  }
})();
