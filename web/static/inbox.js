/* Inbox: refresh the task lists from /inbox/live without a reload. */
(function () {
  "use strict";
  var box = document.getElementById("inbox");
  if (!box) { return; }
  var fingerprint = box.getAttribute("data-fingerprint");
  window.contiflow.poll(box.getAttribute("data-live-url"), function (data) {
    if (data.fingerprint !== fingerprint) {
      box.innerHTML = data.html;   // rendered and escaped by the server's templates
      fingerprint = data.fingerprint;
      box.setAttribute("data-fingerprint", fingerprint);
    }
    window.contiflow.updateCountdowns();
  });
})();
