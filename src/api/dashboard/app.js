// pylon's dashboard: reads the API every 2 s and renders plain tables. No dependencies.
"use strict";

const REFRESH_MS = 2000;
const state = { routers: [], services: [], middlewares: [], lastStats: null, rates: {} };

function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  if (cls) e.className = cls;
  return e;
}

function row(cells) {
  const tr = document.createElement("tr");
  for (const c of cells) {
    const td = document.createElement("td");
    if (c instanceof Node) td.appendChild(c); else td.textContent = c === undefined || c === null ? "" : String(c);
    tr.appendChild(td);
  }
  return tr;
}

function badge(status) {
  return el("span", status, "badge " + (status || "unknown"));
}

function fill(id, rows, emptyText) {
  const body = document.getElementById(id);
  body.replaceChildren();
  if (rows.length === 0) {
    const tr = row([emptyText]);
    tr.firstChild.colSpan = body.parentElement.querySelectorAll("th").length;
    tr.className = "empty";
    body.appendChild(tr);
    return;
  }
  for (const r of rows) body.appendChild(r);
}

async function getJson(path) {
  const r = await fetch(path, { credentials: "same-origin", cache: "no-store" });
  if (!r.ok) throw new Error(path + " answered " + r.status);
  return r.json();
}

function filters() {
  return {
    search: document.getElementById("search").value.trim().toLowerCase(),
    status: document.getElementById("status").value,
    provider: document.getElementById("provider").value,
  };
}

function matches(item, f, extra) {
  if (f.status && item.status !== f.status) return false;
  if (f.provider && item.provider !== f.provider) return false;
  if (!f.search) return true;
  const hay = [item.name, item.rule, item.service, (item.middlewares || []).join(" "), extra || ""]
    .join(" ").toLowerCase();
  return hay.includes(f.search);
}

function rate(kind, name, key) {
  const r = state.rates[kind] && state.rates[kind][name];
  return r ? r[key].toFixed(1) : "–";
}

function serversCell(svc) {
  const box = el("div", null, "servers");
  const status = svc.serverStatus || {};
  const urls = Object.keys(status);
  if (urls.length === 0) box.textContent = svc.type === "weighted" ? "weighted" : "–";
  for (const url of urls) {
    const s = el("span", url + " " + status[url], "server " + status[url].toLowerCase());
    const h = svc.serverHealth && svc.serverHealth[url];
    if (h && h.reason) s.title = h.reason;
    s.dataset.url = url;
    box.appendChild(s);
  }
  return box;
}

function render() {
  const f = filters();
  fill("routers-body", state.routers.filter((r) => matches(r, f)).map((r) => {
    const tr = row([badge(r.status), r.name, r.rule || (r.error || []).join("; "), r.priority,
      (r.using || r.entryPoints || []).join(", "), (r.middlewares || []).join(", "), r.service, r.provider,
      rate("routers", r.name, "requests")]);
    tr.dataset.name = r.name;
    return tr;
  }), "No router matches.");
  fill("services-body", state.services.filter((s) => matches(s, f, Object.keys(s.serverStatus || {}).join(" "))).map((s) => {
    const tr = row([badge(s.status), s.name, s.type || "internal", serversCell(s), s.provider,
      rate("services", s.name, "requests"), rate("services", s.name, "errors")]);
    tr.dataset.name = s.name;
    return tr;
  }), "No service matches.");
  fill("middlewares-body", state.middlewares.filter((m) => matches(m, f, m.type)).map((m) => {
    const tr = row([badge(m.status), m.name, m.type, (m.usedBy || []).join(", "), m.provider]);
    tr.dataset.name = m.name;
    return tr;
  }), "No middleware matches.");
}

function updateProviders() {
  const select = document.getElementById("provider");
  const seen = new Set([...state.routers, ...state.services, ...state.middlewares].map((x) => x.provider));
  const have = new Set([...select.options].map((o) => o.value));
  for (const p of [...seen].sort()) {
    if (p && !have.has(p)) select.appendChild(new Option(p, p));
  }
}

