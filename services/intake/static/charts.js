// Charts with the vendored Apache ECharts (static/vendor/echarts.min.js, loaded on first use).
// Without it the same data is shown as a plain list, so the dashboard never breaks.
import { fmtDate, h } from "./dom.js";

const SRC = "/static/vendor/echarts.min.js";
const RED = "#b71c1c";
const BLUE = "#1f5fa8";
let loading = null;

function loadECharts() {
  if (!loading) {
    loading = new Promise((resolve) => {
      if (window.echarts) { resolve(window.echarts); return; }
      const script = document.createElement("script");
      script.src = SRC;
      script.onload = () => resolve(window.echarts || null);
      script.onerror = () => resolve(null);
      document.head.append(script);
    });
  }
  return loading;
}

const instances = new WeakMap();

async function draw(el, option, fallback) {
  const echarts = await loadECharts();
  if (!echarts) { el.replaceChildren(fallback()); return; }
  let chart = instances.get(el);
  if (!chart) {
    el.replaceChildren();
    chart = echarts.init(el, null, { renderer: "canvas" });
    instances.set(el, chart);
    new ResizeObserver(() => chart.resize()).observe(el);
  }
  chart.setOption(option, true);
}

const TEXT = { fontFamily: "Noto Sans CJK SC, Microsoft YaHei, PingFang SC, sans-serif" };

/** trend: [{date, received, answered}]; unit "month": each date is the first day of its month */
export function trendChart(el, trend, unit = "day") {
  // fmtDate gives 2026年11月01日: a month is its first eight characters, a day its last six.
  const label = (d) => (unit === "month" ? fmtDate(d.date).slice(0, 8) : fmtDate(d.date).slice(5));
  const named = (d) => (unit === "month" ? fmtDate(d.date).slice(0, 8) : fmtDate(d.date));
  return draw(el, {
    textStyle: TEXT,
    animation: false,
    tooltip: { trigger: "axis" },
    legend: { data: ["受理", "答复"], top: 0 },
    grid: { left: 40, right: 16, top: 32, bottom: 28 },
    xAxis: { type: "category", data: trend.map(label) },
    yAxis: { type: "value", minInterval: 1 },
    series: [
      { name: "受理", type: "line", smooth: true, data: trend.map((d) => d.received), itemStyle: { color: RED } },
      { name: "答复", type: "line", smooth: true, data: trend.map((d) => d.answered), itemStyle: { color: BLUE } },
    ],
  }, () => h("ul", { class: "plain" }, trend.map((d) => h("li", {}, `${named(d)}：受理 ${d.received}，答复 ${d.answered}`))));
}

/** hot: [{topic, subtopic, count}] */
export function hotTopicsChart(el, hot) {
  const top = hot.slice(0, 10).reverse();
  const label = (t) => (t.subtopic ? `${t.topic}/${t.subtopic}` : t.topic);
  return draw(el, {
    textStyle: TEXT,
    animation: false,
    tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
    grid: { left: 150, right: 24, top: 8, bottom: 24 },
    xAxis: { type: "value", minInterval: 1 },
    yAxis: { type: "category", data: top.map(label), axisLabel: { width: 140, overflow: "truncate" } },
    series: [{ name: "件数", type: "bar", barMaxWidth: 22, data: top.map((t) => t.count), itemStyle: { color: RED }, label: { show: true, position: "right" } }],
  }, () => h("ol", { class: "plain" }, hot.slice(0, 10).map((t) => h("li", {}, `${label(t)}：${t.count} 件`))));
}
