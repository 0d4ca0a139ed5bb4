/* The BPMN diagram (bpmn-js navigated viewer, served by this app) with a marker per element
   state: cf-completed, cf-active, cf-overdue, cf-failed, cf-cancelled. */
(function () {
  "use strict";
  var el = document.getElementById("diagram");
  if (!el) { return; }
  var applied = {};
  var viewer = null;

  function apply(states) {
    if (!viewer) { return; }
    var canvas = viewer.get("canvas"), registry = viewer.get("elementRegistry");
    Object.keys(applied).forEach(function (id) {
      if (registry.get(id)) { canvas.removeMarker(id, "cf-" + applied[id]); }
    });
    applied = {};
    Object.keys(states || {}).forEach(function (id) {
      if (registry.get(id)) { canvas.addMarker(id, "cf-" + states[id]); applied[id] = states[id]; }
    });
    el.setAttribute("data-states", JSON.stringify(applied));
  }

  function fail(message) {
    el.classList.add("unavailable");
    el.textContent = message;
  }

  window.contiflowDiagram = { apply: apply };
  if (typeof window.BpmnJS !== "function") {
    fail("The diagram viewer (bpmn-js) is not installed on the server: run `make install`.");
    return;
  }
  viewer = new window.BpmnJS({ container: el });
  fetch(el.getAttribute("data-source-url"), { credentials: "same-origin" })
    .then(function (response) {
      if (!response.ok) { throw new Error("HTTP " + response.status); }
      return response.text();
    })
    .then(function (xml) { return viewer.importXML(xml); })
    .then(function () {
      viewer.get("canvas").zoom("fit-viewport", "auto");
      var data = document.getElementById("element-states");
      apply(data ? JSON.parse(data.textContent || "{}") : {});
      el.setAttribute("data-rendered", "true");
    })
    .catch(function (err) { fail("The diagram could not be shown: " + err.message); });
})();
