// gwsim web dashboard: renders /api/view, the same view model the terminal dashboard draws,
// so both show the same health, split and problems. Every name from the manifests goes into
// the page as text, never as markup.
"use strict";

const SVG = "http://www.w3.org/2000/svg";
let selected = null; // id of the node whose details are shown
let lastRequest = 0;
let requestRows = [];
let view = null;

// === DOM helpers ===

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v;
    else if (k === "text") e.textContent = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const c of children.flat(Infinity)) {
    if (c !== null && c !== undefined) e.append(c);
  }
  return e;
}

function svg(tag, attrs, ...children) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "text") e.textContent = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const c of children.flat(Infinity)) {
    if (c !== null && c !== undefined) e.append(c);
  }
  return e;
}

const pct = (x) => (x === null || x === undefined ? "–" : x.toFixed(1) + "%");
const mark = (h) => ({ healthy: "✔", unknown: "?", unhealthy: "✘" })[h] || "?";
const badge = (h, text) => el("span", { class: "badge " + h, text: mark(h) + (text ? " " + text : "") });

function conditionLines(conditions) {
  return (conditions || []).map(
    (c) => `${mark(c.health)} ${c.type}=${c.status} (${c.reason})${c.message ? ": " + c.message : ""}`
  );
}

// === the resource graph ===

// Builds nodes (per column) and edges from the view model.
function graphModel(v) {
  const cols = [[], [], [], [], [], []];
  const nodes = new Map();
  const edges = [];
  const add = (col, id, kind, name, health, lines, extra) => {
    if (nodes.has(id)) return nodes.get(id);
    // `namespace/name` shows the name in bold and the namespace beside the kind.
    const slash = name.indexOf("/");
    const scoped = col !== 3 && col !== 1 && slash > 0;
    const n = { col, id, kind, name, health, lines, extra,
      short: scoped ? name.slice(slash + 1) : name, scope: scoped ? name.slice(0, slash) : "" };
    nodes.set(id, n);
    cols[col].push(n);
    return n;
  };
  const listenersOf = new Map();
  for (const g of v.gateways) {
    add(0, "gw:" + g.name, "Gateway", g.name, g.health,
      [`class ${g.class}`, `declared at ${g.origin}`, ...conditionLines(g.conditions)],
      g.addresses.join(", "));
    const ids = [];
    for (const l of g.listeners) {
      const id = `ls:${g.name}/${l.name}`;
      ids.push(id);
      add(1, id, "Listener", `${l.name} ${l.protocol}`, l.health,
        [`declared ${l.declared}`, `bound ${l.bound || "no"}`, l.note || "", `attachedRoutes ${l.attachedRoutes}`,
          ...conditionLines(l.conditions)].filter(Boolean),
        (l.hostname || "*") + " → " + (l.bound || "not bound"));
      edges.push({ from: "gw:" + g.name, to: id, health: l.health });
    }
    listenersOf.set(g.name, ids);
  }
  const traffic = new Map((v.trafficByRoute || []).map((t) => [t.route, t]));
  for (const r of v.routes) {
    const rid = "rt:" + r.name;
    add(2, rid, "HTTPRoute", r.name, r.health,
      [`declared at ${r.origin}`, ...r.parents.flatMap((p) => [`parent ${p.gateway}:`, ...conditionLines(p.conditions)])],
      r.hostnames.join(", "));
    for (const p of r.parents) {
      const parts = p.gateway.split("/");
      const gw = parts.slice(0, 2).join("/");
      const section = parts[2];
      for (const lid of listenersOf.get(gw) || []) {
        if (!section || lid.endsWith("/" + section)) edges.push({ from: lid, to: rid, health: p.health });
      }
    }
    const t = traffic.get(r.name);
    for (const rule of (t && t.rules) || []) {
      const bad = rule.backends.some((b) => b.problem);
      const uid = "rule:" + rule.id;
      add(3, uid, "Rule", `rule ${rule.index}`, bad ? "unhealthy" : "healthy",
        [rule.id, rule.matches, `${rule.totals.requests} requests`, ...rule.backends.filter((b) => b.problem).map((b) => `${b.label}: ${b.problem}`)],
        rule.matches);
      edges.push({ from: rid, to: uid, health: "healthy" });
      for (const b of rule.backends) {
        const svc = b.name.replace(/:\d+$/, "");
        edges.push({ from: uid, to: "svc:" + svc, health: b.problem ? "unhealthy" : "healthy",
          problem: b.problem, label: [`weight ${pct(b.weightShare)}`, `seen ${pct(b.share)}`] });
      }
    }
  }
  // A backend whose Service does not exist still gets a (red) node, so its edge shows.
  for (const e of edges.filter((e) => e.to.startsWith("svc:"))) {
    if (!v.services.some((s) => "svc:" + s.name === e.to)) {
      add(4, e.to, "Service", e.to.slice(4), "unhealthy", [e.problem || "not found"], "not found");
    }
  }
  for (const s of v.services) {
    add(4, "svc:" + s.name, "Service", s.name, s.health,
      [`ports ${s.ports.join(", ")}`, `${s.pods.length}/${s.wanted} pods running`], `${s.pods.length}/${s.wanted} pods`);
    for (const p of s.pods) {
      add(5, "pod:" + p.name, "Pod", p.name, "healthy", [`deployment ${p.deployment}`, ...p.addrs], p.addrs.join(", "));
      edges.push({ from: "svc:" + s.name, to: "pod:" + p.name, health: "healthy" });
    }
  }
  // Services that no rule uses go last, so the used ones line up with their rules.
  const used = new Set(edges.filter((e) => e.from.startsWith("rule:")).map((e) => e.to));
  cols[4].sort((a, b) => (used.has(b.id) ? 1 : 0) - (used.has(a.id) ? 1 : 0));
  const svcOrder = new Map(cols[4].map((n, i) => [n.id, i]));
  const podService = new Map(edges.filter((e) => e.to.startsWith("pod:")).map((e) => [e.to, e.from]));
  cols[5].sort((a, b) => (svcOrder.get(podService.get(a.id)) ?? 99) - (svcOrder.get(podService.get(b.id)) ?? 99));
  return { cols, nodes, edges: edges.filter((e) => nodes.has(e.from) && nodes.has(e.to)) };
}

