// trilink dashboard: the record, the exercise programme and this node's picture on one time
// axis. Every text goes in with textContent (SVG titles too), never as markup.
"use strict";
(function () {
  const SVG = "http://www.w3.org/2000/svg";
  // Okabe–Ito, as trilink.alliance.timeline.COLOURS; the picture in the warning colour.
  const COLOURS = { agreements: "#0072B2", meetings: "#009E73", frameworks: "#CC79A7",
    exercises: "#E69F00", launches: "#D55E00", planned: "#56B4E9", picture: "#000000",
    warning: "#D55E00" };
  const $ = (id) => document.getElementById(id);
  const state = { data: null, from: null, to: null, zoom: "record" };
  window.trilinkTimeline = state;  // tests read it

  function node(tag, attrs, text) {
    const e = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
    if (text !== undefined) e.textContent = String(text);
    return e;
  }
  function tip(e, text) { e.append(node("title", {}, text)); return e; }
  const ms = (iso) => Date.parse(iso);

  function range(zoom) {
    const d = state.data, pic = d.picture;
    if (zoom !== "record" && pic.length) {
      const lo = Math.min(...pic.map((m) => ms(m.start_utc)));
      const hi = Math.max(...pic.map((m) => ms(m.end_utc)));
      if (zoom === "picture") {
        const pad = Math.max(5 * 60e3, (hi - lo) * 0.05);
        return [lo - pad, hi + pad];
      }
      const y = new Date(lo).getUTCFullYear();
      return [Date.UTC(y, 0, 1), Date.UTC(y + 1, 0, 1)];
    }
    const all = d.record.concat(pic);
    const hi = Math.max(...all.map((m) => ms(m.end_utc)));
    return [Date.UTC(2014, 0, 1), Date.UTC(new Date(hi).getUTCFullYear() + 1, 0, 1)];
  }

  function ticks(lo, hi) {
    const span = hi - lo, out = [];
    if (span > 2 * 365 * 864e5) {
      for (let y = new Date(lo).getUTCFullYear(); Date.UTC(y, 0, 1) <= hi; y++) {
        const t = Date.UTC(y, 0, 1); if (t >= lo) out.push([t, String(y)]);
      }
    } else if (span > 40 * 864e5) {
      const d = new Date(lo);
      for (let m = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1); m <= hi;) {
        const dd = new Date(m);
        if (m >= lo) out.push([m, dd.toISOString().slice(0, 7)]);
        m = Date.UTC(dd.getUTCFullYear(), dd.getUTCMonth() + 1, 1);
      }
    } else {
      const steps = [60e3, 5 * 60e3, 15 * 60e3, 3600e3, 6 * 3600e3, 864e5];
      const step = steps.find((s) => span / s <= 12) || 864e5;
      for (let t = Math.ceil(lo / step) * step; t <= hi; t += step) {
        out.push([t, new Date(t).toISOString().slice(span > 2 * 864e5 ? 5 : 11, 16).replace("T", " ")]);
      }
    }
    return out;
  }

  function draw() {
    const d = state.data, box = $("tl-chart");
    const [lo, hi] = range(state.zoom);
    state.from = lo; state.to = hi;
    const width = Math.max(900, box.clientWidth || 1400), left = 110, laneH = 46;
    const lanes = d.lanes, height = 40 + laneH * lanes.length + 10;
    const x = (t) => left + (width - left - 10) * (t - lo) / (hi - lo);
    const svg = node("svg", { width, height, "data-from": new Date(lo).toISOString(),
      "data-to": new Date(hi).toISOString() });
    for (const [t, label] of ticks(lo, hi)) {
      svg.append(node("line", { x1: x(t), y1: 22, x2: x(t), y2: 40 + laneH * lanes.length,
        stroke: "#bbb", "stroke-dasharray": "2,3" }));
      if (x(t) < width - 40) svg.append(node("text", { x: x(t) + 3, y: 16, "font-size": 12 }, label));
    }
    const inView = (m) => ms(m.end_utc) >= lo && ms(m.start_utc) <= hi;
    const marks = d.record.concat(d.picture).filter(inView);
    lanes.forEach((lane, i) => {
      const y = 40 + i * laneH;
      svg.append(node("text", { x: 6, y: y + 27, "font-size": 13 }, lane === "picture" ? "this picture" : lane));
      for (const m of marks.filter((mm) => mm.lane === lane)) {
        const x0 = x(Math.max(ms(m.start_utc), lo)), x1 = x(Math.min(ms(m.end_utc), hi));
        const day = m.start_utc.slice(0, 10), last = m.end_utc.slice(0, 10);
        const when = lane === "picture" ? m.start_utc.replace("T", " ").slice(0, 19) + " UTC"
          : day + (last > day && Date.parse(m.end_utc) - Date.parse(m.start_utc) > 864e5 ? ".." + new Date(ms(m.end_utc) - 864e5).toISOString().slice(0, 10) : "");
        const text = when + ": " + m.title + (m.planned ? " (planned, notional)" : "")
          + (m.exercise ? " [EXERCISE]" : "") + (m.source ? " — " + m.source : "");
        let shape;
        if (lane === "picture" && m.kind === "warning") {
          const cx = x0;
          shape = node("path", { d: `M${cx},${y + 6} l6,9 l-6,9 l-6,-9 z`, fill: COLOURS.warning,
            stroke: "#000", "stroke-dasharray": m.exercise ? "2,2" : "none", class: "mark warning" });
        } else if (lane === "launches" || lane === "picture") {
          shape = node("path", { d: `M${x0},${y + 8} l6,11 l-12,0 z`, fill: COLOURS[lane], class: "mark " + (m.kind || "launch") });
          if (lane === "picture" && x1 - x0 > 4) {
            // The object's time in the picture: grey, apart from the exercises' orange.
            svg.append(node("rect", { x: x0, y: y + 22, width: x1 - x0, height: 5, fill: "#777" }));
          }
        } else {
          shape = node("rect", { x: x0, y: y + 8, width: Math.max(x1 - x0, 3), height: laneH - 18,
            fill: COLOURS[m.planned ? "planned" : lane], opacity: 0.85, class: "mark" });
          if (m.planned) { shape.setAttribute("stroke", "#000"); shape.setAttribute("stroke-dasharray", "2,2"); }
        }
        svg.append(tip(shape, text));
      }
    });
    box.replaceChildren(svg);
    $("tl-range").textContent = new Date(lo).toISOString().slice(0, 16).replace("T", " ") + " – "
      + new Date(hi).toISOString().slice(0, 16).replace("T", " ") + " UTC";
    const body = $("tl-picture").querySelector("tbody");
    body.replaceChildren();
    for (const m of d.picture) {
      const tr = document.createElement("tr");
      for (const t of [m.start_utc.replace("T", " ").slice(0, 19), m.title + (m.exercise ? " [EXERCISE]" : "")]) {
        const td = document.createElement("td"); td.textContent = t; tr.append(td);
      }
      body.append(tr);
    }
  }

  async function load() {
    const r = await fetch("/api/timeline", { credentials: "same-origin" });
    if (r.status === 401) { $("login").hidden = false; $("tl-app").hidden = true; return false; }
    if (!r.ok) { $("tl-error").textContent = "cannot load the timeline: " + r.statusText; return false; }
    state.data = await r.json();
    $("login").hidden = true; $("tl-app").hidden = false;
    $("who").textContent = "as released to " + state.data.viewer;
    if (state.data.plan_error) $("tl-error").textContent = "programme " + state.data.plan + ": " + state.data.plan_error;
    draw();
    return true;
  }

  for (const z of ["record", "year", "picture"]) {
    $("zoom-" + z).onclick = () => { state.zoom = z; if (state.data) draw(); };
  }
  load().then((ok) => { if (ok) setInterval(load, 10000); state.ready = true; });
})();
