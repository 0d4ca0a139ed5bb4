/* Shared by the diagram pages: show the BPMN source at an element's data-source-url in a
   bpmn-js navigated viewer (served by this app), fitted to the box, then call back; a missing
   viewer or a failed load is said in the box itself. */
(function () {
  "use strict";

  function fail(el, message) {
    el.classList.add("unavailable");
    el.textContent = message;
  }

  /* Returns the viewer (null when bpmn-js is not installed); onRendered(viewer) runs once the
     diagram is drawn, and the box is marked data-rendered="true" after it. */
  function show(el, onRendered) {
    if (typeof window.BpmnJS !== "function") {
      fail(el, "The diagram viewer (bpmn-js) is not installed on the server: run `make install`.");
      return null;
    }
    var viewer = new window.BpmnJS({ container: el });
    fetch(el.getAttribute("data-source-url"), { credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.text();
      })
      .then(function (xml) { return viewer.importXML(xml); })
      .then(function () {
        viewer.get("canvas").zoom("fit-viewport", "auto");
        onRendered(viewer);
        el.setAttribute("data-rendered", "true");
      })
      .catch(function (err) { fail(el, "The diagram could not be shown: " + err.message); });
    return viewer;
  }

  window.contiflowViewer = { show: show };
})();