// Column positions and widths: the rule → Service gap is wide enough for the weight and
// observed share labels, the pod column for full pod names.
const COLUMNS = [
  { x: 6, w: 162, title: "GATEWAYS" }, { x: 190, w: 162, title: "LISTENERS" },
  { x: 374, w: 162, title: "HTTPROUTES" }, { x: 558, w: 150, title: "RULES" },
  { x: 830, w: 168, title: "SERVICES" }, { x: 1024, w: 230, title: "PODS" },
];

function drawGraph(v) {
  const { cols, nodes, edges } = graphModel(v);
  const width = 1260, nodeH = 46, gapY = 16, top = 26;
  const rows = Math.max(1, ...cols.map((c) => c.length));
  const height = top + rows * (nodeH + gapY) + 6;
  cols.forEach((col, c) => {
    // Centre shorter columns against the tallest one.
    const offset = ((rows - col.length) * (nodeH + gapY)) / 2;
    col.forEach((n, i) => { n.x = COLUMNS[c].x; n.w = COLUMNS[c].w; n.y = top + offset + i * (nodeH + gapY); });
  });
  const root = svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": "resource graph" });
  COLUMNS.forEach((c) => root.append(svg("text", { class: "column-title", x: c.x + 4, y: 14, text: c.title })));
  for (const e of edges) {
    const a = nodes.get(e.from), b = nodes.get(e.to);
    const x1 = a.x + a.w, y1 = a.y + nodeH / 2, x2 = b.x, y2 = b.y + nodeH / 2, mx = (x1 + x2) / 2;
    root.append(svg("path", { class: "edge " + e.health, d: `M${x1},${y1} C${mx},${y1} ${mx},${y2} ${x2},${y2}` }));
    e.label?.forEach((line, i) => root.append(svg("text", { class: "edge-label", x: mx, y: (y1 + y2) / 2 - 16 + i * 12,
      "text-anchor": "middle", text: line })));
  }
  for (const n of nodes.values()) {
    const chars = Math.floor((n.w - 14) / 7.1);
    const g = svg("g", { class: `node ${n.health}${n.id === selected ? " selected" : ""}`,
      transform: `translate(${n.x},${n.y})`, onclick: () => { selected = n.id; render(); } },
      svg("title", { text: [`${n.kind} ${n.name}`, ...n.lines].join("\n") }),
      svg("rect", { width: n.w, height: nodeH }),
      svg("text", { class: "kind", x: 8, y: 13, text: clip(`${mark(n.health)} ${n.kind.toUpperCase()}${n.scope ? " · " + n.scope : ""}`, chars + 4) }),
      svg("text", { class: "name", x: 8, y: 28, text: clip(n.short || n.name, chars) }),
      svg("text", { class: "extra", x: 8, y: 41, text: clip(n.extra || "", chars + 4) }));
    root.append(g);
  }
  const box = document.getElementById("graph");
  box.replaceChildren(root);
  const details = document.getElementById("node-details");
  const n = selected && nodes.get(selected);
  details.hidden = !n;
  if (n) {
    details.replaceChildren(el("b", { text: `${n.kind} ${n.name} ` }), badge(n.health, n.health),
      el("ul", {}, n.lines.map((l) => el("li", { class: "mono", text: l }))));
  }
}

