// Chamber pages: small enhancements; every page works without this file.
(function () {
  "use strict";
  // Filters sent by htmx leave their empty fields out, so the URL pushed to the address bar
  // (and shared with a colleague) names only the filters that were chosen.
  document.addEventListener("htmx:configRequest", function (event) {
    if (!event.detail.elt.closest("form[data-drop-empty]")) return;
    var parameters = event.detail.parameters;
    Array.from(Object.keys(parameters)).forEach(function (name) {
      if (parameters[name] === "") delete parameters[name];
    });
  });
})();
