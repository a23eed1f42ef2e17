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

// The indicator form: the pattern is checked as you type (the server's STIX pattern validator).
document.addEventListener("DOMContentLoaded", function () {
  var pattern = document.querySelector("textarea[data-check]");
  if (!pattern) { return; }
  var out = document.getElementById("pattern-check");
  var timer = null, asked = 0;
  function check() {
    var mine = ++asked;
    fetch(pattern.getAttribute("data-check") + "?pattern=" + encodeURIComponent(pattern.value),
          {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { return r.json(); })
      .then(function (answer) {
        if (mine !== asked) { return; }  // a later check is on its way
        out.textContent = answer.valid ? "The pattern is valid STIX 2.1." : answer.errors.join("; ");
        out.className = answer.valid ? "ok" : "error";
        if (answer.valid) { pattern.removeAttribute("aria-invalid"); } else { pattern.setAttribute("aria-invalid", "true"); }
      })
      .catch(function () { out.textContent = ""; });
  }
  pattern.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(check, 300); });
});

// Uploads: the file goes in pieces below the node's body limit, then the page follows the storing.
document.addEventListener("DOMContentLoaded", function () {
  var form = document.getElementById("upload");
  if (!form || !window.fetch || !window.Blob) { return; }
  var csrf = form.querySelector("input[name=csrf]").value;
  var piece = parseInt(form.getAttribute("data-piece"), 10);
  var box = document.getElementById("upload-progress-box");
  var bar = document.getElementById("upload-progress");
  var status = document.getElementById("upload-status");
  function fail(message) { status.textContent = message; status.className = "error"; }
  form.addEventListener("submit", function (event) {
    var file = document.getElementById("file").files[0];
    if (!file) { return; }  // the server answers with a message next to the field
    event.preventDefault();
    var data = new FormData(form);
    data.delete("file");
    data.append("name", file.name);
    data.append("size", String(file.size));
    box.hidden = false;
    bar.max = file.size; bar.value = 0;
    status.textContent = "Sending " + file.name + "...";
    fetch("/upload/start", {method: "POST", body: data, credentials: "same-origin"})
      .then(function (r) { return r.json().then(function (j) { return {ok: r.ok, body: j}; }); })
      .then(function (started) {
        if (!started.ok) { throw new Error(started.body.error || "refused"); }
        var job = started.body, offset = 0;
        function next() {
          if (offset >= file.size) {
            return fetch("/upload/" + job.job + "/finish", {method: "POST", credentials: "same-origin",
                                                            headers: {"X-CSRF-Token": csrf}})
              .then(function (r) { if (!r.ok) { throw new Error("the upload was refused"); } window.location = job.page; });
          }
          var chunk = file.slice(offset, offset + piece);
          return fetch("/upload/" + job.job + "/piece", {method: "POST", body: chunk, credentials: "same-origin",
                         headers: {"X-CSRF-Token": csrf, "Content-Type": "application/octet-stream"}})
            .then(function (r) {
              if (!r.ok) { throw new Error("a piece of the file was refused"); }
              offset += chunk.size; bar.value = offset;
              status.textContent = "Sent " + offset + " of " + file.size + " bytes.";
              return next();
            });
        }
        return next();
      })
      .catch(function (e) { fail("Not uploaded: " + e.message); });
  });
});

// An upload's page: follows the job until it ends.
document.addEventListener("DOMContentLoaded", function () {
  var job = document.getElementById("job");
  if (!job || job.getAttribute("data-running") !== "true") { return; }
  var bar = document.getElementById("job-progress"), status = document.getElementById("job-status");
  function poll() {
    fetch(job.getAttribute("data-status"), {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { return r.json(); })
      .then(function (s) {
        if (s.total) { bar.max = s.total; bar.value = s.done; }
        if (s.state === "storing") {
          status.textContent = "Storing: " + s.done + " of " + (s.total || "?") + " objects.";
          setTimeout(poll, 400);
        } else if (s.state === "receiving") {
          setTimeout(poll, 400);
        } else {
          window.location.reload();  // the finished page lists what was refused
        }
      })
      .catch(function () { setTimeout(poll, 2000); });
  }
  poll();
});