const clip = (s, n) => (s.length > n ? s.slice(0, n - 1) + "…" : s);

// === traffic split, rates, problems, requests, events ===

function drawTraffic(v) {
  const box = document.getElementById("traffic");
  const panes = v.trafficByRoute || [];
  if (!panes.length) {
    box.replaceChildren(el("p", { class: "empty", text: "No routes." }));
    return;
  }
  const legend = el("div", { class: "legend" }, "bars:", el("i", { style: "background:var(--weight)" }), "configured weight",
    el("i", { style: "background:var(--observed)" }), "observed share");
  box.replaceChildren(legend, ...panes.map((t) => el("div", { class: "route" },
    el("h3", { text: t.route }),
    t.noTarget ? el("div", { class: "empty", text: t.noTarget }) : null,
    t.rules.map((r) => el("div", { class: "rule" },
      el("div", { class: "meta", text: `rule ${r.index} · ${r.matches} · ${r.totals.requests} requests · ${r.rps.toFixed(1)} req/s` +
        (r.totals.retries ? ` · ${r.totals.retries} retried` : "") +
        (r.totals.p50Ms !== null && r.totals.p50Ms !== undefined ? ` · p50 ${r.totals.p50Ms} ms · p99 ${r.totals.p99Ms} ms` : "") }),
      el("div", { class: "split" }, r.backends.flatMap((b) => [
        el("div", { class: "label", title: b.name, text: b.label }),
        bars(b.weightShare, b.share, false),
        el("div", { class: "nums", text: `weight ${pct(b.weightShare)} · seen ${pct(b.share)}` }),
        ...b.pods.flatMap((p) => [
          el("div", { class: "label pod", title: p.pod, text: p.pod }),
          bars(null, p.share, true),
          el("div", { class: "nums", text: `seen ${pct(p.share)} (${p.requests})` }),
        ]),
        b.problem ? el("div", { class: "label", style: "grid-column: 1 / -1; color: var(--unhealthy)", text: "✘ " + b.problem }) : null,
      ])),
      r.direct.requests ? el("div", { class: "meta", text: `${r.direct.requests} answered before a backend was chosen` }) : null)))));
}

function bars(weight, observed, pod) {
  return el("div", { class: "bars" },
    weight === null ? null : el("div", { class: "bar weight", style: `width:${weight}%` }),
    el("div", { class: "bar observed" + (pod ? " pod" : ""), style: `width:${observed || 0}%` }));
}

function drawRates(v) {
  const box = document.getElementById("rates");
  const rules = (v.trafficByRoute || []).flatMap((t) => t.rules);
  const w = 480, h = 170, left = 34, bottom = 20;
  const max = Math.max(1, ...rules.flatMap((r) => r.history));
  const colours = ["#1565c0", "#2e7d32", "#c62828", "#6a1b9a", "#ef6c00", "#00838f"];
  const root = svg("svg", { class: "chart", viewBox: `0 0 ${w} ${h}`, role: "img", "aria-label": "requests per second" },
    svg("line", { class: "axis", x1: left, y1: h - bottom, x2: w, y2: h - bottom }),
    svg("line", { class: "axis", x1: left, y1: 4, x2: left, y2: h - bottom }),
    svg("text", { x: 2, y: 12, text: String(max) }),
    svg("text", { x: 2, y: h - bottom, text: "0" }),
    svg("text", { x: left, y: h - 4, text: "−60 s" }),
    svg("text", { x: w - 26, y: h - 4, text: "now" }));
  rules.forEach((r, i) => {
    const pts = r.history.map((y, j) => {
      const x = left + ((w - left) * (60 - r.history.length + j + 1)) / 60;
      return `${x.toFixed(1)},${(h - bottom - (y / max) * (h - bottom - 8)).toFixed(1)}`;
    });
    if (pts.length) root.append(svg("polyline", { points: pts.join(" "), fill: "none", stroke: colours[i % colours.length], "stroke-width": 2 }));
  });
  const legend = el("div", { class: "legend" }, rules.map((r, i) => [
    el("i", { style: `background:${colours[i % colours.length]}` }), `${r.id} ${r.rps.toFixed(1)}/s`]));
  box.replaceChildren(root, legend);
}