function computeRates(stats) {
  if (!stats.available) {
    document.getElementById("rate-requests").textContent = "metrics off";
    document.getElementById("rate-errors").textContent = "metrics off";
    return;
  }
  const now = Date.now();
  const prev = state.lastStats;
  state.lastStats = { at: now, stats };
  if (!prev) return;
  const secs = Math.max((now - prev.at) / 1000, 0.001);
  const rates = {};
  let totalReq = 0, totalErr = 0;
  for (const kind of ["entryPoints", "routers", "services"]) {
    rates[kind] = {};
    for (const [name, cur] of Object.entries(stats[kind] || {})) {
      const old = (prev.stats[kind] || {})[name] || { requests: 0, errors: 0 };
      const r = { requests: Math.max(cur.requests - old.requests, 0) / secs,
        errors: Math.max(cur.errors - old.errors, 0) / secs };
      rates[kind][name] = r;
      if (kind === "entryPoints") { totalReq += r.requests; totalErr += r.errors; }
    }
  }
  state.rates = rates;
  document.getElementById("rate-requests").textContent = totalReq.toFixed(1);
  document.getElementById("rate-errors").textContent = totalErr.toFixed(1);
}

function renderStatic(overview, entrypoints, reloads, version) {
  document.getElementById("version").textContent = "v" + version.Version + " · config version " + overview.version;
  document.getElementById("count-routers").textContent = overview.http.routers.total;
  document.getElementById("count-services").textContent = overview.http.services.total;
  document.getElementById("count-middlewares").textContent = overview.http.middlewares.total;
  fill("entrypoints-body", entrypoints.map((e) => row([e.name, e.address])), "No entry point.");
  fill("reloads-body", reloads.map((r) => row([new Date(r.atMs).toLocaleString(), r.source,
    badge(r.result === "applied" ? "enabled" : "disabled"), r.version, (r.details || []).join("; ")])), "No reload yet.");
  const left = overview.leftOut || [];
  document.getElementById("problems").hidden = left.length === 0;
  fill("problems-body", left.map((p) => row([p.provider, p.container || p.router,
    (p.label ? p.label + ": " : "") + p.error, p.hint])), "");
}

// Certificate resolvers and their certificates (/api/acme); hidden when there are none.
function renderAcme(acme) {
  const resolvers = acme.resolvers || [];
  const certs = acme.certificates || [];
  document.getElementById("acme").hidden = resolvers.length === 0 && certs.length === 0;
  fill("resolvers-body", resolvers.map((r) => row([r.name, r.caServer, r.challenge,
    r.account ? "registered" : "not yet", r.lastError || ""])), "No resolver.");
  fill("certificates-body", certs.map((c) => row([badge(c.notAfter ? "enabled" : (c.lastError ? "disabled" : "warning")),
    c.domains.join(", "), c.resolver, c.notAfter || "not issued yet", c.lastError || "", c.nextAttempt || ""])),
  "No certificate asked for.");
}

async function refresh() {
  try {
    const [overview, entrypoints, routers, services, middlewares, reloads, stats, version, acme] = await Promise.all([
      getJson("/api/overview"), getJson("/api/entrypoints"), getJson("/api/http/routers?per_page=10000"),
      getJson("/api/http/services?per_page=10000"), getJson("/api/http/middlewares?per_page=10000"),
      getJson("/api/reloads"), getJson("/api/stats"), getJson("/api/version"), getJson("/api/acme"),
    ]);
    Object.assign(state, { routers, services, middlewares });
    computeRates(stats);
    renderStatic(overview, entrypoints, reloads, version);
    renderAcme(acme);
    updateProviders();
    render();
    document.getElementById("refreshed").textContent = "updated " + new Date().toLocaleTimeString();
    document.body.dataset.loaded = "true";
  } catch (e) {
    document.getElementById("refreshed").textContent = "cannot reach the API: " + e.message;
  }
}

for (const id of ["search", "status", "provider"]) {
  document.getElementById(id).addEventListener("input", render);
}
refresh();
setInterval(refresh, REFRESH_MS);
