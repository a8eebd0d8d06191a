// Live feed page: every asset is served locally (government intranets have no internet).
"use strict";
const KINDS = { received: "受理", classified: "分类", routed: "转办", tracked: "开始计时", escalated: "督办" };
const CHANNELS = { hotline: "热线", petition: "信访", media: "舆情" };
const rows = document.getElementById("events");

function describe(item) {
  const e = item.event;
  switch (item.kind) {
    case "received": return (e.title ? e.title + "：" : "") + e.content.slice(0, 60);
    case "classified": return `${e.topic}${e.subtopic ? "/" + e.subtopic : ""} · ${e.severity}` +
      (e.needs_review ? " · 待人工分拣" : "") + (e.severity_reasons.length ? `（${e.severity_reasons.join("；")}）` : "");
    case "routed": return `${e.unit_name}：${e.reason}`;
    case "tracked": return e.deadlines.map(d => `${d.label}，截止 ${new Date(d.due_at).toLocaleString("zh-CN", { timeZone: "Asia/Shanghai" })}`).join("；");
    case "escalated": return `${e.step} → ${e.notify}`;
    default: return "";
  }
}

function add(item) {
  const tr = document.createElement("tr");
  if (item.kind === "escalated") tr.className = item.event.step === "超期" ? "overdue" : "escalated";
  const cells = [new Date(item.at).toLocaleTimeString("zh-CN", { timeZone: "Asia/Shanghai" }),
    KINDS[item.kind] || item.kind, CHANNELS[item.event.channel] || "", describe(item)];
  for (const text of cells) { const td = document.createElement("td"); td.textContent = text; tr.appendChild(td); }
  rows.prepend(tr);
  while (rows.children.length > 300) rows.lastChild.remove();
}

let token = sessionStorage.getItem("hotline-token");
const authed = () => ({ headers: { Authorization: "Bearer " + token } });

function connect() {
  // EventSource cannot send headers, so the feed takes the token as a query parameter.
  const source = new EventSource("/api/v1/feed?since=0&access_token=" + encodeURIComponent(token));
  for (const kind of Object.keys(KINDS)) source.addEventListener(kind, ev => add(JSON.parse(ev.data)));
  source.onopen = () => { document.getElementById("conn").textContent = "已连接"; };
  source.onerror = () => { document.getElementById("conn").textContent = "连接中断，正在重连…"; };
}

const form = document.getElementById("login");
form.addEventListener("submit", async ev => {
  ev.preventDefault();
  const body = JSON.stringify(Object.fromEntries(new FormData(form)));
  const response = await fetch("/api/v1/auth/token", { method: "POST", headers: { "content-type": "application/json" }, body });
  const result = await response.json();
  if (!response.ok) { document.getElementById("login-error").textContent = result.detail || "登录失败"; return; }
  token = result.access_token; sessionStorage.setItem("hotline-token", token);
  form.hidden = true; start();
});

function start() { connect(); if (token) start(); else form.hidden = false; }

async function refresh() {
  try {
    const response = await fetch("/api/v1/stats", authed());
    if (response.status === 401) { sessionStorage.removeItem("hotline-token"); form.hidden = false; return; }
    const stats = (await response.json()).overall;
    const set = (id, v) => { document.getElementById(id).textContent = v ?? "–"; };
    set("s-received", stats.received); set("s-on-spot", stats.answered_on_spot);
    set("s-transferred", stats.transferred); set("s-answered", stats.answered); set("s-overdue", stats.overdue);
    set("s-rate", stats.response_rate == null ? "–" : stats.response_rate + "%");
    const health = await fetch("/api/v1/health");
    const body = await health.json();
    const badge = document.getElementById("health");
    badge.textContent = body.message; badge.className = "badge " + (health.ok ? "ok" : "bad");
  } catch (err) { document.getElementById("health").textContent = "无法连接服务"; }
}
if (token) start(); else form.hidden = false;
