(function () {
  "use strict";
  // Sortable columns: each header is a button; a cell's data-sort holds its sort value (numbers compare as numbers).
  var table = document.getElementById("reports");
  var body = table.tBodies[0];
  function value(row, i) {
    var cell = row.cells[i];
    var v = cell ? (cell.getAttribute("data-sort") !== null ? cell.getAttribute("data-sort") : cell.textContent) : "";
    var n = parseFloat(v);
    return isNaN(n) || String(n) !== v.trim() ? v.trim() : n;
  }
  function compare(a, b) {
    if (typeof a === "number" && typeof b === "number") { return a - b; }
    if (typeof a === "number") { return -1; }
    if (typeof b === "number") { return 1; }
    return a.localeCompare(b, "zh-CN");
  }
  Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, i) {
    var btn = th.querySelector("button");
    if (!btn) { return; }
    btn.addEventListener("click", function () {
      var asc = th.getAttribute("aria-sort") !== "ascending";
      Array.prototype.forEach.call(table.tHead.rows[0].cells, function (o) { o.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", asc ? "ascending" : "descending");
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) { var c = compare(value(a, i), value(b, i)); return asc ? c : -c; });
      rows.forEach(function (r) { body.appendChild(r); });
    });
  });
  document.documentElement.setAttribute("data-ready", "1");
}());
