/// The live dashboard served at `/` (self-contained: no external scripts, fonts or CDNs).
///
/// The page polls `dashboard.json` (a relative URL, so it works behind a path prefix) every 2 s and
/// renders it. Its DOM carries `data-*` attributes that the end-to-end tests read; see the notes in
/// the script. A copy for testing the page on its own lives outside the repository.
enum DashboardPage {
    static let html: String = #"""
    <!doctype html>
    <html lang="en">
    <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src data:">
    <meta name="color-scheme" content="light dark">
    <link rel="icon" href="data:,">
    <title>Plugboard</title>
    <style>
    :root {
      --bg: #f5f6f8; --panel: #ffffff; --panel-2: #f9fafb; --border: #dfe3e8; --grid: #eceff3;
      --text: #1f2328; --muted: #5f6873; --faint: #8b949e;
      --ok: #1a7f37; --ok-bg: #dafbe1; --warn: #8a5a00; --warn-bg: #fff4cc; --warn-border: #e9c46a;
      --bad: #c62828; --bad-bg: #ffebe9;
      --s-queue: #2f6feb; --s-adds: #8250df; --s-rec: #0f8b8d; --s-err: #d1242f;
      --shadow: 0 1px 2px rgba(31, 35, 40, .06);
    }
    @media (prefers-color-scheme: dark) {
      :root {
        --bg: #0d1117; --panel: #161b22; --panel-2: #1b2129; --border: #30363d; --grid: #242a32;
        --text: #e6edf3; --muted: #9aa4ae; --faint: #6e7781;
        --ok: #3fb950; --ok-bg: rgba(46, 160, 67, .16); --warn: #e3b341; --warn-bg: rgba(187, 128, 9, .16); --warn-border: rgba(187, 128, 9, .5);
        --bad: #ff7b72; --bad-bg: rgba(248, 81, 73, .14);
        --s-queue: #58a6ff; --s-adds: #bc8cff; --s-rec: #39c5cf; --s-err: #ff7b72;
        --shadow: none;
      }
    }
    * { box-sizing: border-box; }
    [hidden] { display: none !important; }
    html { -webkit-text-size-adjust: 100%; }
    body {
      margin: 0; background: var(--bg); color: var(--text);
      font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Noto Sans", "Liberation Sans", sans-serif;
      font-variant-numeric: tabular-nums;
    }
    .top {
      position: sticky; top: 0; z-index: 2; display: flex; align-items: center; gap: 14px; flex-wrap: wrap;
      padding: 10px 24px; background: var(--panel); border-bottom: 1px solid var(--border);
    }
    .brand { font-size: 17px; font-weight: 650; letter-spacing: -.01em; margin: 0; display: flex; align-items: center; gap: 8px; }
    .brand svg { display: block; }
    .pill {
      display: inline-flex; align-items: center; gap: 6px; padding: 2px 10px; border-radius: 999px;
      font-size: 12.5px; font-weight: 600; border: 1px solid transparent; white-space: nowrap;
    }
    .pill::before { content: ""; width: 8px; height: 8px; border-radius: 50%; background: currentColor; }
    .pill.ok { color: var(--ok); background: var(--ok-bg); }
    .pill.warn { color: var(--warn); background: var(--warn-bg); border-color: var(--warn-border); }
    .pill.bad { color: var(--bad); background: var(--bad-bg); }
    .pill.wait { color: var(--muted); background: var(--panel-2); border-color: var(--border); }
    .spacer { flex: 1; }
    .meta { color: var(--muted); font-size: 13px; white-space: nowrap; }
    .meta b { color: var(--text); font-weight: 600; }
    .banner {
      display: flex; gap: 8px; align-items: center; padding: 9px 24px; font-weight: 600;
      color: var(--bad); background: var(--bad-bg); border-bottom: 1px solid var(--border);
    }
    .banner span { font-weight: 400; color: var(--text); }
    .notready {
      margin: 16px 24px 0; padding: 10px 14px; border: 1px solid var(--warn-border); border-radius: 8px;
      background: var(--warn-bg); color: var(--text);
    }
    .notready strong { color: var(--warn); }
    .notready ul { margin: 4px 0 0; padding-left: 20px; max-height: 8.5em; overflow: auto; }
    .notready li { overflow-wrap: anywhere; }
    main { padding: 8px 24px 32px; }
    body.stale main { opacity: .55; }
    body.stale #updated { color: var(--bad); }
    .sec-head { display: flex; align-items: baseline; gap: 10px; margin: 18px 0 10px; }
    h2 { font-size: 13px; font-weight: 650; text-transform: uppercase; letter-spacing: .06em; color: var(--muted); margin: 0; }
    .count { color: var(--faint); font-size: 13px; }
    .grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(380px, 1fr)); gap: 16px; }
    .empty {
      grid-column: 1 / -1;
      padding: 28px; text-align: center; color: var(--muted); background: var(--panel);
      border: 1px dashed var(--border); border-radius: 10px;
    }
    .card {
      background: var(--panel); border: 1px solid var(--border); border-radius: 10px; box-shadow: var(--shadow);
      min-width: 0; display: flex; flex-direction: column;
    }
    .card.down { border-color: var(--bad); }
    .card-head {
      display: flex; align-items: center; gap: 10px; padding: 11px 16px; border-bottom: 1px solid var(--border); min-width: 0;
    }
    .card-head h3 {
      margin: 0; font-size: 15px; font-weight: 650; flex: 1; min-width: 0;
      overflow: hidden; text-overflow: ellipsis; white-space: nowrap;
    }
    .proc { font-size: 12px; color: var(--muted); white-space: nowrap; display: flex; gap: 8px; align-items: center; }
    .proc .pill { font-size: 12px; padding: 1px 8px; }
    .card-body { padding: 12px 16px 14px; display: flex; flex-direction: column; gap: 12px; }
    .label { font-size: 11.5px; font-weight: 600; text-transform: uppercase; letter-spacing: .05em; color: var(--muted); }
    .queue { display: grid; grid-template-columns: 112px 1fr; gap: 12px; align-items: stretch; }
    .big { font-size: 34px; font-weight: 600; line-height: 1.1; letter-spacing: -.02em; margin-top: 2px; }
    .sub { font-size: 12.5px; color: var(--muted); }
    .sub b { color: var(--text); font-weight: 600; }
    .chart { position: relative; min-width: 0; padding-top: 15px; }
    .queue .label { white-space: nowrap; }
    .chart svg { display: block; width: 100%; height: 52px; overflow: visible; }
    .chart.small svg { height: 40px; }
    .chart .peak { position: absolute; top: 0; right: 0; font-size: 11px; line-height: 14px; color: var(--faint); }
    .chart .axis { display: flex; justify-content: space-between; font-size: 11px; color: var(--faint); margin-top: 2px; }
    .chart .nodata { position: absolute; inset: 15px 0 16px; display: flex; align-items: center; justify-content: center; font-size: 12px; color: var(--faint); }
    .chart .gl { stroke: var(--grid); stroke-width: 1; }
    .chart .ln { fill: none; stroke-width: 1.6; stroke-linejoin: round; stroke-linecap: round; }
    .chart .ar { stroke: none; opacity: .14; }
    .c-queue { stroke: var(--s-queue); fill: var(--s-queue); }
    .c-adds { stroke: var(--s-adds); fill: var(--s-adds); }
    .c-rec { stroke: var(--s-rec); fill: var(--s-rec); }
    .c-err { stroke: var(--s-err); fill: var(--s-err); }
    .throughput .head { display: flex; justify-content: space-between; align-items: baseline; gap: 8px; flex-wrap: wrap; margin-bottom: 0; }
    .legend { display: flex; gap: 12px; font-size: 12.5px; color: var(--muted); flex-wrap: wrap; }
    .legend span { display: inline-flex; align-items: center; gap: 5px; white-space: nowrap; }
    .legend i { display: inline-block; width: 10px; height: 3px; border-radius: 2px; }
    .legend i.c-adds { background: var(--s-adds); }
    .legend i.c-rec { background: var(--s-rec); }
    .legend b { color: var(--text); font-weight: 600; }
    .stats {
      display: grid; grid-template-columns: repeat(3, minmax(0, 1fr)); margin: 0;
      border: 1px solid var(--border); border-radius: 8px; overflow: hidden; background: var(--border); gap: 1px;
    }
    .stat { background: var(--panel-2); padding: 7px 10px; min-width: 0; }
    .stat dt { font-size: 11.5px; color: var(--muted); white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
    .stat dd { margin: 0; font-size: 16px; font-weight: 600; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
    .stat dd.na { color: var(--faint); font-weight: 500; }
    .stat .sub { white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
    .stat.bad dd { color: var(--bad); }
    .foot { display: flex; flex-direction: column; gap: 6px; font-size: 12.5px; color: var(--muted); }
    .foot b { color: var(--text); font-weight: 600; }
    .kinds { display: flex; flex-wrap: wrap; gap: 6px; align-items: center; }
    .chip {
      display: inline-flex; gap: 6px; align-items: baseline; padding: 1px 8px; border-radius: 6px; font-size: 12px;
      background: var(--bad-bg); color: var(--text); border: 1px solid var(--border); max-width: 100%;
    }
    .chip span { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
    .chip b { color: var(--bad); font-weight: 650; }
    .table-wrap { background: var(--panel); border: 1px solid var(--border); border-radius: 10px; overflow-x: auto; box-shadow: var(--shadow); }
    table { width: 100%; border-collapse: collapse; font-size: 13px; }
    th, td { text-align: left; padding: 8px 14px; border-bottom: 1px solid var(--border); white-space: nowrap; }
    th { font-size: 11.5px; font-weight: 600; text-transform: uppercase; letter-spacing: .05em; color: var(--muted); background: var(--panel-2); }
    tbody tr:last-child td { border-bottom: 0; }
    tbody tr:hover td { background: var(--panel-2); }
    td.num, th.num { text-align: right; }
    td.res { font-weight: 600; }
    td.wrap { white-space: normal; overflow-wrap: anywhere; max-width: 360px; }
    td.empty-row { text-align: center; color: var(--muted); padding: 22px; }
    .muted { color: var(--faint); }
    .st { display: inline-flex; align-items: center; gap: 6px; font-weight: 600; }
    .st::before { content: ""; width: 8px; height: 8px; border-radius: 50%; background: currentColor; }
    .st.ok { color: var(--ok); }
    .st.warn { color: var(--warn); }
    footer { color: var(--faint); font-size: 12px; padding: 0 24px 24px; }
    </style>
    </head>
    <body data-status="loading">
    <header class="top">
      <h1 class="brand"><svg width="20" height="20" viewBox="0 0 20 20" aria-hidden="true"><rect x="1" y="1" width="18" height="18" rx="4" fill="none" stroke="currentColor" stroke-width="1.6"/><circle cx="7" cy="7" r="1.8" fill="currentColor"/><circle cx="13" cy="7" r="1.8" fill="currentColor"/><circle cx="7" cy="13" r="1.8" fill="currentColor"/><circle cx="13" cy="13" r="1.8" fill="currentColor"/></svg>Plugboard</h1>
      <span id="readiness" class="pill wait" data-value="false">waiting for data</span>
      <span class="spacer"></span>
      <span class="meta">Last update <b id="updated">—</b></span>
    </header>
    <div id="banner" class="banner" role="alert" hidden>Disconnected — retrying <span id="banner-detail"></span></div>
    <section id="notready" class="notready" hidden><strong>Not ready:</strong><ul id="reasons"></ul></section>
    <main>
      <div class="sec-head"><h2>Plugins</h2><span class="count" id="plugin-count"></span></div>
      <div id="plugins" class="grid"><div class="empty">Waiting for the first snapshot…</div></div>
      <div class="sec-head"><h2>Informers</h2><span class="count" id="informer-count"></span></div>
      <div class="table-wrap">
        <table>
          <thead><tr>
            <th>Resource</th><th>Namespace</th><th>Selector</th><th class="num">Objects</th><th>Synced</th>
            <th class="num">Lists</th><th class="num">Watch restarts</th><th>Last watch restart</th>
          </tr></thead>
          <tbody id="informers"><tr><td class="empty-row" colspan="8">Waiting for the first snapshot…</td></tr></tbody>
        </table>
      </div>
    </main>
    <footer>Refreshes every 2 s from <code>dashboard.json</code>. Rates over the last ~10 s; latency quantiles over the last ~30 s.</footer>
    <script>
    // Polls dashboard.json (relative) every 2 s and re-renders; keeps the last data when a poll fails.
    // DOM contract read by the end-to-end tests (keep it):
    //   body[data-status=loading|ok|error][data-snapshot-time=<json time>], #readiness[data-value=true|false],
    //   [data-plugin=<name>] [data-field=<metric>][data-value=<raw JSON value>] (latency: "" when null),
    //   tr[data-informer="<resource>|<namespace>|<selector>"] [data-field=objects|synced][data-value].
    // All text from the JSON goes through textContent/setAttribute, never innerHTML.
    (function () {
      "use strict";
      var POLL_MS = 2000, TIMEOUT_MS = 8000, SVGNS = "http://www.w3.org/2000/svg";
      var body = document.body, lastTime = null, failures = 0;

      function $(id) { return document.getElementById(id); }
      function isNum(v) { return typeof v === "number" && isFinite(v); }
      function num(v) { return isNum(v) ? v : 0; }
      function arr(v) { return Array.isArray(v) ? v : []; }
      function str(v) { return v == null ? "" : String(v); }
      function el(tag, cls, text) {
        var e = document.createElement(tag);
        if (cls) e.className = cls;
        if (text != null) e.textContent = String(text);
        return e;
      }
      function add(parent) {
        for (var i = 1; i < arguments.length; i++) {
          var c = arguments[i];
          if (c != null) parent.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
        }
        return parent;
      }
      // An element carrying a metric: data-field, data-value (the raw JSON value) and human text.
      function field(tag, cls, name, value, text) {
        var e = el(tag, cls, text);
        e.setAttribute("data-field", name);
        e.setAttribute("data-value", isNum(value) || typeof value === "boolean" ? String(value) : "");
        return e;
      }

      // ---- formatting ----
      function fmtCount(v) {
        v = num(v);
        return Math.round(v) === v ? v.toLocaleString("en-US") : fmtRate(v);
      }
      function fmtRate(v) {
        v = num(v);
        var a = Math.abs(v);
        if (a === 0) return "0";
        if (a < 0.01) return "<0.01";
        if (a < 1) return v.toFixed(2);
        if (a < 100) return v.toFixed(1);
        if (a < 100000) return Math.round(v).toLocaleString("en-US");
        return (v / 1000).toFixed(0) + "k";
      }
      function fmtLatency(s) {
        if (!isNum(s)) return "—";
        if (s <= 0) return "0";
        if (s < 1e-3) { var us = s * 1e6; return (us < 10 ? us.toFixed(1) : us.toFixed(0)) + " µs"; }
        if (s < 1) { var ms = s * 1e3; return (ms < 10 ? ms.toFixed(2) : ms < 100 ? ms.toFixed(1) : ms.toFixed(0)) + " ms"; }
        return (s < 10 ? s.toFixed(2) : s < 100 ? s.toFixed(1) : s.toFixed(0)) + " s";
      }
      function fmtPercent(v) {
        var p = num(v) * 100;
        if (p === 0) return "0%";
        if (p < 0.1) return "<0.1%";
        return (p < 10 ? p.toFixed(1) : p.toFixed(0)) + "%";
      }
      function pad2(n) { return (n < 10 ? "0" : "") + n; }
      function fmtClock(t) {
        var d = new Date(t * 1000);
        return pad2(d.getHours()) + ":" + pad2(d.getMinutes()) + ":" + pad2(d.getSeconds());
      }
      function fmtFull(t) {
        var d = new Date(t * 1000);
        return d.getFullYear() + "-" + pad2(d.getMonth() + 1) + "-" + pad2(d.getDate()) + " " + fmtClock(t);
      }
      function fmtSpan(s) {
        s = Math.max(0, Math.round(s));
        if (s < 60) return s + "s";
        if (s < 3600) { var m = Math.floor(s / 60), r = s % 60; return m + "m" + (r && m < 10 ? " " + r + "s" : ""); }
        if (s < 86400) { var h = Math.floor(s / 3600), mm = Math.floor((s % 3600) / 60); return h + "h" + (mm ? " " + mm + "m" : ""); }
        return Math.floor(s / 86400) + "d " + Math.floor((s % 86400) / 3600) + "h";
      }

      // ---- charts (inline SVG, drawn here) ----
      function svg(tag, attrs) {
        var e = document.createElementNS(SVGNS, tag);
        for (var k in attrs) e.setAttribute(k, attrs[k]);
        return e;
      }
      // times: shared x values (unix s); series: [{values, cls}]; one series gets a filled area.
      function chart(times, series, small, fmtPeak) {
        var W = 300, H = small ? 40 : 52, TOP = 3;
        var box = el("div", "chart" + (small ? " small" : ""));
        var s = svg("svg", { viewBox: "0 0 " + W + " " + H, preserveAspectRatio: "none", "aria-hidden": "true" });
        s.appendChild(svg("line", { x1: 0, x2: W, y1: H - 0.5, y2: H - 0.5, "class": "gl", "vector-effect": "non-scaling-stroke" }));
        s.appendChild(svg("line", { x1: 0, x2: W, y1: TOP, y2: TOP, "class": "gl", "stroke-dasharray": "2 3", "vector-effect": "non-scaling-stroke" }));
        var n = times.length;
        series.forEach(function (se) { n = Math.min(n, se.values.length); });
        var max = 0;
        series.forEach(function (se) { for (var i = 0; i < n; i++) max = Math.max(max, num(se.values[i])); });
        var t0 = n ? num(times[0]) : 0, t1 = n ? num(times[n - 1]) : 0, span = t1 - t0;
        var scale = max > 0 ? max : 1;
        function x(i) { return n < 2 || span <= 0 ? (n < 2 ? W : (i / (n - 1)) * W) : ((num(times[i]) - t0) / span) * W; }
        function y(v) { return H - 1 - (Math.max(0, num(v)) / scale) * (H - 1 - TOP); }
        series.forEach(function (se, k) {
          if (!n) return;
          var pts = [];
          if (n === 1) { pts.push("0," + y(se.values[0]).toFixed(2)); }
          for (var i = 0; i < n; i++) pts.push(x(i).toFixed(2) + "," + y(se.values[i]).toFixed(2));
          if (se.area) {
            var first = n === 1 ? 0 : x(0);
            s.appendChild(svg("polygon", { points: first.toFixed(2) + "," + H + " " + pts.join(" ") + " " + x(n - 1).toFixed(2) + "," + H, "class": "ar " + se.cls }));
          }
          s.appendChild(svg("polyline", { points: pts.join(" "), "class": "ln " + se.cls, "vector-effect": "non-scaling-stroke" }));
        });
        box.appendChild(s);
        if (n) {
          box.appendChild(el("span", "peak", "peak " + fmtPeak(max)));
        } else {
          box.appendChild(el("div", "nodata", "no history yet"));
        }
        var axis = el("div", "axis");
        add(axis, el("span", null, n > 1 && span > 0 ? "−" + fmtSpan(span) : ""), el("span", null, "now"));
        box.appendChild(axis);
        return box;
      }

      // ---- plugins ----
      function stat(label, valueEl, subEl, cls, tip) {
        var d = el("div", "stat" + (cls ? " " + cls : ""));
        if (tip) d.title = tip;
        add(d, el("dt", null, label), valueEl, subEl);
        return d;
      }
      function sub() { var s = el("div", "sub"); add.apply(null, [s].concat([].slice.call(arguments))); return s; }

      function pluginCard(p, times) {
        var name = str(p.name), h = p.history || {};
        var card = el("article", "card");
        card.setAttribute("data-plugin", name);

        var head = el("header", "card-head");
        var title = el("h3", null, name);
        title.title = name;
        head.appendChild(title);
        if (p.process && typeof p.process === "object") {
          var up = p.process.up === true, restarts = num(p.process.restarts);
          var proc = el("div", "proc");
          add(proc,
            field("span", "pill " + (up ? "ok" : "bad"), "processUp", up, up ? "running" : "down"),
            field("span", null, "processRestarts", p.process.restarts, fmtCount(restarts) + (restarts === 1 ? " restart" : " restarts")));
          head.appendChild(proc);
          if (!up) card.classList.add("down");
        }
        card.appendChild(head);

        var b = el("div", "card-body");
        // queue depth
        var q = el("div", "queue"), qn = el("div");
        add(qn, el("div", "label", "Queue depth"),
          field("div", "big", "queueDepth", p.queueDepth, fmtCount(p.queueDepth)),
          sub(field("b", null, "inFlight", p.inFlight, fmtCount(p.inFlight)), " in flight"));
        add(q, qn, chart(times, [{ values: arr(h.queueDepth), cls: "c-queue", area: true }], false, fmtCount));
        b.appendChild(q);

        // throughput
        var tp = el("div", "throughput"), th = el("div", "head"), lg = el("div", "legend");
        var l1 = el("span"), l2 = el("span");
        add(l1, el("i", "c-adds"), "adds ", field("b", null, "addsPerSecond", p.addsPerSecond, fmtRate(p.addsPerSecond) + "/s"));
        add(l2, el("i", "c-rec"), "reconciles ", field("b", null, "reconcilesPerSecond", p.reconcilesPerSecond, fmtRate(p.reconcilesPerSecond) + "/s"));
        add(lg, l1, l2);
        add(th, el("div", "label", "Throughput"), lg);
        add(tp, th, chart(times, [
          { values: arr(h.addsPerSecond), cls: "c-adds" },
          { values: arr(h.reconcilesPerSecond), cls: "c-rec" }], true, function (v) { return fmtRate(v) + "/s"; }));
        b.appendChild(tp);

        // stats grid
        var st = el("dl", "stats");
        var p50 = field("dd", isNum(p.latencyP50Seconds) ? null : "na", "latencyP50", p.latencyP50Seconds, fmtLatency(p.latencyP50Seconds));
        var p99 = field("dd", isNum(p.latencyP99Seconds) ? null : "na", "latencyP99", p.latencyP99Seconds, fmtLatency(p.latencyP99Seconds));
        var tot = p.totals || {}, eps = num(p.errorsPerSecond), rl = p.rateLimitWaitSecondsPerSecond || {};
        add(st,
          stat("Latency p50", p50, sub(isNum(p.latencyP50Seconds) ? "plugin call" : "no calls (30 s)")),
          stat("Latency p99", p99, sub(isNum(p.latencyP99Seconds) ? "plugin call" : "no calls (30 s)")),
          stat("Retries", field("dd", null, "retriesPerSecond", p.retriesPerSecond, fmtRate(p.retriesPerSecond) + "/s"),
            sub(field("b", null, "totalRetries", tot.retries, fmtCount(tot.retries)), " total")),
          stat("Errors", field("dd", null, "errorsPerSecond", p.errorsPerSecond, fmtRate(p.errorsPerSecond) + "/s"),
            sub(field("b", null, "totalErrors", tot.errors, fmtCount(tot.errors)), " total"), eps > 0 ? "bad" : null),
          stat("Dispatch wait", field("dd", null, "rateLimitDispatch", rl.dispatch, fmtPercent(rl.dispatch)), sub("% of time"), null, "Seconds spent waiting on the dispatch rate limiter per second (" + num(rl.dispatch) + " s/s)"),
          stat("Write wait", field("dd", null, "rateLimitWrites", rl.writes, fmtPercent(rl.writes)), sub("% of time"), null, "Seconds spent waiting on the write rate limiter per second (" + num(rl.writes) + " s/s)"));
        b.appendChild(st);

        // totals and errors by kind
        var foot = el("div", "foot"), totals = el("div");
        add(totals, "Since start: ",
          field("b", null, "totalAdds", tot.adds, fmtCount(tot.adds)), " adds · ",
          field("b", null, "totalReconciles", tot.reconciles, fmtCount(tot.reconciles)), " reconciles");
        foot.appendChild(totals);
        var kinds = el("div", "kinds"), errs = p.errors && typeof p.errors === "object" ? p.errors : {};
        var names = Object.keys(errs).filter(function (k) { return num(errs[k]) > 0; });
        names.sort(function (a, c) { return num(errs[c]) - num(errs[a]) || (a < c ? -1 : 1); });
        kinds.appendChild(document.createTextNode(names.length ? "Errors by kind:" : "Errors by kind: none"));
        names.forEach(function (k) {
          var c = el("span", "chip");
          c.setAttribute("data-error-kind", k);
          c.title = k + ": " + num(errs[k]);
          add(c, el("span", null, k), el("b", null, fmtCount(errs[k])));
          kinds.appendChild(c);
        });
        foot.appendChild(kinds);
        b.appendChild(foot);
        card.appendChild(b);
        return card;
      }

      // ---- informers ----
      function informerRow(inf, now) {
        var tr = el("tr"), ns = str(inf.namespace), sel = str(inf.selector);
        tr.setAttribute("data-informer", str(inf.resource) + "|" + ns + "|" + sel);
        var synced = inf.synced === true;
        var syncCell = field("td", null, "synced", synced, null);
        syncCell.appendChild(el("span", "st " + (synced ? "ok" : "warn"), synced ? "synced" : "not synced"));
        var last = inf.lastWatchRestart, lastCell;
        if (isNum(last)) {
          lastCell = el("td", null, fmtSpan(now - last) + " ago");
          lastCell.title = fmtFull(last);
        } else {
          lastCell = el("td", "muted", "never");
        }
        add(tr,
          el("td", "res wrap", str(inf.resource)),
          ns ? el("td", "wrap", ns) : el("td", "muted", "all"),
          sel ? el("td", "wrap", sel) : el("td", "muted", "—"),
          field("td", "num", "objects", inf.objects, fmtCount(inf.objects)),
          syncCell,
          field("td", "num", "lists", inf.lists, fmtCount(inf.lists)),
          field("td", "num", "watchRestarts", inf.watchRestarts, fmtCount(inf.watchRestarts)),
          lastCell);
        return tr;
      }

      // ---- whole page ----
      function render(d) {
        var now = num(d.time), times = arr(d.historyTimes);
        var ready = d.ready === true, rd = $("readiness");
        rd.setAttribute("data-value", String(ready));
        rd.className = "pill " + (ready ? "ok" : "warn");
        rd.textContent = ready ? "ready" : "not ready";
        var reasons = arr(d.notReady), ul = $("reasons");
        ul.replaceChildren.apply(ul, reasons.map(function (r) { return el("li", null, str(r)); }));
        $("notready").hidden = ready;
        if (!ready && !reasons.length) ul.appendChild(el("li", null, "no reason given"));
        $("updated").textContent = fmtClock(now);
        $("updated").title = fmtFull(now);
        document.title = (ready ? "" : "Not ready · ") + "Plugboard";

        var plugins = arr(d.plugins), grid = $("plugins");
        $("plugin-count").textContent = plugins.length ? String(plugins.length) : "";
        if (plugins.length) {
          grid.replaceChildren.apply(grid, plugins.map(function (p) { return pluginCard(p || {}, times); }));
        } else {
          grid.replaceChildren(el("div", "empty", "No plugins configured."));
        }

        var infs = arr(d.informers), tb = $("informers");
        $("informer-count").textContent = infs.length ? String(infs.length) : "";
        if (infs.length) {
          tb.replaceChildren.apply(tb, infs.map(function (i) { return informerRow(i || {}, now); }));
        } else {
          var td = el("td", "empty-row", "No informers running yet.");
          td.colSpan = 8;
          tb.replaceChildren(add(el("tr"), td));
        }
      }

      function setStatus(ok, detail) {
        body.setAttribute("data-status", ok ? "ok" : "error");
        body.classList.toggle("stale", !ok && lastTime !== null);
        $("banner").hidden = ok;
        if (!ok) {
          $("banner-detail").textContent = "(" + detail + "; " + failures + (failures === 1 ? " failed attempt" : " failed attempts") +
            (lastTime !== null ? "; showing data from " + fmtClock(lastTime) : "") + ")";
          if (lastTime === null) {
            $("readiness").className = "pill bad";
            $("readiness").textContent = "no data";
          }
        }
      }

      function poll() {
        var ctl = typeof AbortController === "function" ? new AbortController() : null;
        var timer = ctl ? setTimeout(function () { ctl.abort(); }, TIMEOUT_MS) : null;
        fetch("dashboard.json", { cache: "no-store", headers: { "Accept": "application/json" }, signal: ctl ? ctl.signal : undefined })
          .then(function (r) {
            if (!r.ok) { var err = new Error("HTTP " + r.status); err.httpStatus = r.status; throw err; }
            return r.json();
          })
          .then(function (d) {
            if (!d || typeof d !== "object") { var err = new SyntaxError("not an object"); throw err; }
            try { render(d); } catch (err2) {
              if (window.console) console.error(err2);
              err2.renderError = true;
              throw err2;
            }
            failures = 0;
            lastTime = num(d.time);
            body.setAttribute("data-snapshot-time", String(d.time));
            setStatus(true);
          })
          .catch(function (e) {
            failures++;
            var msg = !e ? "no connection" : e.name === "AbortError" ? "timed out" : e.name === "SyntaxError" ? "invalid JSON" :
              e.httpStatus ? "HTTP " + e.httpStatus : e.renderError ? "page error" : "no connection";
            setStatus(false, msg);
          })
          .then(function () {
            if (timer) clearTimeout(timer);
            setTimeout(poll, POLL_MS);
          });
      }
      poll();
    })();
    </script>
    </body>
    </html>

    """#
}
