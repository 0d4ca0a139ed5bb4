/* contiflow: live countdowns, polling and small helpers shared by every page (no framework). */
(function () {
  "use strict";
  var skew = 0; // server clock minus browser clock, in ms

  function setServerNow(iso) {
    var t = Date.parse(iso);
    if (!isNaN(t)) { skew = t - Date.now(); }
  }

  function serverNow() { return Date.now() + skew; }

  function human(ms) {
    var s = Math.floor(Math.abs(ms) / 1000);
    var d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
    var parts = [];
    if (d) { parts.push(d + "d"); }
    if (h) { parts.push(h + "h"); }
    if (m) { parts.push(m + "m"); }
    if (sec || !parts.length) { parts.push(sec + "s"); }
    return parts.slice(0, 2).join(" ");
  }

  function updateCountdowns() {
    var now = serverNow();
    document.querySelectorAll("time.countdown[datetime]").forEach(function (el) {
      var due = Date.parse(el.getAttribute("datetime"));
      if (isNaN(due)) { return; }
      var left = due - now;
      var overdue = left < 0;
      var text = overdue ? "overdue by " + human(left) : human(left) + " left";
      if (el.textContent !== text) { el.textContent = text; }
      el.classList.toggle("overdue", overdue);
      el.classList.toggle("soon", !overdue && left < 5 * 60 * 1000);
      var row = el.closest("li.task");
      if (row) { row.classList.toggle("overdue", overdue); }
    });
  }

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  /* Poll a JSON endpoint every few seconds (paused while the tab is hidden). */
  function poll(url, onData) {
    var seconds = parseFloat(document.body.getAttribute("data-poll-seconds")) || 5;
    var status = document.getElementById("live-status");
    var stopped = false;
    function tick() {
      if (stopped) { return; }
      if (document.hidden) { setTimeout(tick, seconds * 1000); return; }
      fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (response) {
          if (response.status === 401 || response.redirected) { stopped = true; window.location.reload(); return null; }
          if (!response.ok) { throw new Error("HTTP " + response.status); }
          return response.json();
        })
        .then(function (data) {
          if (!data) { return; }
          if (data.now) { setServerNow(data.now); }
          onData(data);
          if (status) { status.textContent = "Last update " + new Date().toLocaleTimeString() + "."; }
        })
        .catch(function (err) { if (status) { status.textContent = "Update failed (" + err.message + "); retrying."; } })
        .then(function () { if (!stopped) { setTimeout(tick, seconds * 1000); } });
    }
    setTimeout(tick, seconds * 1000);
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.classList && form.classList.contains("confirm") && !window.confirm(form.getAttribute("data-confirm"))) {
      event.preventDefault();
    }
  });

  setServerNow(document.body.getAttribute("data-server-now") || "");
  updateCountdowns();
  setInterval(updateCountdowns, 1000);
  window.contiflow = { setServerNow: setServerNow, updateCountdowns: updateCountdowns, poll: poll, csrfToken: csrfToken };
})();
