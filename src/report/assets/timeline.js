(function () {
  "use strict";
  var root = document.documentElement;
  var tip = document.getElementById("tip");
  Array.prototype.forEach.call(document.querySelectorAll("[title]"), function (el) {
    el.setAttribute("data-tip", el.getAttribute("title"));
    el.removeAttribute("title");
  });
  document.addEventListener("mouseover", function (e) {
    var el = e.target && e.target.closest ? e.target.closest("[data-tip]") : null;
    if (!el) { tip.style.display = "none"; return; }
    tip.textContent = el.getAttribute("data-tip");
    tip.style.display = "block";
  });
  document.addEventListener("mousemove", function (e) {
    if (tip.style.display !== "block") return;
    var x = e.clientX + 14, y = e.clientY + 16;
    var w = tip.offsetWidth, h = tip.offsetHeight;
    if (x + w > window.innerWidth - 4) x = Math.max(4, e.clientX - w - 10);
    if (y + h > window.innerHeight - 4) y = Math.max(4, e.clientY - h - 10);
    tip.style.left = x + "px";
    tip.style.top = y + "px";
  });

  var index = document.getElementById("index");
  if (index) indexPage(index);
  var chart = document.getElementById("chart");
  if (!chart) { root.setAttribute("data-rendered", "yes"); return; }
  var NAME_W = 200, GAP_PX = 60, ROW_H = 15;
  var scroller = document.getElementById("scroller");
  var axis = document.getElementById("axis");
  var overlay = document.getElementById("overlay");
  var zoom = document.getElementById("zoom");
  var span = parseFloat(chart.getAttribute("data-span-ms")) || 1000;
  var end = span * 1.02 + 1;
  var placed = Array.prototype.slice.call(chart.querySelectorAll(".track [data-t]"));
  var tracks = Array.prototype.slice.call(chart.querySelectorAll(".track[data-band]"));
  function t0(el) { return parseFloat(el.getAttribute("data-t")) || 0; }

  // Quiet stretches: gaps between consecutive moments longer than minGap, kept short.
  var times = [0, end];
  placed.forEach(function (el) {
    times.push(t0(el));
    if (el.hasAttribute("data-t1")) times.push(parseFloat(el.getAttribute("data-t1")));
  });
  times.sort(function (a, b) { return a - b; });
  var minGap = Math.max(2000, end * 0.08), pad = minGap * 0.15, quiet = [];
  for (var i = 1; i < times.length; i++) {
    if (times[i] - times[i - 1] > minGap) quiet.push([times[i - 1] + pad, times[i] - pad]);
  }
  if (!quiet.length) {
    Array.prototype.forEach.call(document.querySelectorAll('input[name="axis"]'), function (r) {
      r.checked = r.value === "linear";
    });
  }

  function scale(gaps, width) {
    var hidden = 0;
    gaps.forEach(function (g) { hidden += g[1] - g[0]; });
    var k = (width - gaps.length * GAP_PX) / (end - hidden);
    function x(t) {
      var px = 0, from = 0;
      for (var j = 0; j < gaps.length; j++) {
        var g = gaps[j];
        if (t <= g[0]) return px + (t - from) * k;
        px += (g[0] - from) * k;
        if (t < g[1]) return px + (t - g[0]) / (g[1] - g[0]) * GAP_PX;
        px += GAP_PX;
        from = g[1];
      }
      return px + (t - from) * k;
    }
    var kept = [], from = 0;
    gaps.forEach(function (g) { kept.push([from, g[0]]); from = g[1]; });
    kept.push([from, end]);
    return { x: x, k: k, gaps: gaps, kept: kept };
  }

  function nice(v) {
    var p = Math.pow(10, Math.floor(Math.log10(v))), steps = [1, 2, 5, 10];
    for (var j = 0; j < steps.length; j++) if (steps[j] * p >= v) return steps[j] * p;
    return 10 * p;
  }
  function seconds(t, step) {
    var places = step >= 1000 ? 0 : step >= 100 ? 1 : step >= 10 ? 2 : 3;
    return (t / 1000).toFixed(places) + " s";
  }
  function fmt(ms) { return ms < 1000 ? Math.round(ms) + " ms" : (ms / 1000).toFixed(1) + " s"; }
  function div(cls, parent) { var d = document.createElement("div"); d.className = cls; parent.appendChild(d); return d; }

  function drawAxis(s) {
    axis.textContent = "";
    overlay.textContent = "";
    s.kept.forEach(function (seg) {
      var step = nice(90 / s.k), last = -1e9;
      for (var t = Math.ceil(seg[0] / step) * step; t <= seg[1]; t += step) {
        var x = s.x(t);
        if (x - last < 60) continue;
        last = x;
        var tick = div("tick", axis);
        tick.style.left = x + "px";
        tick.textContent = seconds(t, step);
        div("grid", overlay).style.left = x + "px";
      }
    });
    s.gaps.forEach(function (g) {
      var x = s.x(g[0]);
      var band = div("gap", overlay);
      band.style.left = x + "px";
      band.style.width = GAP_PX + "px";
      var lbl = div("gaplbl", axis);
      lbl.style.left = x + "px";
      lbl.style.width = GAP_PX + "px";
      lbl.textContent = "⋯ " + fmt(g[1] - g[0]) + " ⋯";
      lbl.setAttribute("data-tip", "a quiet stretch of " + fmt(g[1] - g[0]) + " (nominal), shortened; "
        + (g[0] / 1000).toFixed(3) + " s to " + (g[1] / 1000).toFixed(3) + " s");
    });
  }

  function placeLabels(track, width) {
    var band = parseInt(track.getAttribute("data-band"), 10) || 12;
    var maxRows = parseInt(track.getAttribute("data-rows"), 10) || 1;
    var pts = Array.prototype.filter.call(track.children, function (el) {
      return el.classList.contains("pt") || el.classList.contains("check-fail");
    });
    pts.sort(function (a, b) {
      var pa = parseInt(a.getAttribute("data-prio"), 10) || 0, pb = parseInt(b.getAttribute("data-prio"), 10) || 0;
      return pb - pa || t0(a) - t0(b);
    });
    var rows = [], used = 0;
    pts.forEach(function (el) {
      var lbl = el.querySelector(".lbl");
      if (!lbl || !lbl.textContent) return;
      lbl.classList.remove("hidden");
      var w = lbl.offsetWidth + 4;
      var x0 = parseFloat(el.style.left) || 0;
      var shift = Math.min(0, width - (x0 + w));
      var a = x0 + shift, b = a + w;
      for (var r = 0; r < maxRows; r++) {
        var row = rows[r] || (rows[r] = []);
        var free = row.every(function (iv) { return b <= iv[0] || a >= iv[1]; });
        if (free) {
          row.push([a, b]);
          lbl.style.left = shift + "px";
          lbl.style.top = (band + r * ROW_H) + "px";
          used = Math.max(used, r + 1);
          return;
        }
      }
      lbl.classList.add("hidden");
    });
    track.style.height = (band + used * ROW_H + 4) + "px";
  }

  function layout() {
    var checked = document.querySelector('input[name="axis"]:checked');
    var linear = checked && checked.value === "linear";
    var z = parseFloat(zoom.value) || 1;
    var width = Math.max(300, (scroller.clientWidth - NAME_W - 2) * z);
    var s = scale(linear ? [] : quiet, width);
    chart.style.width = (NAME_W + width) + "px";
    placed.forEach(function (el) {
      var x0 = s.x(t0(el));
      el.style.left = x0 + "px";
      if (el.hasAttribute("data-t1")) {
        el.style.width = Math.max(2, s.x(parseFloat(el.getAttribute("data-t1"))) - x0) + "px";
      }
    });
    tracks.forEach(function (tr) { placeLabels(tr, width); });
    drawAxis(s);
  }

  Array.prototype.forEach.call(document.querySelectorAll('input[name="axis"]'), function (r) {
    r.addEventListener("change", layout);
  });
  zoom.addEventListener("input", layout);
  window.addEventListener("resize", layout);
  layout();
  root.setAttribute("data-rendered", "yes");
  // The index: sorted by a column (a click on its name; again reverses) and filtered by
  // verdict (the checkboxes), both kept in the address's fragment, which a link may give:
  // index.html#status=fail,error&sort=-wall. Rows are moved and hidden, never rewritten.
  function indexPage(table) {
    var tbody = table.tBodies[0];
    var rows = Array.prototype.slice.call(tbody.rows);
    var controls = document.getElementById("index-controls");
    var boxes = Array.prototype.slice.call(controls.querySelectorAll('input[name="status"]'));
    var heads = Array.prototype.slice.call(table.tHead.querySelectorAll("th[data-sort]"));
    var shown = document.getElementById("shown");
    var STATUSES = ["pass", "fail", "error", "skip"];
    var WORST_FIRST = { fail: 0, error: 1, skip: 2, pass: 3 };
    var state = { status: null, sort: "", desc: false };
    controls.hidden = false;

    function key(row, by) {
      if (by === "verdict") return WORST_FIRST[row.getAttribute("data-verdict")];
      if (by === "name") return row.getAttribute("data-scenario");
      if (by === "nominal") return parseFloat(row.getAttribute("data-nominal-ms")) || 0;
      if (by === "wall") return parseFloat(row.getAttribute("data-wall-ms")) || 0;
      return parseInt(row.getAttribute("data-order"), 10) || 0;
    }
    function fragment() {
      var parts = [];
      if (state.status) parts.push("status=" + state.status.join(","));
      if (state.sort) parts.push("sort=" + (state.desc ? "-" : "") + state.sort);
      return parts.join("&");
    }
    function read(hash) {
      state = { status: null, sort: "", desc: false };
      hash.replace(/^#/, "").split("&").forEach(function (part) {
        var kv = part.split("=");
        var value = decodeURIComponent(kv[1] || "").toLowerCase();
        if (kv[0] === "status") {
          var wanted = value.split(",").filter(function (s) { return STATUSES.indexOf(s) >= 0; });
          state.status = wanted.length === STATUSES.length ? null : wanted;
        } else if (kv[0] === "sort") {
          var desc = value.charAt(0) === "-";
          var by = desc ? value.slice(1) : value;
          if (["verdict", "name", "nominal", "wall"].indexOf(by) >= 0) { state.sort = by; state.desc = desc; }
        }
      });
    }
    function apply(writeHash) {
      var by = state.sort;
      rows.slice().sort(function (a, b) {
        var ka = key(a, by), kb = key(b, by);
        var c = ka < kb ? -1 : ka > kb ? 1 : 0;
        if (state.desc) c = -c;
        return c || key(a, "") - key(b, "");
      }).forEach(function (row) { tbody.appendChild(row); });
      var n = 0;
      rows.forEach(function (row) {
        var show = !state.status || state.status.indexOf(row.getAttribute("data-verdict")) >= 0;
        row.hidden = !show;
        if (show) n++;
      });
      boxes.forEach(function (b) {
        // The attribute too, so that the page's markup says what is shown.
        b.checked = b.defaultChecked = !state.status || state.status.indexOf(b.value) >= 0;
      });
      heads.forEach(function (th) {
        var mine = th.getAttribute("data-sort") === by;
        th.setAttribute("aria-sort", mine ? (state.desc ? "descending" : "ascending") : "none");
      });
      table.setAttribute("data-sorted", by ? (state.desc ? "-" : "") + by : "");
      table.setAttribute("data-shown", String(n));
      shown.textContent = "showing " + n + " of " + rows.length;
      if (writeHash) {
        var f = fragment();
        try {
          history.replaceState(null, "", f ? "#" + f : location.pathname + location.search);
        } catch (e) { /* a page the browser will not let change its address: the view still changed */ }
      }
    }
    boxes.forEach(function (b) {
      b.addEventListener("change", function () {
        var on = boxes.filter(function (x) { return x.checked; }).map(function (x) { return x.value; });
        state.status = on.length === STATUSES.length ? null : on;
        apply(true);
      });
    });
    heads.forEach(function (th) {
      th.querySelector("button").addEventListener("click", function () {
        var by = th.getAttribute("data-sort");
        state.desc = state.sort === by ? !state.desc : false;
        state.sort = by;
        apply(true);
      });
    });
    window.addEventListener("hashchange", function () { read(location.hash); apply(false); });
    read(location.hash);
    apply(false);
  }
})();