function drawProblems(v) {
  const box = document.getElementById("problems");
  if (!v.problems.length) {
    box.replaceChildren(el("p", { class: "empty", text: "No problems." }));
    return;
  }
  box.replaceChildren(el("table", {},
    el("tr", {}, ["", "object", "condition", "reason", "message", "where"].map((t) => el("th", { text: t }))),
    v.problems.map((p) => el("tr", {},
      el("td", {}, badge(p.health)),
      el("td", { text: [p.object, p.place].filter(Boolean).join(" · ") }),
      el("td", { text: p.condition || "" }),
      el("td", { text: p.reason || "" }),
      el("td", { text: p.message }),
      el("td", { class: "mono problem-loc", text: p.location || "" })))));
}

function drawRequests() {
  const box = document.getElementById("requests");
  if (!requestRows.length) {
    box.replaceChildren(el("p", { class: "empty", text: "No requests yet." }));
    return;
  }
  const rows = requestRows.slice(-25).reverse();
  box.replaceChildren(el("table", {},
    el("tr", {}, ["time", "request", "status", "ms", "rule", "backend", "pod"].map((t) => el("th", { text: t }))),
    rows.map((r) => el("tr", {},
      el("td", { class: "mono", text: new Date(r.unixMs).toLocaleTimeString() }),
      el("td", { class: "mono", text: `${r.method} ${r.host}${r.path}` }),
      el("td", { class: "mono status-" + String(r.status)[0], text: String(r.status) + (r.retries ? ` (${r.retries} retried)` : "") }),
      el("td", { class: "mono", text: (r.latencyUs / 1000).toFixed(2) }),
      el("td", { class: "mono", text: r.rule || "(no match)" }),
      el("td", { class: "mono", text: r.backend }),
      el("td", { class: "mono", text: r.pod })))));
}

function drawEvents(v) {
  const box = document.getElementById("events");
  const rows = v.events.slice(-12).reverse();
  box.replaceChildren(el("table", {}, rows.map((e) => el("tr", {},
    el("td", { class: "mono", text: e.clock }), el("td", { text: e.kind }), el("td", { text: e.message })))));
}

function drawHeader(v) {
  const h = v.header;
  const parts = [
    ["", h.dir], ["seed ", String(h.seed)], ["reload #", String(h.generation)],
    ["gateways programmed ", `${h.gatewaysProgrammed}/${h.gateways}`],
    ["routes unhealthy ", `${h.routesUnhealthy}/${h.routes}`],
    ["errors ", String(h.errors)], ["warnings ", String(h.warnings)],
  ];
  document.getElementById("summary").replaceChildren(...parts.flatMap(([k, val], i) =>
    [i ? " · " : "", k, el("b", { text: val })]));
  const hint = document.getElementById("hint");
  hint.hidden = !v.emptyHint;
  hint.textContent = v.emptyHint || "";
}

function render() {
  if (!view) return;
  drawHeader(view);
  drawGraph(view);
  drawTraffic(view);
  drawRates(view);
  drawProblems(view);
  drawRequests();
  drawEvents(view);
}

// === data ===

async function refresh() {
  const [v, reqs] = await Promise.all([
    fetch("/api/view").then((r) => r.json()),
    fetch("/api/requests?since=" + lastRequest).then((r) => r.json()),
  ]);
  view = v;
  if (reqs.length) {
    lastRequest = reqs[reqs.length - 1].seq;
    requestRows = requestRows.concat(reqs).slice(-200);
  }
  render();
}

// The page polls once a second rather than holding /api/stream open: the counters are
// sampled once a second anyway, and a request that never ends would keep headless browsers
// (and their virtual time, as the end-to-end test uses) waiting forever.
const EVERY_MS = 1000;

function loop() {
  const dot = document.getElementById("live");
  refresh()
    .then(() => dot.classList.add("on"))
    .catch((e) => {
      dot.classList.remove("on");
      if (!view) document.getElementById("summary").textContent = "cannot reach gwsim: " + e;
    })
    .finally(() => setTimeout(loop, EVERY_MS));
}

loop();
