// Rosetta's dashboard: the little the pages need beyond HTML and htmx. No inline code runs
// (the Content-Security-Policy forbids it); everything starts from data- attributes.
(function () {
  "use strict";

  var UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];

  function humanBytes(value) {
    if (value === null || value === undefined || isNaN(value)) { return "–"; }
    var sign = value < 0 ? "-" : "";
    var size = Math.abs(value);
    var unit = 0;
    while (size >= 1024 && unit < UNITS.length - 1) { size /= 1024; unit += 1; }
    return sign + (unit === 0 ? String(Math.round(size)) : size.toFixed(size < 10 ? 2 : 1)) + " " + UNITS[unit];
  }

  // Times arrive in UTC (`<time datetime=… data-local>`); they are shown in the viewer's zone.
  function localTimes(root) {
    var times = root.querySelectorAll("time[data-local]");
    for (var i = 0; i < times.length; i += 1) {
      var at = new Date(times[i].getAttribute("datetime"));
      if (isNaN(at.getTime())) { continue; }
      times[i].title = times[i].getAttribute("datetime");
      times[i].textContent = at.toLocaleString(undefined, {
        year: "numeric", month: "short", day: "numeric",
        hour: "2-digit", minute: "2-digit", second: "2-digit"
      });
    }
  }

  // A chart: `<div class="chart" data-chart="ID">` drawn from the JSON in `<script
  // type="application/json" id="ID">`: {"from", "to", "x": [unix seconds], "series":
  // [{"label", "unit", "values"}]}; the time axis spans from..to, whatever the points;
  // unit "bytes" is shown in MiB/GiB.
  function formatValue(unit, value) {
    if (value === null || value === undefined) { return "–"; }
    if (unit === "bytes") { return humanBytes(value); }
    var digits = value !== 0 && Math.abs(value) < 10 ? 2 : 0;
    if (unit === "seconds") { return value.toFixed(digits) + " s"; }
    if (unit === "per_second") { return value.toFixed(digits) + "/s"; }
    return String(value);
  }

  var COLOURS = ["#2563eb", "#d97706", "#059669", "#db2777"];

  function drawChart(holder) {
    if (holder.dataset.drawn === "yes" || typeof window.uPlot !== "function") { return; }
    var source = document.getElementById(holder.dataset.chart);
    if (!source) { return; }
    var data;
    try { data = JSON.parse(source.textContent); } catch (e) { return; }
    holder.dataset.drawn = "yes";
    if (!data.x || data.x.length === 0) { return; }
    var unit = data.series.length > 0 ? data.series[0].unit : "";
    var series = [{}];
    var columns = [data.x];
    data.series.forEach(function (s, i) {
      series.push({
        label: s.label,
        stroke: COLOURS[i % COLOURS.length],
        width: 2,
        value: function (u, v) { return formatValue(s.unit, v); }
      });
      columns.push(s.values);
    });
    var width = function () { return Math.max(280, holder.clientWidth); };
    var chart = new window.uPlot({
      width: width(),
      height: 240,
      series: series,
      scales: { x: { time: true, range: function () { return [data.from, data.to]; } } },
      axes: [{}, { size: 80, values: function (u, ticks) {
        return ticks.map(function (v) { return formatValue(unit, v); });
      } }]
    }, columns, holder);
    window.addEventListener("resize", function () {
      chart.setSize({ width: width(), height: 240 });
    });
  }

  function drawCharts(root) {
    var holders = root.querySelectorAll("[data-chart]");
    for (var i = 0; i < holders.length; i += 1) { drawChart(holders[i]); }
  }

  // Live updates: the regions that poll (hx-trigger="every …") say plainly when the server
  // cannot be reached, and when it answers again.
  var paused = false;
  var resumedTimer = null;

  function banner(text, kind) {
    var status = document.getElementById("live-status");
    if (!status) { return; }
    status.textContent = text;
    status.className = "live-status " + kind;
    status.hidden = text === "";
  }

  function isPoll(event) {
    var elt = event.detail && event.detail.elt;
    return !!(elt && elt.hasAttribute && elt.hasAttribute("data-live"));
  }

  document.addEventListener("htmx:sendError", function (event) {
    if (!isPoll(event)) {
      banner("The server cannot be reached: nothing was changed. Try again when it is back.", "error");
      return;
    }
    paused = true;
    if (resumedTimer) { clearTimeout(resumedTimer); resumedTimer = null; }
    banner("Live updates paused: the server cannot be reached. Retrying every few seconds…", "paused");
  });
  document.addEventListener("htmx:timeout", function (event) {
    if (!isPoll(event)) { return; }
    paused = true;
    banner("Live updates paused: the server is not answering. Retrying every few seconds…", "paused");
  });
  document.addEventListener("htmx:responseError", function (event) {
    var status = event.detail.xhr ? event.detail.xhr.status : 0;
    if (status === 401) {
      banner("Your session has ended: sign in again to see live figures.", "error");
      return;
    }
    if (isPoll(event)) {
      paused = true;
      banner("Live updates paused: the server answered " + status + ". Retrying every few seconds…", "paused");
    }
  });
  // Any answer means the server is back. (Not only a poll's: after a region is swapped, htmx
  // reports the poll on the region's parent, which is not marked.)
  document.addEventListener("htmx:afterRequest", function (event) {
    if (!event.detail.successful || !paused) { return; }
    paused = false;
    banner("Live updates resumed.", "resumed");
    resumedTimer = setTimeout(function () { banner("", ""); }, 4000);
  });

  document.addEventListener("htmx:load", function (event) {
    localTimes(event.target);
    drawCharts(event.target);
  });
  document.addEventListener("DOMContentLoaded", function () {
    localTimes(document);
    drawCharts(document);
  });
}());
