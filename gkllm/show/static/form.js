(function () {
  "use strict";
  // Send the form with fetch so that a bearer token can go in the Authorization header; show the page that
  // comes back (a blob: URL, so Back returns here), or the service's error message.
  var form = document.getElementById("upload");
  var out = document.getElementById("result");
  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var body = new FormData();
    var file = form.elements.file.files[0];
    if (!file) { out.textContent = "Choose a report file first."; return; }
    body.append("file", file, file.name);
    body.append("mode", form.elements.mode.value);
    if (form.elements.given && form.elements.given.value.trim()) { body.append("given", form.elements.given.value); }
    var headers = {};
    var token = form.elements.token ? form.elements.token.value.trim() : "";
    if (token) { headers.Authorization = "Bearer " + token; }
    out.textContent = "Reading " + file.name + " …";
    form.querySelector("button").disabled = true;
    fetch(location.pathname, { method: "POST", body: body, headers: headers, credentials: "omit" })
      .then(function (resp) {
        var type = resp.headers.get("content-type") || "";
        if (resp.ok && type.indexOf("text/html") === 0) {
          return resp.blob().then(function (blob) { location.assign(URL.createObjectURL(blob)); });
        }
        return resp.text().then(function (text) {
          var msg = text;
          try { var e = JSON.parse(text).error; msg = e.code + ": " + e.message; } catch (ignore) { }
          out.textContent = "Error " + resp.status + " — " + msg;
        });
      })
      .catch(function (err) { out.textContent = "The request failed: " + err; })
      .then(function () { form.querySelector("button").disabled = false; });
  });
}());
