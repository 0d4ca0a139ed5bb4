/* The comparison page: one bpmn-js navigated viewer per diagram (as-is and to-be), each
   fetching its definition's source from this app, with the changed activities coloured. */
(function () {
  "use strict";
  var boxes = document.querySelectorAll(".compare-diagram[data-source-url]");
  if (!boxes.length) { return; }

  var data = document.getElementById("compare-markers");
  var markers = data ? JSON.parse(data.textContent || "{}") : {};

  /* colour each activity whose name the comparison lists as removed, merged, parallelised… */
  function mark(viewer, el) {
    var byName = markers[el.getAttribute("data-markers")] || {};
    var canvas = viewer.get("canvas"), marked = [];
    viewer.get("elementRegistry").forEach(function (element) {
      var bo = element.businessObject, name = bo && bo.name ? bo.name.replace(/\s+/g, " ").trim() : "";
      if (element.type !== "label" && name && Object.prototype.hasOwnProperty.call(byName, name)) {
        canvas.addMarker(element.id, "cf-" + byName[name]);
        marked.push(element.id);
      }
    });
    el.setAttribute("data-marked", marked.join(" "));
  }

  Array.prototype.forEach.call(boxes, function (el) {
    window.contiflowViewer.show(el, function (viewer) { mark(viewer, el); });
  });
})();
