// The command centre: intake, backlog, breaches, triage (assign by hand), requests, escalation, the grid map.
import { api, countdown, el, requireSession, say, signOutButton, SEVERITY_NAMES, STATE_NAMES, when } from "./app.js";

const me = requireSession();
document.getElementById("title").textContent = me.who.town ? `指挥中心 · ${me.who.town} 分中心` : "区综治中心";
document.getElementById("who").append(`${me.who.user_id} `, signOutButton());

let taxonomy = [], departments = [], shapes = null;

async function act(c, action, extra = {}) {
  try {
    const r = await api(`/api/v1/cases/${c.case_id}/actions`, { method: "POST", body: { action, ...extra } });
    say(`${c.case_no}：${r.status === "pending" ? "已提交" : STATE_NAMES[r.state] || r.state}`, "ok");
  } catch (err) {
    say(`${c.case_no}：${err.message}`, "error");
  }
  setTimeout(refresh, 1500);
}

const line = (c, ...extra) => el("div", { class: "card" },
  el("div", {}, el("strong", {}, c.case_no), " ", el("span", { class: `badge ${c.severity}` }, SEVERITY_NAMES[c.severity] || ""), " ", c.title),
  el("div", { class: "meta" }, `${STATE_NAMES[c.state] || c.state} · ${c.lead_department || "-"} · ${c.town || "-"} ${c.grid_id || ""} · ${when(c.received_at)}`,
    // 一事多报: several independent reporters are a signal worth seeing at a glance
    c.report_count > 1 ? ` · ${c.report_count} 次反映（${c.reporter_count} 人）` : ""),
  ...extra);

function assignForm(c) {
  const category = el("select", {}, el("option", { value: "" }, "（类别不变）"), ...taxonomy.map((t) => el("option", { value: t.code, selected: t.code === c.category }, t.name)));
  const dept = el("select", {}, ...departments.map((d) => el("option", { value: d.code }, `${d.name} ${d.code}`)));
  return el("div", { class: "row" }, category, dept,
    el("button", { onclick: () => act(c, "assign", { department: dept.value, ...(category.value ? { category: category.value } : {}) }) }, "分拨"),
    el("button", { class: "secondary", onclick: () => { const why = prompt("不予受理原因"); if (why) act(c, "reject", { reason: why }); } }, "不予受理"));
}

function drawMap(openByGrid) {
  const svg = document.getElementById("map");
  if (!shapes) return;
  const counts = Object.fromEntries(openByGrid.map((g) => [g.grid_id, g.open]));
  const max = Math.max(1, ...Object.values(counts));
  const [x0, y0, x1, y1] = shapes.bbox;
  const sx = 600 / (x1 - x0), sy = 500 / (y1 - y0), s = Math.min(sx, sy);
  const pt = ([lon, lat]) => `${((lon - x0) * s).toFixed(1)},${(500 - (lat - y0) * s).toFixed(1)}`;
  svg.replaceChildren(...shapes.features.map((f) => {
    const n = counts[f.properties.grid_id] || 0;
    const shade = n ? Math.round(235 - 170 * (n / max)) : 235;
    const path = document.createElementNS("http://www.w3.org/2000/svg", "path");
    path.setAttribute("d", "M" + f.geometry.coordinates[0].map(pt).join("L") + "Z");
    path.setAttribute("fill", n ? `rgb(235,${shade},${shade})` : "#e8edf2");
    const title = document.createElementNS("http://www.w3.org/2000/svg", "title");
    title.textContent = `${f.properties.name}：在办 ${n}`;
    path.append(title);
    return path;
  }));
}

async function refresh() {
  let o;
  try { o = await api("/api/v1/centre/overview"); } catch (err) { say(`暂时无法加载：${err.message}`, "error"); return; }
  const peak = Math.max(1, ...o.per_minute.map((m) => m.reports));
  document.getElementById("intake").replaceChildren(...(o.per_minute.length ? o.per_minute.map((m) => el("div", { class: "bar" },
    el("span", {}, when(m.minute).slice(-5)),
    el("span", { class: "track" }, el("span", { class: "fill", style: `width:${Math.round(100 * m.reports / peak)}%` })),
    el("span", {}, m.reports))) : ["暂无"]));
  document.getElementById("backlog").replaceChildren(el("tr", {}, el("th", {}, "部门"), el("th", {}, "在办")),
    ...o.backlog.map((b) => el("tr", {}, el("td", {}, b.department || "-"), el("td", {}, b.open))));
  document.getElementById("breach-count").textContent = o.breaches.length;
  document.getElementById("breaches").replaceChildren(...o.breaches.map((c) => line(c,
    el("div", { class: "late" }, c.state === "dispatched" ? `签收${countdown(c.sign_deadline)}` : `办结${countdown(c.resolve_deadline)}`),
    el("button", { class: "danger", onclick: () => act(c, "escalate", { note: "指挥中心督办" }) }, "督办"))));
  document.getElementById("triage-count").textContent = o.triage.length;
  document.getElementById("triage").replaceChildren(...o.triage.map((c) => line(c, el("div", { class: "meta" }, c.triage_reason || ""), assignForm(c))));
  document.getElementById("requests").replaceChildren(...(o.requests.length ? o.requests.map((c) => line(c,
    el("div", {}, c.pending_request === "extension" ? "申请延期" : "申请挂起（缓办）"),
    el("div", { class: "row" },
      el("button", { onclick: () => act(c, "approve") }, "同意"),
      el("button", { class: "secondary", onclick: () => { const why = prompt("不同意的原因"); if (why) act(c, "refuse", { reason: why }); } }, "不同意")))) : ["暂无申请"]));
  drawMap(o.open_by_grid);
}

async function audit() {
  const actor = document.getElementById("audit-actor").value.trim();
  try {
    const rows = await api(`/api/v1/audit${actor ? "?actor=" + encodeURIComponent(actor) : ""}`);
    document.getElementById("audit").replaceChildren(el("tr", {}, ...["时间", "账号", "角色", "动作", "案件", "部门/编号"].map((h) => el("th", {}, h))),
      ...rows.map((r) => el("tr", {}, el("td", {}, when(r.at)), el("td", {}, r.actor), el("td", {}, r.role), el("td", {}, r.what), el("td", {}, r.case_id || ""), el("td", {}, r.detail || ""))));
  } catch (err) { say(err.message, "error"); }
}

async function start() {
  let list;
  [taxonomy, shapes, list] = await Promise.all([api("/api/v1/taxonomy"), api("/api/v1/grids.geojson"), api("/api/v1/departments")]);
  departments = list.filter((d) => d.code !== "ZZZX");
  if (me.who.role === "admin") {
    document.getElementById("audit-box").hidden = false;
    document.getElementById("audit-go").addEventListener("click", audit);
    audit();
  }
  refresh();
  setInterval(refresh, 10000);
}

start().catch((err) => say(`加载失败：${err.message}`, "error"));
