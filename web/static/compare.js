/* The comparison page: one bpmn-js navigated viewer per diagram (as-is and to-be), each
   fetching its definition's source from this app. */
(function () {
  "use strict";
  var boxes = document.querySelectorAll(".compare-diagram[data-source-url]");
  if (!boxes.length) { return; }

  function fail(el, message) {
    el.classList.add("unavailable");
    el.textContent = message;
  }

  Array.prototype.forEach.call(boxes, function (el) {
    if (typeof window.BpmnJS !== "function") {
      fail(el, "The diagram viewer (bpmn-js) is not installed on the server: run `make install`.");
      return;
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
        el.setAttribute("data-rendered", "true");
      })
      .catch(function (err) { fail(el, "The diagram could not be shown: " + err.message); });
  });
})();
