// One task of the inbox: the case, its clocks counting down, its history, and the unit's steps
// (签收, 答复, 退回, 申请延期, 挂起/恢复) with the API's Chinese error messages.
import { api } from "./api.js";
import { clockFor } from "./clock.js";
import { CHANNELS, fmtTime, h, notice } from "./dom.js";
import { formValues } from "./formkit.js";
import { CLOCK_STATES, KIND_LABELS } from "./labels.js";

// Which steps each task state allows (the backend's workflow rules decide; this only hides buttons).
const STEPS = {
  pending: ["sign", "return"],
  signed: ["answer", "extend", "pause", "return"],
  paused: ["resume", "extend"],
};
const STEP_LABELS = { sign: "签收", answer: "答复", return: "退回", extend: "申请延期", pause: "挂起", resume: "恢复办理" };

// The fields each step asks for; steps without fields are sent at once.
const STEP_FIELDS = {
  answer: [
    { name: "answer", label: "答复内容（内部）", kind: "textarea", required: true },
    { name: "public_answer", label: "公开答复（群众凭查询码可见）", kind: "textarea" },
  ],
  return: [{ name: "reason", label: "退回理由（非本单位职责的依据）", kind: "textarea", required: true }],
  extend: [
    { name: "days", label: "延期天数", kind: "number", required: true, min: 1, max: 30 },
    { name: "reason", label: "延期理由", kind: "textarea", required: true },
  ],
  pause: [{ name: "reason", label: "挂起理由（如等待群众补充材料）", kind: "textarea", required: true }],
};

function stepForm(task, step, done, status) {
  const inputs = STEP_FIELDS[step].map((f) =>
    h("label", {}, f.label,
      f.kind === "textarea"
        ? h("textarea", { name: f.name, rows: 3, required: f.required })
        : h("input", { name: f.name, type: f.kind, min: f.min, max: f.max, required: f.required })));
  const form = h("form", { class: "stack step-form", "aria-label": STEP_LABELS[step] }, ...inputs,
    h("div", { class: "actions" },
      h("button", { type: "submit", class: "primary" }, `确认${STEP_LABELS[step]}`),
      h("button", { type: "button", class: "ghost", onclick: () => form.remove() }, "取消")));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    await act(task, step, formValues(form), done, status);
  });
  return form;
}

async function act(task, step, body, done, status) {
  try {
    const result = await api(`/tasks/${task.id}/${step}`, { method: "POST", body });
    done(`${STEP_LABELS[step]}成功，任务状态：${result.state_label}`);
  } catch (err) {
    notice(status, err.message, "error");
  }
}

function deadlines(detail, fetchedAt) {
  if (!detail.deadlines?.length) return h("p", { class: "muted" }, "暂无时限（尚未开始计时）。");
  return h("table", { class: "grid compact" },
    h("thead", {}, h("tr", {}, ["时限", "截止时间", "倒计时", "状态"].map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", {}, detail.deadlines.map((d) => h("tr", {},
      h("td", {}, d.label || d.name),
      h("td", {}, fmtTime(d.due_at), d.provisional
        ? h("small", { class: "tag provisional", title: "该年度放假安排尚未公布，按法定节假日和周末暂定，公布后自动重算" }, "暂定")
        : null),
      h("td", {}, clockFor(d, fetchedAt, h)),
      h("td", {}, CLOCK_STATES[d.state] || d.state,
        d.paused_seconds ? h("small", { class: "muted" }, `（累计挂起 ${(d.paused_seconds / 3600).toFixed(1)} 小时）`) : null)))));
}

function history(detail) {
  return h("ol", { class: "history" }, (detail.history || []).map((e) => {
    const ev = e.event || {};
    const note = ev.note || ev.reason || ev.step || "";
    return h("li", {}, h("time", {}, fmtTime(e.at)), " ", h("strong", {}, KIND_LABELS[e.kind] || e.kind),
      ev.actor ? ` · ${ev.actor}` : "", ev.unit_name ? ` · ${ev.unit_name}` : "", note ? ` · ${note}` : "");
  }));
}

/** Render the task and its case into `panel`; `changed(message)` reloads the inbox after a step. */
export async function showTask(panel, task, changed, flash = "") {
  panel.replaceChildren(h("p", { class: "muted" }, "加载中…"));
  let detail;
  const fetchedAt = Date.now();
  try {
    detail = await api(`/cases/${task.case_id}`);
  } catch (err) {
    panel.replaceChildren(h("p", { class: "notice error", role: "alert" }, err.message));
    return;
  }
  const status = h("p", { class: "notice", role: "status", hidden: true });
  if (flash) notice(status, flash, "ok");
  const formSlot = h("div");
  const reload = (message) => changed(task, message);
  const buttons = (STEPS[task.state] || []).map((step) =>
    h("button", {
      type: "button", class: step === "sign" || step === "answer" ? "primary" : "", "data-step": step,
      onclick: () => (STEP_FIELDS[step]
        ? formSlot.replaceChildren(stepForm(task, step, reload, status))
        : act(task, step, {}, reload, status)),
    }, STEP_LABELS[step]));
  const parts = [
    h("h3", {}, "任务 ", h("span", { class: "code" }, task.query_code), " ", h("span", { class: `tag state-${task.state}` }, task.state_label)),
    detail.urgent ? h("p", { class: "urgent-banner", role: "alert" },
      h("strong", {}, "紧急诉求：请立即签收处置"),
      (detail.handovers || []).length
        ? ` · 已转接 ${detail.handovers.map((x) => `${x.line}（${fmtTime(x.at)}）`).join("、")}`
        : (detail.urgent_lines || []).length ? ` · 联动 ${detail.urgent_lines.join("、")}` : "",
      (detail.urgent_reasons || []).length ? `（${detail.urgent_reasons.join("；")}）` : "") : null,
    h("dl", { class: "facts" },
      h("dt", {}, "渠道"), h("dd", {}, CHANNELS[detail.channel] || detail.channel),
      h("dt", {}, "主题"), h("dd", {}, [detail.topic, detail.subtopic].filter(Boolean).join(" / ") || "–"),
      h("dt", {}, "严重程度"), h("dd", {}, detail.severity || "–"),
      h("dt", {}, "属地"), h("dd", {}, detail.township || "–"),
      h("dt", {}, "来电人"), h("dd", {}, [detail.caller_name, detail.phone].filter(Boolean).join(" ") || "–"),
      h("dt", {}, "受理时间"), h("dd", {}, fmtTime(detail.received_at))),
    h("p", { class: "content" }, detail.content),
    detail.same_caller?.length ? h("p", { class: "muted same-caller" }, "同一来电人的其他案件：",
      detail.same_caller.map((c) => `${c.query_code}（${c.status_label}）${(c.excerpt || "").slice(0, 20)}`).join("；")) : null,
    task.answer ? h("p", { class: "answer" }, h("strong", {}, "已答复："), task.answer) : null,
    h("h4", {}, "办理时限"), deadlines(detail, fetchedAt),
    buttons.length ? h("div", { class: "actions", role: "group", "aria-label": "办理操作" }, buttons) : null,
    formSlot, status,
    h("h4", {}, "办理记录"), history(detail),
  ];
  panel.replaceChildren(...parts.filter(Boolean));
}
