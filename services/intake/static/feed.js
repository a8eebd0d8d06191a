// The live event stream (Server-Sent Events from /api/v1/feed) shown on the leadership dashboard.
// It replays the last events, then follows new ones; after a disconnect it resumes after the last
// sequence number it saw, so no event is shown twice or lost.
import { api, tokenUrl } from "./api.js";
import { CHANNELS, fmtTime, h } from "./dom.js";
import { KIND_LABELS } from "./labels.js";
import { operatorRouting, plainReasons } from "./wording.js";

const MAX_ROWS = 200;
const REPLAY = 200; // events replayed on opening (not the whole history: it may hold millions)
const RETRY_MS = 2000;

function describe(item) {
  const e = item.event || {};
  switch (item.kind) {
    case "received": return (e.title ? e.title + "：" : "") + (e.content || "").slice(0, 60);
    case "classified": return `${e.topic}${e.subtopic ? "/" + e.subtopic : ""} · ${e.severity}` +
      (e.needs_review ? " · 待人工分拣" : "") + (e.severity_reasons?.length ? `（${plainReasons(e.severity_reasons).join("；")}）` : "");
    case "routed": {
      const routing = operatorRouting({ unit: { name: e.unit_name }, reason: e.reason });
      return [routing.unit || e.unit_name, ...routing.notes].join("；");
    }
    case "tracked": return (e.deadlines || []).map((d) => `${d.label}，截止 ${fmtTime(d.due_at)}${d.provisional ? "（暂定）" : ""}`).join("；");
    case "escalated": return `${e.step} → ${e.notify || ""}`;
    case "visited": return `回访评价：${e.verdict || ""}`;
    case "repeated": return `第 ${e.repeat_count} 次反映：${(e.content || "").slice(0, 50)}`;
    case "urgent": return `联动 ${(e.urgent_lines || []).join("、") || "–"} · ${e.unit_name || ""}` +
      (e.sign_due_at ? ` 须于 ${fmtTime(e.sign_due_at, false)} 前签收` : "");
    case "handed_over": return `${e.actor || ""} 转接 ${e.line || ""}${e.note ? "：" + e.note : ""}`;
    default: return [e.actor, e.note || e.message || ""].filter(Boolean).join("：");
  }
}

function row(item) {
  const tr = h("tr", {},
    h("td", {}, fmtTime(item.at, false)),
    h("td", {}, KIND_LABELS[item.kind] || item.kind),
    h("td", {}, CHANNELS[item.event?.channel] || ""),
    h("td", {}, describe(item)));
  if (item.kind === "escalated") tr.className = item.event?.step === "超期" ? "overdue" : "escalated";
  if (item.kind === "alert" || item.kind === "urgent") tr.className = "overdue";
  return tr;
}

/** The sequence number to replay from: a little before the newest case's last event. */
async function replayStart() {
  try {
    const newest = (await api("/cases?limit=1")).items[0];
    if (!newest) return 0;
    const seqs = (await api(`/cases/${newest.id}`)).history.map((e) => e.seq);
    return Math.max(0, Math.max(...seqs) - REPLAY);
  } catch {
    return 0;
  }
}

/** Follow the feed into `tbody`; `status` shows the connection; `onEvent(item)` runs per new event. */
export function startFeed({ tbody, status, onEvent }) {
  let lastSeq = -1;
  let source = null;
  let stopped = false;

  function receive(message) {
    const item = JSON.parse(message.data);
    if (item.seq <= lastSeq) return;
    lastSeq = item.seq;
    tbody.prepend(row(item));
    while (tbody.children.length > MAX_ROWS) tbody.lastChild.remove();
    onEvent(item);
  }

  function connect(since) {
    if (stopped) return;
    source = new EventSource(tokenUrl("/feed", { since }));
    for (const kind of Object.keys(KIND_LABELS)) source.addEventListener(kind, receive);
    source.onopen = () => { status.textContent = "已连接"; status.className = "live"; };
    source.onerror = () => {
      status.textContent = "连接中断，正在重连…";
      status.className = "broken";
      source.close();
      setTimeout(() => connect(Math.max(lastSeq, 0)), RETRY_MS);
    };
  }

  replayStart().then((since) => { lastSeq = since; connect(since); });
  return { stop() { stopped = true; source?.close(); } };
}
