// 人工分拣: cases the classifier was unsure of (GET /review); the dispatcher sets the topic and,
// if needed, the unit (POST /cases/{id}/classify).
import { api } from "./api.js";
import { $, CHANNELS, UNAVAILABLE, fmtTime, h, notice } from "./dom.js";
import { fillPlaceSelects, formValues } from "./formkit.js";
import { pagedTable } from "./table.js";

let table;
let selected = null;

const COLUMNS = [
  { label: "查询码", value: (c) => h("span", { class: "code" }, c.query_code) },
  { label: "渠道", value: (c) => CHANNELS[c.channel] || c.channel_label || c.channel },
  { label: "受理时间", value: (c) => fmtTime(c.received_at) },
  { label: "建议主题", value: (c) => [c.topic, c.subtopic].filter(Boolean).join(" / ") || "未分类" },
  { label: "严重程度", value: (c) => c.severity || "–" },
  { label: "候选单位", value: (c) => (c.candidates || []).map((u) => u.unit_name).join("、") || "–" },
  { label: "摘要", value: (c) => c.excerpt, class: "excerpt" },
];

// The router's candidates as one-click choices of the unit.
function candidateButtons(item, form) {
  return (item.candidates || []).map((c) =>
    h("button", { type: "button", class: "small", onclick: () => { form.unit.value = c.unit_code; } },
      c.matter ? `${c.unit_name}（${c.matter}）` : c.unit_name));
}

function choose(item) {
  selected = item;
  const form = $("#classify-form");
  form.hidden = false;
  $("#classify-hint").hidden = true;
  $("#classify-case").textContent = `${item.query_code}：${item.excerpt}`;
  form.topic.value = item.topic || "";
  form.subtopic.value = item.subtopic || "";
  form.unit.value = item.unit || "";
  $("#classify-candidates").replaceChildren(...candidateButtons(item, form));
  notice(form.querySelector("[data-status]"), "");
  form.topic.focus();
}

async function load() {
  const status = $("#review-status");
  try {
    const result = await api("/review");
    const items = result.items || [];
    table.update(items);
    $("#topic-list").replaceChildren(...[...new Set(items.map((i) => i.topic).filter(Boolean))].map((t) => h("option", { value: t })));
    notice(status, `待分拣 ${items.length} 件`, "info");
  } catch (err) {
    table.update([]);
    notice(status, err.missing ? `人工分拣队列${UNAVAILABLE}` : err.message, "error");
  }
}

async function classify(ev) {
  ev.preventDefault();
  const form = ev.target;
  const status = form.querySelector("[data-status]");
  if (!selected) return;
  const { topic, subtopic, unit } = formValues(form);
  try {
    await api(`/cases/${selected.id}/classify`, { method: "POST", body: { topic, ...(subtopic ? { subtopic } : {}), ...(unit ? { unit } : {}) } });
    notice(status, `已分拣：${selected.query_code}`, "ok");
    table.update(table.rows.filter((row) => row.id !== selected.id));
    selected = null;
  } catch (err) {
    notice(status, err.missing ? `分拣功能${UNAVAILABLE}` : err.message, "error");
  }
}

export function init(context) {
  table = pagedTable($("#review-table"), COLUMNS, { pageSize: 50, empty: "暂无待分拣案件", onRowClick: choose });
  fillPlaceSelects($("#classify-form"), context.units);
  $("#classify-form").addEventListener("submit", classify);
  $("#review-refresh").addEventListener("click", load);
}

export function show() {
  load();
}
