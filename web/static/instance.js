/* Incident page: refresh the panels and the diagram's markers while the incident runs. */
(function () {
  "use strict";
  var box = document.getElementById("instance-live");
  if (!box) { return; }
  var fingerprint = box.getAttribute("data-fingerprint");
  var states = null;
  window.contiflow.poll(box.getAttribute("data-live-url"), function (data) {
    if (data.fingerprint !== fingerprint) {
      box.innerHTML = data.html;     // rendered and escaped by the server's templates
      fingerprint = data.fingerprint;
      box.setAttribute("data-fingerprint", fingerprint);
    }
    var next = JSON.stringify(data.states);
    if (next !== states && window.contiflowDiagram) {
      window.contiflowDiagram.apply(data.states);
      states = next;
    }
    window.contiflow.updateCountdowns();
  });
})();
