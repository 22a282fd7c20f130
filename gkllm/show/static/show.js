(function () {
  "use strict";
  // The report's data: built by gkllm, holding text from the report; written into the page with textContent only.
  var data = JSON.parse(document.getElementById("gk-data").textContent);
  var srcPane = document.getElementById("source");
  var tabPane = document.getElementById("tables");
  var tip = document.getElementById("gk-tip");
  var status = document.getElementById("gk-status");
  var reduce = !!(window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches);
  var TABLES = ["t2", "t3", "t4", "tn"];
  var src = {}, cells = {}, grid = {}, maxRow = {}, maxCol = {};
  var current = null, focusCell = null;

  function each(list, fn) { Array.prototype.forEach.call(list, fn); }
  function keyOf(el) { return el.getAttribute("data-key"); }

  each(srcPane.querySelectorAll("mark[data-key]"), function (el) { src[keyOf(el)] = el; });
  each(tabPane.querySelectorAll("td[data-key]"), function (el) {
    var t = el.getAttribute("data-t"), r = +el.getAttribute("data-r"), c = +el.getAttribute("data-c");
    cells[keyOf(el)] = el;
    grid[t + ":" + r + ":" + c] = el;
    maxRow[t] = Math.max(maxRow[t] || 0, r);
    maxCol[t] = Math.max(maxCol[t] || 0, c);
    if (!focusCell) { focusCell = el; }
  });
  if (focusCell) { focusCell.tabIndex = 0; }

  function flash(el) {
    el.classList.remove("flash");
    void el.offsetWidth; // restart the animation
    el.classList.add("flash");
  }

  // Scroll a pane (not the whole page) so that el sits in the middle of the part of the pane on screen;
  // bring the pane into view first if too little of it is.
  function scrollWithin(pane, el, smooth) {
    var pr = pane.getBoundingClientRect();
    if (Math.min(pr.bottom, window.innerHeight) - Math.max(pr.top, 0) < 120) {
      pane.scrollIntoView({ block: "nearest" });
      pr = pane.getBoundingClientRect();
    }
    var er = el.getBoundingClientRect();
    var mid = (Math.max(pr.top, 0) + Math.min(pr.bottom, window.innerHeight)) / 2;
    var top = pane.scrollTop + (er.top + er.height / 2) - mid;
    var left = pane.scrollLeft + (er.left - pr.left) - (pane.clientWidth - er.width) / 2;
    pane.scrollTo({ top: Math.max(0, top), left: Math.max(0, left), behavior: smooth && !reduce ? "smooth" : "auto" });
  }

  function setFocusCell(c) {
    if (focusCell && focusCell !== c) { focusCell.tabIndex = -1; }
    focusCell = c;
    c.tabIndex = 0;
  }

  // Select a key: its cell and its source span become the current ones; the other side scrolls and flashes.
  function select(key, from, smooth) {
    if (current) {
      if (src[current]) { src[current].classList.remove("current"); }
      if (cells[current]) {
        cells[current].classList.remove("current");
        cells[current].setAttribute("aria-selected", "false");
      }
    }
    current = key;
    var s = src[key], c = cells[key], d = data.keys[key] || {};
    if (c) {
      c.classList.add("current");
      c.setAttribute("aria-selected", "true");
    }
    if (s) { s.classList.add("current"); }
    if (s && from !== "source") {
      scrollWithin(srcPane, s, smooth);
      flash(s);
    }
    if (c && from !== "table") {
      setFocusCell(c);
      c.focus({ preventScroll: true });
      scrollWithin(tabPane, c, smooth);
      flash(c);
    }
    var where = s ? "line " + d.ln : "no span in the source text";
    status.textContent = key + " = " + d.v + ", " + where;
    document.body.setAttribute("data-current", key);
  }

  function line(parent, text, cls) {
    var div = document.createElement("div");
    if (cls) { div.className = cls; }
    div.textContent = text;
    parent.appendChild(div);
    return div;
  }

  function fillTip(key) {
    var d = data.keys[key];
    tip.textContent = "";
    if (!d) { return false; }
    var head = line(tip, "");
    var k = document.createElement("span");
    k.className = "k";
    k.textContent = key;
    head.appendChild(k);
    line(tip, d.l, "lb");
    line(tip, "value: " + d.v + (d.p ? " · page " + d.p : ""));
    if (d.m) {
      line(tip, "read by: " + (data.methods[d.m] || d.m) + " (" + (data.letters[d.m] || "?") + ")" +
        (d.ln ? " · line " + d.ln : ""));
    } else {
      line(tip, "not read: no provenance");
    }
    if (d.t && d.t !== d.v) { line(tip, "source: “" + d.t + "”"); }
    each(d.s, function (s) {
      if (data.stateNames[s]) {
        line(tip, data.icons[s] + " " + data.stateNames[s], s === "failed" ? "bad" : (s === "approx" ? "" : "warn"));
      }
    });
    if (d.c.length) { line(tip, "candidates: " + d.c.join(" | "), "warn"); }
    var shown = 0;
    each(d.r, function (i) {
      var r = data.rules[i];
      var failed = r[2] === "failed";
      if (shown >= 8 && !failed) { return; }
      shown += 1;
      var mark = failed ? "✗" : (r[2] === "passed" ? "✓" : "∅");
      var text = mark + " " + r[0] + " " + r[1] + " " + r[2].replace("_", " ");
      if (failed) { text += ": " + r[3] + " ≠ " + r[4]; }
      line(tip, text, failed ? "bad" : (r[2] === "passed" ? "ok" : ""));
    });
    if (d.r.length > shown) { line(tip, "… " + (d.r.length - shown) + " more rule(s)"); }
    each(d.d, function (i) { line(tip, data.diags[i][0] + ": " + data.diags[i][1], "warn"); });
    each(d.n, function (n) { line(tip, "note: " + n); });
    return true;
  }

  var tipAnchor = null;

  // Put the details under (or above) the element they describe; hide them when it scrolls out of sight.
  function placeTip() {
    if (!tipAnchor || tip.hidden) { return; }
    var r = tipAnchor.getBoundingClientRect();
    if (r.bottom < 0 || r.top > window.innerHeight) { hideTip(); return; }
    var w = tip.offsetWidth, h = tip.offsetHeight;
    var left = Math.min(Math.max(4, r.left), window.innerWidth - w - 4);
    var top = r.bottom + 6;
    if (top + h > window.innerHeight - 4) { top = Math.max(4, r.top - h - 6); }
    tip.style.left = left + "px";
    tip.style.top = top + "px";
  }

  function showTip(el) {
    if (!fillTip(keyOf(el))) { return; }
    tipAnchor = el;
    tip.hidden = false;
    placeTip();
  }

  function hideTip() { tip.hidden = true; tipAnchor = null; }

  // Source → cell. Marks of one span nest (an ambiguous run gives each of its keys the same span): a second
  // click on the same place selects the next of them.
  srcPane.addEventListener("click", function (ev) {
    var m = ev.target.closest ? ev.target.closest("mark[data-key]") : null;
    if (!m) { return; }
    var chain = [m], p = m.parentElement ? m.parentElement.closest("mark.dup") : null;
    while (p && p.contains(m) && p.textContent === chain[chain.length - 1].textContent) {
      chain.push(p);
      p = p.parentElement ? p.parentElement.closest("mark.dup") : null;
    }
    var keys = chain.map(keyOf), i = keys.indexOf(current);
    select(i >= 0 ? keys[(i + 1) % keys.length] : keys[0], "source", true);
  });

  // Cell → source.
  tabPane.addEventListener("click", function (ev) {
    var c = ev.target.closest ? ev.target.closest("td[data-key]") : null;
    if (!c) { return; }
    setFocusCell(c);
    select(keyOf(c), "table", true);
  });

  // Links to keys (rules, diagnostics): both sides.
  document.addEventListener("click", function (ev) {
    var a = ev.target.closest ? ev.target.closest("a[data-goto]") : null;
    if (!a) { return; }
    ev.preventDefault();
    select(a.getAttribute("data-goto"), "link", true);
  });

  function vertical(t, r, c, step) {
    for (var i = r + step; i >= 0 && i <= maxRow[t]; i += step) {
      var el = grid[t + ":" + i + ":" + c];
      if (el) { return el; }
    }
    var ti = TABLES.indexOf(t) + step;
    while (ti >= 0 && ti < TABLES.length && maxRow[TABLES[ti]] === undefined) { ti += step; }
    if (ti < 0 || ti >= TABLES.length) { return null; }
    var nt = TABLES[ti], row = step > 0 ? 0 : maxRow[nt];
    for (var j = Math.min(c, maxCol[nt]); j >= 0; j--) {
      var cand = grid[nt + ":" + row + ":" + j];
      if (cand) { return cand; }
    }
    return null;
  }

  function rowEnd(t, r, fromEnd) {
    if (fromEnd) {
      for (var c = maxCol[t]; c >= 0; c--) { if (grid[t + ":" + r + ":" + c]) { return grid[t + ":" + r + ":" + c]; } }
      return null;
    }
    return grid[t + ":" + r + ":0"];
  }

  // Keyboard: one tab stop for all the cells (roving tabindex); arrows move, Home/End go along the row
  // (with Ctrl: the table), Enter or Space shows the cell's source span, Escape closes the details.
  tabPane.addEventListener("keydown", function (ev) {
    var c = ev.target.closest ? ev.target.closest("td[data-key]") : null;
    if (!c) { return; }
    var t = c.getAttribute("data-t"), r = +c.getAttribute("data-r"), col = +c.getAttribute("data-c"), next = null;
    switch (ev.key) {
      case "ArrowRight": next = grid[t + ":" + r + ":" + (col + 1)] || null; break;
      case "ArrowLeft": next = grid[t + ":" + r + ":" + (col - 1)] || null; break;
      case "ArrowDown": next = vertical(t, r, col, 1); break;
      case "ArrowUp": next = vertical(t, r, col, -1); break;
      case "Home": next = ev.ctrlKey ? rowEnd(t, 0, false) : rowEnd(t, r, false); break;
      case "End": next = ev.ctrlKey ? rowEnd(t, maxRow[t], true) : rowEnd(t, r, true); break;
      case "Enter": case " ":
        ev.preventDefault();
        select(keyOf(c), "table", true);
        return;
      case "Escape": hideTip(); return;
      default: return;
    }
    ev.preventDefault();
    if (!next) { return; }
    setFocusCell(next);
    next.focus({ preventScroll: true });
    scrollWithin(tabPane, next, false);
    select(keyOf(next), "table", false);
  });

  document.addEventListener("keydown", function (ev) { if (ev.key === "Escape") { hideTip(); } });

  document.addEventListener("mouseover", function (ev) {
    var el = ev.target.closest ? ev.target.closest("[data-key]") : null;
    if (el) { showTip(el); }
  });
  document.addEventListener("mouseout", function (ev) {
    var el = ev.target.closest ? ev.target.closest("[data-key]") : null;
    var to = ev.relatedTarget && ev.relatedTarget.closest ? ev.relatedTarget.closest("[data-key]") : null;
    if (el && !to) { hideTip(); }
  });
  tabPane.addEventListener("focusin", function (ev) {
    var c = ev.target.closest ? ev.target.closest("td[data-key]") : null;
    if (c) {
      c.setAttribute("aria-describedby", "gk-tip");
      showTip(c);
    }
  });
  tabPane.addEventListener("focusout", function () { hideTip(); });
  document.addEventListener("scroll", placeTip, { passive: true, capture: true });
  window.addEventListener("resize", placeTip);

  // A link to #cell-<key> (from another page or a bookmark) selects that key.
  var hash = decodeURIComponent(location.hash || "");
  if (hash.indexOf("#cell-") === 0 && cells[hash.slice(6)]) { select(hash.slice(6), "link", false); }
  document.documentElement.setAttribute("data-ready", "1");
}());
