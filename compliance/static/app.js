// SoukCheck: small progressive enhancements. Every page works without this file.
(function () {
  "use strict";
  // A fresh client-made id for each new inspection (the server already put one in for no-JS).
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("input[data-client-uuid]").forEach(function (input) {
      if (window.crypto && crypto.randomUUID) input.value = crypto.randomUUID();
    });
  });
})();
