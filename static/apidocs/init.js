// /api/docs: render the OpenAPI document with the vendored Redoc (no network beyond our origin).
(function () {
  "use strict";
  var el = document.getElementById("redoc");
  if (!el || !window.Redoc) { return; }
  window.Redoc.init(el.getAttribute("data-spec-url"), {
    hideDownloadButton: false,
    expandResponses: "200,201",
    pathInMiddlePanel: true,
    theme: { colors: { primary: { main: "#1f5fbf" } }, typography: { fontFamily: "system-ui, sans-serif", headings: { fontFamily: "system-ui, sans-serif" } } }
  }, el);
})();
