// The department console: a live inbox (lead and co-handled cases) with countdowns and the lead's actions.
import { api, countdown, el, follow, requireSession, say, signOutButton, SEVERITY_NAMES, STATE_NAMES, when } from "./app.js";

const me = requireSession();
const dept = me.who.department;
document.getElementById("title").textContent = `部门工作台 · ${dept}`;
document.getElementById("who").append(`${me.who.user_id} `, signOutButton());

let cases = [];
const fresh = new Set();
const attached = {}; // case id → photo ids waiting for the next resolve or note

function photoPicker(c) {
  const input = el("input", { type: "file", accept: "image/jpeg,image/png,image/webp", multiple: true, hidden: true });
  input.addEventListener("change", async () => {
    try {
      for (const file of [...input.files].slice(0, 9)) {
        const r = await api("/api/v1/photos", { method: "POST", raw: file, contentType: file.type });
        (attached[c.case_id] = attached[c.case_id] || []).push(r.photo_id);
      }
      say(`${c.case_no}：已附 ${attached[c.case_id].length} 张照片，随办结或备注提交`, "ok");
    } catch (err) { say(`照片上传失败：${err.message}`, "error"); }
    draw();
  });
  const n = (attached[c.case_id] || []).length;
  return [input, el("button", { class: "secondary", onclick: () => input.click() }, n ? `照片 ${n}` : "附照片")];
}

function buttons(c) {
  const lead = c.lead_department === dept;
  const b = (label, action, extra = {}, cls = "") => el("button", { class: cls, onclick: () => act(c, action, extra) }, label);
  const ask = (label, action, question, field, cls = "secondary") => el("button", { class: cls, onclick: () => {
    const answer = prompt(question);
    if (answer) act(c, action, { [field]: answer });
  } }, label);
  if (!lead) {
    return [ask("备注", "note", "协办备注", "note"), b("协办完成", "part_done", {}, "secondary")];
  }
  const out = [];
  if (c.state === "dispatched") out.push(b("签收", "sign"), ask("退回", "return", "退回原因（将重新派遣）", "reason", "danger"));
  if (c.state === "signed") out.push(b("开始处置", "start", {}, "secondary"));
  if (c.state === "signed" || c.state === "in_progress") {
    if (c.suspended_at) out.push(b("恢复办理", "resume"));
    else {
      out.push(ask("办结", "resolve", "办理结果说明", "note"));
      if (!c.pending_request) {
        out.push(el("button", { class: "secondary", onclick: () => {
          const hours = parseInt(prompt("申请延期多少小时？") || "", 10);
          const reason = hours > 0 ? prompt("延期原因") : null;
          if (reason) act(c, "request_extension", { hours, reason });
        } }, "申请延期"));
        out.push(ask("申请挂起", "request_suspension", "挂起（缓办）原因", "reason"));
      }
    }
  }
  out.push(ask("备注", "note", "备注", "note"), ...photoPicker(c));
  return out;
}

function draw() {
  const now = Date.now();
  document.getElementById("count").textContent = cases.length;
  const box = document.getElementById("inbox");
  if (!cases.length) { box.textContent = "暂无待办"; return; }
  box.replaceChildren(...cases.map((c) => {
    const signDue = c.state === "dispatched" && c.sign_deadline;
    const deadline = signDue ? c.sign_deadline : c.resolve_deadline;
    const left = countdown(deadline, now);
    return el("div", { class: `card${fresh.has(c.case_id) ? " new" : ""}`, id: `case-${c.case_id}` },
      el("div", {}, el("strong", {}, c.case_no), " ", el("span", { class: `badge ${c.severity}` }, SEVERITY_NAMES[c.severity] || c.severity || ""),
        " ", c.title, c.lead_department === dept ? "" : el("span", { class: "badge" }, "协办")),
      el("div", { class: "meta" }, `${STATE_NAMES[c.state] || c.state} · ${c.town || ""} ${c.grid_id || ""} · 受理 ${when(c.received_at)}`,
        c.pending_request ? ` · 待审批${c.pending_request === "extension" ? "延期" : "挂起"}` : "", c.suspended_at ? " · 已挂起" : "",
        c.report_count > 1 ? ` · ${c.report_count} 次反映（${c.reporter_count} 人）` : ""),
      deadline ? el("div", { class: left.startsWith("超时") ? "late" : "ok", "data-deadline": deadline },
        `${signDue ? "签收" : "办结"}时限 ${when(deadline)} · ${left}`) : "",
      el("div", { class: "row" }, ...buttons(c)),
    );
  }));
}

async function act(c, action, extra) {
  const photos = ["resolve", "note"].includes(action) ? attached[c.case_id] || [] : [];
  try {
    const r = await api(`/api/v1/cases/${c.case_id}/actions`, { method: "POST", body: { action, ...extra, ...(photos.length ? { photos } : {}) } });
    if (photos.length) delete attached[c.case_id];
    say(r.status === "pending" ? `${c.case_no} 已提交，正在办理` : `${c.case_no} 已办理：${STATE_NAMES[r.state] || r.state}`, "ok");
  } catch (err) {
    say(`${c.case_no}：${err.message}`, "error");
  }
  setTimeout(load, 1200);
}

async function load() {
  try {
    cases = await api("/api/v1/inbox");
    draw();
  } catch (err) {
    say(`待办暂时无法加载：${err.message}`, "error");
  }
}

async function live() {
  for (;;) {
    try {
      document.getElementById("live").textContent = "实时";
      await follow("/api/v1/alerts/stream?minutes=1", (event, alert) => {
        if (event !== "alert") return;
        if (alert.kind === "escalation") {
          document.getElementById("escalations-box").hidden = false;
          document.getElementById("escalations").prepend(el("div", { class: "card new" },
            `督办 ${alert.case_no}：${alert.escalation} · ${alert.title}`));
        } else if (alert.kind === "update") { // 一事多报: one more report of a case already here
          fresh.add(alert.case_id);
          say(`${alert.case_no} 又有人反映（共 ${alert.report_count} 次）：${alert.title}`, "info");
        } else {
          fresh.add(alert.case_id);
          say(`新派遣案件 ${alert.case_no}：${alert.title}`, "info");
        }
        setTimeout(load, 1500); // the list comes from ClickHouse, a moment behind the alert
      });
    } catch (err) {
      document.getElementById("live").textContent = "重连中…";
    }
    await new Promise((r) => setTimeout(r, 3000));
  }
}

setInterval(draw, 1000); // countdowns
setInterval(load, 30000);
load();
live();
