// gridflow pages: what every page shares — the session, API calls, live events, formatting.
// Plain ES modules, no build step and nothing from a CDN: the district's intake serves these files.

const TOKEN_KEY = "gf_token";
const WHO_KEY = "gf_who";

export function session() {
  const token = localStorage.getItem(TOKEN_KEY);
  const who = JSON.parse(localStorage.getItem(WHO_KEY) || "null");
  return token && who ? { token, who } : null;
}

export function remember(s) {
  localStorage.setItem(TOKEN_KEY, s.token);
  localStorage.setItem(WHO_KEY, JSON.stringify(s));
}

export function forget() {
  localStorage.removeItem(TOKEN_KEY);
  localStorage.removeItem(WHO_KEY);
}

// The page each role lands on after signing in.
export function homeOf(role) {
  return { grid_worker: "report.html", integrator: "report.html", department_staff: "console.html",
           department_head: "console.html", command_centre: "centre.html", admin: "centre.html" }[role] || "index.html";
}

// Send the visitor to sign in unless a session exists; returns the session.
export function requireSession() {
  const s = session();
  if (!s) { location.href = "index.html"; throw new Error("not signed in"); }
  return s;
}

export class ApiError extends Error {
  constructor(status, body) {
    super(body && body.message ? body.message : `HTTP ${status}`);
    this.status = status;
    this.body = body || {};
  }
}

// fetch with the bearer token; JSON in and out; a 401 ends the session.
export async function api(path, { method = "GET", body, raw, contentType } = {}) {
  const s = session();
  const headers = {};
  if (s) headers.Authorization = `Bearer ${s.token}`;
  let payload;
  if (raw !== undefined) { payload = raw; headers["Content-Type"] = contentType; }
  else if (body !== undefined) { payload = JSON.stringify(body); headers["Content-Type"] = "application/json"; }
  const r = await fetch(path, { method, headers, body: payload });
  const text = await r.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch (_) { data = { message: text }; }
  if (r.status === 401 && s) { forget(); }
  if (!r.ok && r.status !== 202) throw new ApiError(r.status, data);
  return data;
}

// Server-sent events over fetch (EventSource cannot send an Authorization header).
export async function follow(path, onEvent, { signal } = {}) {
  const s = session();
  const r = await fetch(path, { headers: { Authorization: `Bearer ${s.token}` }, signal });
  if (!r.ok) throw new ApiError(r.status, null);
  const reader = r.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      let event = "message", data = "";
      for (const line of block.split("\n")) {
        if (line.startsWith("event: ")) event = line.slice(7);
        else if (line.startsWith("data: ")) data += line.slice(6);
      }
      if (data) onEvent(event, JSON.parse(data));
    }
  }
}

export const STATE_NAMES = {
  received: "已接收", accepted: "已受理", triage: "待人工分拨", dispatched: "已派遣", signed: "已签收",
  in_progress: "处置中", resolved: "已办结", closed: "已结案", rejected: "不予受理", merged: "已合并",
};

export const SEVERITY_NAMES = { P1: "紧急", P2: "重要", P3: "一般", P4: "咨询" };

export function when(iso) {
  if (!iso) return "-";
  const d = new Date(iso);
  const p = (n) => String(n).padStart(2, "0");
  return `${d.getMonth() + 1}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}

// "剩 1时05分" / "超时 12分": the time left to a deadline, for the countdowns.
export function countdown(iso, now = Date.now()) {
  if (!iso) return "";
  let s = Math.round((new Date(iso).getTime() - now) / 1000);
  const late = s < 0;
  s = Math.abs(s);
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
  const text = h ? `${h}时${String(m).padStart(2, "0")}分` : m ? `${m}分${String(sec).padStart(2, "0")}秒` : `${sec}秒`;
  return late ? `超时 ${text}` : `剩 ${text}`;
}

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null && v !== false) node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}

export function say(text, kind = "info") {
  const box = document.getElementById("message");
  if (!box) return;
  box.textContent = text;
  box.className = `message ${kind}`;
}

export function signOutButton() {
  return el("button", { class: "link", onclick: async () => {
    try { await api("/api/v1/sessions", { method: "DELETE" }); } catch (_) { /* already gone */ }
    forget();
    location.href = "index.html";
  } }, "退出登录");
}
