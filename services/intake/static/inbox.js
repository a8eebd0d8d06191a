// 任务收件箱: the unit's tasks (GET /tasks), polled every few seconds, with each open task's
// nearest clock counting down; a row opens the task (task.js).
import { api } from "./api.js";
import { clockFor } from "./clock.js";
import { $, fmtTime, h, notice } from "./dom.js";
import { pagedTable } from "./table.js";
import { showTask } from "./task.js";

const POLL_MS = 4000;
const OPEN = new Set(["pending", "signed", "paused"]);
const CLOCK_FETCH_LIMIT = 60; // open tasks whose clocks are fetched for the list

let table;
let timer = null;
let signature = "";
let selectedId = null;
const clocks = new Map(); // case_id -> {deadline, fetchedAt, state}

function nearestClock(detail, task) {
  // A unit's own clocks: the 主办 unit's, or a 协办 unit's copy (its unit is named on the clock).
  const own = (d) => (task?.role === "co" ? d.unit === task.unit : !d.co_unit);
  const open = (detail.deadlines || []).filter((d) => d.state !== "met" && own(d));
  return open.sort((a, b) => a.remaining_hours - b.remaining_hours)[0] || null;
}

function clockCell(task) {
  const slot = h("span", { "data-clock-case": task.case_id });
  fillClock(slot, task.case_id);
  return slot;
}

function fillClock(slot, caseId) {
  const known = clocks.get(caseId);
  if (!known) { slot.replaceChildren("…"); return; }
  if (!known.deadline) { slot.replaceChildren("–"); return; }
  slot.replaceChildren(h("small", {}, `${known.deadline.label || known.deadline.name} `), clockFor(known.deadline, known.fetchedAt, h));
}

const COLUMNS = [
  { label: "查询码", value: (t) => h("span", {}, t.urgent ? h("span", { class: "tag urgent", title: `紧急诉求 联动 ${(t.urgent_lines || []).join("、")}` }, "紧急") : null, t.urgent ? " " : null, h("span", { class: "code" }, t.query_code)) },
  { label: "状态", value: (t) => [h("span", { class: `tag state-${t.state}` }, t.state_label),
    t.role === "co" ? h("span", { class: "tag co-task", title: "协办：提交协办意见，主办单位负责答复群众" }, "协办") : null] },
  { label: "主题", value: (t) => t.topic || "–" },
  { label: "严重程度", value: (t) => h("span", { class: `sev sev-${t.severity}` }, t.severity || "–") },
  { label: "摘要", value: (t) => t.excerpt, class: "excerpt" },
  { label: "派单时间", value: (t) => fmtTime(t.assigned_at) },
  { label: "时限", value: (t) => (OPEN.has(t.state) ? clockCell(t) : "–") },
];

/** Fetch the clocks of open tasks we do not know yet, a few at a time. */
async function loadClocks(tasks) {
  const wanted = tasks.filter((t) => OPEN.has(t.state) && !clocks.has(t.case_id)).slice(0, CLOCK_FETCH_LIMIT);
  const queue = [...wanted];
  const worker = async () => {
    for (let task = queue.shift(); task; task = queue.shift()) {
      try {
        const fetchedAt = Date.now();
        const detail = await api(`/cases/${task.case_id}`);
        clocks.set(task.case_id, { deadline: nearestClock(detail, task), fetchedAt, state: task.state });
      } catch {
        clocks.set(task.case_id, { deadline: null, fetchedAt: Date.now(), state: task.state });
      }
      for (const slot of document.querySelectorAll(`[data-clock-case="${task.case_id}"]`)) fillClock(slot, task.case_id);
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
}

async function load(force = false) {
  const state = $("#inbox-state").value;
  try {
    const result = await api(`/tasks?${new URLSearchParams({ limit: "500", ...(state ? { state } : {}) })}`);
    // Open 紧急诉求 first: their clocks run in minutes.
    const pressing = (t) => (t.urgent && OPEN.has(t.state) ? 0 : 1);
    const tasks = (result.items || []).slice().sort((a, b) => pressing(a) - pressing(b));
    const next = tasks.map((t) => `${t.id}:${t.state}`).join(",");
    for (const t of tasks) if (clocks.get(t.case_id)?.state !== t.state) clocks.delete(t.case_id);
    $("#inbox-updated").textContent = `共 ${tasks.length} 项，更新于 ${fmtTime(new Date().toISOString(), false)}`;
    if (force || next !== signature) {
      signature = next;
      table.update(tasks);
      loadClocks(tasks);
    }
    return tasks;
  } catch (err) {
    notice($("#inbox-updated"), err.message, "error");
    return [];
  }
}

async function open(task, message = "") {
  selectedId = task.id;
  for (const tr of document.querySelectorAll("#inbox-table tr.selected")) tr.classList.remove("selected");
  await showTask($("#task-detail"), task, afterStep, message);
}

async function afterStep(task, message) {
  clocks.delete(task.case_id);
  const tasks = await load(true);
  const fresh = tasks.find((t) => t.id === task.id) || task;
  await open(fresh, message);
}

export function init(context) {
  $("#inbox-unit").textContent = context.me.unit ? `单位：${context.units.find((u) => u.code === context.me.unit)?.name || context.me.unit}` : "全部单位";
  table = pagedTable($("#inbox-table"), COLUMNS, {
    pageSize: 50,
    empty: "暂无任务",
    onRowClick: (task, tr) => { open(task); tr.classList.add("selected"); },
    rowClass: (task) => [task.id === selectedId ? "selected" : "", task.urgent ? "urgent-row" : ""].join(" ").trim() || undefined,
  });
  $("#inbox-state").addEventListener("change", () => load(true));
  $("#inbox-refresh").addEventListener("click", () => { clocks.clear(); load(true); });
}

export function show() {
  load(true);
  clearInterval(timer);
  timer = setInterval(() => { if (!document.hidden) load(); }, POLL_MS);
}

export function hide() {
  clearInterval(timer);
}
