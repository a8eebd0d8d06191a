// Console entry point: login, the role's tabs, hash navigation and the health badge.
import { api, session, whenUnauthorized } from "./api.js";
import { $, h, notice } from "./dom.js";

const TABS = [
  { id: "call", label: "来电登记", roles: ["operator", "dispatcher", "admin"], load: () => import("./call.js") },
  { id: "petition", label: "信访登记", roles: ["operator", "dispatcher", "admin"], load: () => import("./petition.js") },
  { id: "mention", label: "舆情登记", roles: ["operator", "dispatcher", "admin"], load: () => import("./mention.js") },
  { id: "review", label: "人工分拣", roles: ["dispatcher", "admin"], load: () => import("./review.js") },
  { id: "inbox", label: "任务收件箱", roles: ["unit", "dispatcher", "admin"], load: () => import("./inbox.js") },
  { id: "dashboard", label: "领导驾驶舱", roles: ["leader", "dispatcher", "admin"], load: () => import("./dashboard.js") },
  { id: "matters", label: "事项目录", roles: ["admin"], load: () => import("./matters.js") },
];
const HOME = { operator: "call", dispatcher: "review", unit: "inbox", leader: "dashboard", admin: "dashboard" };

const context = { me: null, units: [], county: "" };
const started = new Map(); // tab id -> view module, initialised once
let current = null;

async function showTab(id) {
  const tabs = TABS.filter((t) => t.roles.includes(context.me.role));
  const tab = tabs.find((t) => t.id === id) || tabs.find((t) => t.id === HOME[context.me.role]) || tabs[0];
  if (current && current !== tab.id) started.get(current)?.hide?.();
  for (const t of TABS) $(`#view-${t.id}`).hidden = t.id !== tab.id;
  for (const button of document.querySelectorAll("#tabs [role=tab]")) {
    const active = button.dataset.tab === tab.id;
    button.setAttribute("aria-selected", String(active));
    button.tabIndex = active ? 0 : -1;
  }
  current = tab.id;
  if (!started.has(tab.id)) {
    const view = await tab.load();
    started.set(tab.id, view);
    await view.init(context);
  }
  started.get(tab.id).show?.();
}

function buildTabs() {
  const nav = $("#tabs");
  const tabs = TABS.filter((t) => t.roles.includes(context.me.role));
  nav.replaceChildren(
    h("div", { role: "tablist", "aria-label": "功能" },
      tabs.map((t) => h("a", { role: "tab", href: `#${t.id}`, "data-tab": t.id, "aria-controls": `view-${t.id}` }, t.label))),
  );
  nav.hidden = false;
}

async function enter() {
  try {
    context.me = await api("/me");
  } catch {
    return showLogin();
  }
  const units = await api("/units").catch(() => ({ items: [], county: "" }));
  context.units = units.items || [];
  context.county = units.county || "";
  if (context.county) $("#county-name").textContent = `${context.county} · 政务服务工作台`;
  $("#login-view").hidden = true;
  $("#user-name").textContent = `${context.me.username}（${context.me.role_label || context.me.role}）`;
  $("#user-box").hidden = false;
  buildTabs();
  await showTab(location.hash.slice(1));
}

function showLogin() {
  for (const t of TABS) $(`#view-${t.id}`).hidden = true;
  $("#tabs").hidden = true;
  $("#user-box").hidden = true;
  $("#login-view").hidden = false;
  $("#login-username").focus();
}

$("#login-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const form = ev.target;
  const error = $("#login-error");
  notice(error, "");
  try {
    const body = { username: form.username.value.trim(), password: form.password.value };
    const result = await api("/auth/token", { method: "POST", body, auth: false });
    session.token = result.access_token;
    form.reset();
    await enter();
  } catch (err) {
    notice(error, err.message || "登录失败", "error");
  }
});

$("#logout").addEventListener("click", () => {
  session.token = null;
  location.hash = "";
  location.reload();
});

window.addEventListener("hashchange", () => { if (context.me) showTab(location.hash.slice(1)); });
whenUnauthorized(() => { session.token = null; notice($("#login-error"), "登录已过期，请重新登录", "error"); showLogin(); });

async function checkHealth() {
  const badge = $("#health");
  try {
    const response = await fetch("/api/v1/health");
    const body = await response.json();
    badge.textContent = response.ok ? "系统运行正常" : body.message || "部分服务异常";
    badge.className = "badge " + (response.ok ? "ok" : "bad");
  } catch {
    badge.textContent = "无法连接服务";
    badge.className = "badge bad";
  }
}

checkHealth();
setInterval(checkHealth, 30000);
if (session.token) enter(); else showLogin();
