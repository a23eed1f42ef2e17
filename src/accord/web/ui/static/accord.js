// Progressive enhancement only: every page works without this file.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  // Sign-in: show the fields of the chosen method only.
  var radios = document.querySelectorAll("input[name=method]");
  function showMethod() {
    var chosen = document.querySelector("input[name=method]:checked");
    document.querySelectorAll("[data-method]").forEach(function (el) {
      el.hidden = chosen !== null && el.getAttribute("data-method") !== chosen.value;
    });
  }
  radios.forEach(function (r) { r.addEventListener("change", showMethod); });
  if (radios.length) { showMethod(); }
});
