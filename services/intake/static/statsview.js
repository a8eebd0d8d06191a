// Rendering of GET /stats: the headline figures and the per unit / channel / topic / township tables.
// A figure the running backend does not compute yet shows 暂不可用.
import { CHANNELS, UNAVAILABLE, fmtRate, h } from "./dom.js";
import { pagedTable } from "./table.js";

const COUNTS = [
  ["received", "受理"],
  ["answered_on_spot", "当场解释"],
  ["transferred", "转办"],
  ["answered", "已答复"],
  ["open", "在办"],
  ["overdue", "超期"],
];
const RATES = [
  ["response_rate", "答复率"],
  ["on_time_rate", "按时答复率"],
  ["finish_rate", "办结率"],
  ["satisfaction_rate", "满意率"],
  ["on_spot_rate", "当场解释率"],
];
export const GROUPS = [
  ["by_unit", "按承办单位"],
  ["by_channel", "按渠道"],
  ["by_topic", "按主题"],
  ["by_township", "按乡镇（街道）"],
];

function card(key, label, value, kind) {
  const missing = value === undefined;
  return h("div", { class: `kpi ${kind}${missing ? " missing" : ""}`, id: `kpi-${key}` },
    h("b", {}, missing ? UNAVAILABLE : kind === "rate" ? fmtRate(value) : value),
    h("span", {}, label));
}

export function renderKpis(container, overall) {
  container.replaceChildren(
    ...RATES.map(([key, label]) => card(key, label, overall[key], "rate")),
    ...COUNTS.map(([key, label]) => card(key, label, overall[key], "count")),
  );
}

const rate = (key) => (row) => (row[key] === undefined ? UNAVAILABLE : fmtRate(row[key]));

export function groupColumns(group) {
  const name = group === "by_channel" ? (r) => CHANNELS[r.name] || r.name : (r) => r.name;
  return [
    { label: "名称", value: name },
    { label: "受理", value: (r) => r.received, class: "num" },
    { label: "转办", value: (r) => r.transferred, class: "num" },
    { label: "已答复", value: (r) => r.answered, class: "num" },
    { label: "超期", value: (r) => r.overdue, class: "num" },
    { label: "答复率", value: rate("response_rate"), class: "num" },
    { label: "按时答复率", value: rate("on_time_rate"), class: "num" },
    { label: "办结率", value: rate("finish_rate"), class: "num" },
    { label: "满意率", value: rate("satisfaction_rate"), class: "num" },
  ];
}

/** The group tables behind tabs; returns {update(stats)}. */
export function groupTables(tabBar, container) {
  let active = GROUPS[0][0];
  let stats = null;
  const tables = new Map();
  const panes = new Map();
  for (const [key, label] of GROUPS) {
    const pane = h("div", { role: "tabpanel", id: `group-${key}`, "aria-label": label, hidden: key !== active });
    panes.set(key, pane);
    tables.set(key, pagedTable(pane, groupColumns(key), { pageSize: 50 }));
    container.append(pane);
  }
  tabBar.replaceChildren(...GROUPS.map(([key, label]) =>
    h("button", { type: "button", role: "tab", "data-group": key, "aria-selected": String(key === active),
      onclick: () => select(key) }, label)));

  function select(key) {
    active = key;
    for (const button of tabBar.children) button.setAttribute("aria-selected", String(button.dataset.group === key));
    for (const [k, pane] of panes) pane.hidden = k !== key;
    render();
  }

  function render() {
    if (!stats) return;
    const group = stats[active];
    const pane = panes.get(active);
    pane.querySelector(".unavailable")?.remove();
    if (group === undefined) {
      tables.get(active).update([]);
      pane.prepend(h("p", { class: "notice info unavailable" }, `${UNAVAILABLE}（后端尚未提供该分组统计）`));
      return;
    }
    const rows = Object.entries(group).map(([name, counts]) => ({ name, ...counts }));
    rows.sort((a, b) => b.received - a.received);
    tables.get(active).update(rows);
  }

  return { update(newStats) { stats = newStats; render(); } };
}
