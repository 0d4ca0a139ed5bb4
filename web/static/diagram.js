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

  window.contiflowDiagram = { apply: apply };
  viewer = window.contiflowViewer.show(el, function () {
    var data = document.getElementById("element-states");
    apply(data ? JSON.parse(data.textContent || "{}") : {});
  });
})();
