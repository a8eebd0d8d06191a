// 领导驾驶舱: figures of GET /stats for a period, charts, overdue cases, exports and the live feed.
// Every feed event schedules one re-fetch of the figures (coalesced), so they follow within a second.
import { api, hasEndpoint, hasParam, tokenUrl } from "./api.js";
import { hotTopicsChart, trendChart } from "./charts.js";
import { $, CHANNELS, UNAVAILABLE, beijingDate, fmtDate, fmtTime, h, notice } from "./dom.js";
import { startFeed } from "./feed.js";
import { groupTables, renderKpis } from "./statsview.js";
import { pagedTable } from "./table.js";

const REFRESH_DELAY_MS = 250; // events arriving together cause one re-fetch
const HOT_EVERY_MS = 15000; // the week's hot topics change slowly
const ACCURACY_PAGE = 500; // GET /stats/dispatch-accuracy: rows a page by default, and at most
const ACCURACY_MAX = 2000;

const period = { from: "", to: "" };
let groups;
let overdue;
let urgent;
let accuracy;
// The card's rows read so far (newest week first) and the cursor of the next page (null: all read).
const accuracyRead = { rows: [], next: null };
let refreshTimer = null;
let inFlight = false;
let dirty = false;
let hotFetchedAt = 0;
let periodSupported = null;

const DOWNLOADS = [
  ["/exports/cases.csv", {}, "案件明细 CSV"],
  ["/exports/cases.xlsx", {}, "案件明细 Excel"],
  ["/exports/stats.xlsx", {}, "统计报表 Excel"],
  ["/reports/period", { format: "md" }, "期间报告 Markdown"],
  ["/reports/period", { format: "docx" }, "期间报告 Word"],
  ["/reports/period", { format: "xlsx" }, "期间报告 Excel"],
];

async function renderDownloads() {
  const box = $("#downloads");
  const links = await Promise.all(DOWNLOADS.map(async ([path, params, label]) => {
    const available = await hasEndpoint("GET", path);
    if (available === false) return h("span", { class: "download disabled", title: UNAVAILABLE }, `${label}（${UNAVAILABLE}）`);
    const query = { ...params, from: period.from, to: period.to };
    return h("a", { class: "download", href: tokenUrl(path, query), download: "" }, label);
  }));
  box.replaceChildren(h("span", { class: "muted" }, "导出与报告："), ...links);
}

function statsQuery(from, to, path = "/stats") {
  const query = new URLSearchParams();
  if (from) query.set("from", from);
  if (to) query.set("to", to);
  return query.toString() ? `${path}?${query}` : path;
}

async function refreshHotTopics(stats) {
  const box = $("#hot-topics");
  let hot = stats.hot_topics;
  if (period.from !== beijingDate(-6) || period.to !== beijingDate(0)) {
    if (Date.now() - hotFetchedAt < HOT_EVERY_MS) return;
    hotFetchedAt = Date.now();
    hot = (await api(statsQuery(beijingDate(-6), beijingDate(0))).catch(() => ({}))).hot_topics;
  }
  if (hot === undefined) box.replaceChildren(h("p", { class: "muted" }, `热点问题统计${UNAVAILABLE}`));
  else if (!hot.length) box.replaceChildren(h("p", { class: "muted" }, "本周暂无数据"));
  else await hotTopicsChart(box, hot);
}

async function refresh() {
  if (inFlight) { dirty = true; return; }
  inFlight = true;
  try {
    const [stats, late, pressing, kept] = await Promise.all([
      api(statsQuery(period.from, period.to)),
      api("/cases?status=overdue&limit=200").catch(() => ({ items: [] })),
      // Open 紧急诉求 stay on top whatever the period, until 办结.
      api("/cases?urgent=true&open=true&limit=100").catch(() => ({ items: [] })),
      api(accuracyQuery()).catch(() => ({ items: [] })),
    ]);
    showAccuracy(kept.items || [], kept.next_cursor || null, false);
    const urgentItems = pressing.items || [];
    $("#urgent-card").hidden = !urgentItems.length;
    urgent.update(urgentItems);
    $("#urgent-count").textContent = `（${urgentItems.length} 件）`;
    renderKpis($("#kpis"), stats.overall || {});
    groups.update(stats);
    overdue.update(late.items || []);
    $("#overdue-count").textContent = late.items?.length >= 200 ? "（显示最近 200 件）" : `（${late.items?.length || 0} 件）`;
    const trend = $("#trend-chart");
    if (stats.trend === undefined) trend.replaceChildren(h("p", { class: "muted" }, `趋势统计${UNAVAILABLE}`));
    else await trendChart(trend, stats.trend, stats.trend_unit);
    await refreshHotTopics(stats);
    const scope = period.from || period.to ? `${period.from ? fmtDate(period.from) : "…"} 至 ${period.to ? fmtDate(period.to) : "…"}` : "全部";
    const note = periodSupported === false && scope !== "全部" ? "（按期间统计暂不可用，显示全部）" : "";
    $("#dash-updated").textContent = `统计范围：${scope}${note} · 更新于 ${fmtTime(new Date().toISOString(), false)}`;
  } catch (err) {
    notice($("#dash-updated"), err.message, "error");
  } finally {
    inFlight = false;
    if (dirty) { dirty = false; scheduleRefresh(); }
  }
}

