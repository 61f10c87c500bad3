// The grid worker's form: report, queue offline, resend with the same report_id, verify or reopen.
import { api, el, requireSession, say, signOutButton, STATE_NAMES, when } from "./app.js";

const me = requireSession();
document.getElementById("who").append(`${me.who.user_id} `, signOutButton());

const OUTBOX = "gf_outbox";
let place = null; // {grid_id} or {location}

const outbox = () => JSON.parse(localStorage.getItem(OUTBOX) || "[]");
const saveOutbox = (items) => { localStorage.setItem(OUTBOX, JSON.stringify(items)); drawOutbox(); };

async function loadPickers() {
  const [taxonomy, grids] = await Promise.all([api("/api/v1/taxonomy"), api("/api/v1/grids")]);
  const category = document.getElementById("category");
  for (const c of taxonomy) category.append(el("option", { value: c.code }, c.name));
  const grid = document.getElementById("grid");
  for (const g of grids) grid.append(el("option", { value: g.grid_id }, `${g.town_name} ${g.village_name} ${g.name}`));
  grid.addEventListener("change", () => {
    place = grid.value ? { grid_id: grid.value } : null;
    document.getElementById("where").textContent = grid.value ? `网格 ${grid.value}` : "未定位";
  });
}

document.getElementById("locate").addEventListener("click", () => {
  if (!navigator.geolocation) { say("此设备不支持定位，请选择网格", "error"); return; }
  say("正在定位…");
  navigator.geolocation.getCurrentPosition(
    (pos) => {
      // The browser's Geolocation API gives WGS-84 (GPS) coordinates.
      place = { location: { lat: +pos.coords.latitude.toFixed(6), lon: +pos.coords.longitude.toFixed(6), datum: "WGS-84" } };
      document.getElementById("where").textContent = `定位 ${place.location.lat}, ${place.location.lon}（精度 ${Math.round(pos.coords.accuracy)} 米）`;
      say("已定位", "ok");
    },
    (err) => say(`定位失败（${err.message}），请选择网格`, "error"),
    { enableHighAccuracy: true, timeout: 15000 },
  );
});

const readPhoto = (file) => new Promise((resolve, reject) => {
  const r = new FileReader();
  r.onload = () => resolve({ type: file.type, data: r.result }); // a data: URL, kept until sent
  r.onerror = reject;
  r.readAsDataURL(file);
});

document.getElementById("report").addEventListener("submit", async (e) => {
  e.preventDefault();
  if (!place) { say("请定位或选择网格 (字段 grid_id)", "error"); return; }
  const files = [...document.getElementById("photos").files].slice(0, 9);
  const body = {
    report_id: crypto.randomUUID(),
    title: document.getElementById("title").value.trim(),
    description: document.getElementById("description").value.trim(),
    reporter_phone: document.getElementById("phone").value.trim(),
    occurred_at: new Date().toISOString(),
    handled_on_spot: document.getElementById("onspot").checked,
    ...place,
  };
  const category = document.getElementById("category").value;
  const severity = document.getElementById("severity").value;
  if (category) body.category_hint = category;
  if (severity) body.severity_hint = severity;
  localStorage.setItem("gf_phone", body.reporter_phone);
  const photos = await Promise.all(files.map(readPhoto));
  saveOutbox([...outbox(), { body, photos, tries: 0, error: null }]);
  e.target.reset();
  document.getElementById("phone").value = body.reporter_phone;
  place = null;
  document.getElementById("where").textContent = "未定位";
  say("已存入待发送，正在提交…");
  flush();
});

async function send(item) {
  const ids = [];
  for (const p of item.photos) {
    const bytes = await (await fetch(p.data)).blob();
    const receipt = await api("/api/v1/photos", { method: "POST", raw: bytes, contentType: p.type });
    ids.push(receipt.photo_id);
  }
  await api("/api/v1/reports", { method: "POST", body: { ...item.body, photo_ids: ids } });
}

let flushing = false;
async function flush() {
  if (flushing) return;
  flushing = true;
  try {
    for (const item of outbox()) {
      try {
        await send(item);
        saveOutbox(outbox().filter((x) => x.body.report_id !== item.body.report_id));
        say("上报已受理", "ok");
      } catch (err) {
        // 4xx: the report itself is wrong — show why and keep it for editing; else retry later.
        const keep = outbox().map((x) => x.body.report_id === item.body.report_id
          ? { ...x, tries: x.tries + 1, error: err.status && err.status < 500 && err.status !== 408 ? err.message : null } : x);
        saveOutbox(keep);
        if (err.status && err.status < 500) say(`上报有误：${err.message}`, "error");
      }
    }
  } finally {
    flushing = false;
    loadMine();
  }
}

function drawOutbox() {
  const items = outbox();
  document.getElementById("queued").textContent = items.length;
  const box = document.getElementById("outbox");
  box.replaceChildren(...items.map((x) => el("div", { class: "card" },
    el("div", {}, el("span", { class: "pending" }, "待发送 "), x.body.title),
    el("div", { class: "meta" }, `已尝试 ${x.tries} 次`, x.error ? ` · ${x.error}` : ""),
    x.error ? el("button", { class: "secondary", onclick: () => saveOutbox(outbox().filter((y) => y.body.report_id !== x.body.report_id)) }, "删除") : "",
  )));
}

async function act(caseId, action, reason) {
  try {
    const r = await api(`/api/v1/cases/${caseId}/actions`, { method: "POST", body: reason ? { action, reason } : { action } });
    say(r.status === "pending" ? "已提交，正在办理" : "已办理", "ok");
  } catch (err) {
    say(err.message, "error");
  }
  setTimeout(loadMine, 1500);
}

async function loadMine() {
  try {
    const rows = await api("/api/v1/my/reports");
    const box = document.getElementById("mine");
    if (!rows.length) { box.textContent = "暂无上报"; return; }
    box.replaceChildren(...rows.map((r) => el("div", { class: "card" },
      el("div", {}, el("strong", {}, r.case_no || "（立案中）"), " ", r.title),
      el("div", { class: "meta" }, `${when(r.received_at)} · ${STATE_NAMES[r.state] || "已接收"}${r.lead_department ? " · " + r.lead_department : ""}`),
      r.state === "resolved" ? el("div", { class: "row" },
        el("button", { onclick: () => act(r.case_id, "verify") }, "核查通过"),
        el("button", { class: "danger", onclick: () => { const why = prompt("核查不通过的原因"); if (why) act(r.case_id, "reopen", why); } }, "返工"),
      ) : "",
    )));
  } catch (err) {
    document.getElementById("mine").textContent = `暂时无法加载（${err.message}）`;
  }
}

document.getElementById("phone").value = localStorage.getItem("gf_phone") || "";
window.addEventListener("online", flush);
setInterval(flush, 15000);
drawOutbox();
loadPickers().catch((err) => say(`加载失败：${err.message}`, "error"));
flush();