// A re-fetch keeps as many of the card's rows as were read ("加载更早的周"), up to the API's page limit.
function accuracyQuery(cursor = null) {
  const base = statsQuery(period.from, period.to, "/stats/dispatch-accuracy");
  const query = new URLSearchParams();
  if (cursor) query.set("cursor", cursor);
  else if (accuracyRead.rows.length > ACCURACY_PAGE) query.set("limit", String(Math.min(ACCURACY_MAX, accuracyRead.rows.length)));
  if (!query.toString()) return base;
  return `${base}${base.includes("?") ? "&" : "?"}${query}`;
}

function showAccuracy(items, next, more) {
  accuracyRead.rows = more ? accuracyRead.rows.concat(items) : items;
  accuracyRead.next = next;
  accuracy.update(accuracyRead.rows);
  $("#accuracy-more-row").hidden = !next;
  $("#accuracy-shown").textContent = next ? `已显示最近 ${accuracyRead.rows.length} 行（每单位每周一行）` : "";
}

async function moreAccuracy() {
  if (!accuracyRead.next) return;
  const button = $("#accuracy-more");
  button.disabled = true;
  try {
    const page = await api(accuracyQuery(accuracyRead.next));
    showAccuracy(page.items || [], page.next_cursor || null, true);
  } catch (err) {
    notice($("#accuracy-shown"), err.message, "error");
  } finally {
    button.disabled = false;
  }
}

function scheduleRefresh() {
  if (refreshTimer) return;
  refreshTimer = setTimeout(() => { refreshTimer = null; refresh(); }, REFRESH_DELAY_MS);
}

function setPeriod(from, to) {
  period.from = from;
  period.to = to;
  accuracyRead.rows = []; // another period: its newest page again
  accuracyRead.next = null;
  const form = $("#period-form");
  form.from.value = from;
  form.to.value = to;
  renderDownloads();
  refresh();
}

const QUICK = {
  week: () => [beijingDate(-6), beijingDate(0)],
  month: () => [beijingDate(0).slice(0, 8) + "01", beijingDate(0)],
  year: () => [beijingDate(0).slice(0, 5) + "01-01", beijingDate(0)],
  all: () => ["", ""],
};

function handoverText(c) {
  const done = (c.handovers || []).map((x) => `${x.line}（${x.by} ${fmtTime(x.at)}）`);
  if (done.length) return `已转接 ${done.join("、")}`;
  return (c.urgent_lines || []).length ? `待转接 ${c.urgent_lines.join("、")}` : "–";
}

export async function init() {
  groups = groupTables($("#group-tabs"), $("#group-table"));
  urgent = pagedTable($("#urgent-table"), [
    { label: "查询码", value: (c) => h("span", {}, h("span", { class: "tag urgent" }, "紧急"), " ", h("span", { class: "code" }, c.query_code)) },
    { label: "联动", value: handoverText },
    { label: "原因", value: (c) => (c.urgent_reasons || []).join("；") || "–" },
    { label: "承办单位", value: (c) => c.unit_name || "派单中" },
    { label: "状态", value: (c) => c.status_label || c.status },
    { label: "受理时间", value: (c) => fmtTime(c.received_at) },
    { label: "摘要", value: (c) => c.excerpt, class: "excerpt" },
  ], { pageSize: 10, empty: "暂无紧急诉求" });
  accuracy = pagedTable($("#accuracy-table"), [
    { label: "周", value: (r) => `${fmtDate(r.week)} 至 ${fmtDate(r.week_end)}` },
    { label: "单位", value: (r) => r.unit_name },
    { label: "首次派单", value: (r) => String(r.routed) },
    { label: "仍由其主办", value: (r) => String(r.kept) },
    { label: "退回后改派", value: (r) => String(r.returned) },
    { label: "改派", value: (r) => String(r.reassigned) },
    { label: "准确率", value: (r) => (r.kept_rate === null ? "–" : `${r.kept_rate}%`) },
  ], { pageSize: 20, empty: "本期间暂无派单" });
  $("#accuracy-more").addEventListener("click", moreAccuracy);
  overdue = pagedTable($("#overdue-table"), [
    { label: "查询码", value: (c) => h("span", { class: "code" }, c.query_code) },
    { label: "渠道", value: (c) => CHANNELS[c.channel] || c.channel },
    { label: "主题", value: (c) => c.topic || "–" },
    { label: "承办单位", value: (c) => c.unit_name || "–" },
    { label: "受理时间", value: (c) => fmtTime(c.received_at) },
    { label: "摘要", value: (c) => c.excerpt, class: "excerpt" },
  ], { pageSize: 20, empty: "暂无超期案件" });
  $("#period-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    setPeriod(ev.target.from.value, ev.target.to.value);
  });
  for (const button of document.querySelectorAll("#period-form [data-period]")) {
    button.addEventListener("click", () => setPeriod(...QUICK[button.dataset.period]()));
  }
  // This month by default: the period leadership reads day to day; 全部 is one click away. Set before
  // anything is awaited, so that a period chosen while the page loads is not overwritten by it.
  const [from, to] = QUICK.month();
  Object.assign(period, { from, to });
  $("#period-form").from.value = from;
  $("#period-form").to.value = to;
  periodSupported = await hasParam("GET", "/stats", "from");
  renderDownloads();
  await refresh();
  startFeed({ tbody: $("#events"), status: $("#conn"), onEvent: scheduleRefresh });
}
