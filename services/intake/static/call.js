// 来电登记: the keyboard-first call form. Alt+J / Alt+Z pick the outcome, Ctrl+Enter saves; the
// classifier's suggestion and similar cases appear beside the form while the operator types, and a
// red banner when it reads as a 紧急诉求 (Alt+1..Alt+4 record the 转接 to 110/119/120/122).
import { api } from "./api.js";
import { $, h, notice } from "./dom.js";
import { autoTownship, fillSelect, formValues, submitOnCtrlEnter, townships } from "./formkit.js";
import { createAssistant } from "./suggest.js";
import { createUrgentBanner } from "./urgent.js";

const SHORTCUTS = { j: "answered_on_spot", z: "transfer" };
const OUTCOME_LABELS = { answered_on_spot: "当场解释", transfer: "转办" };

let form;
let assistant;
let banner;
let onSpotConfirmed = false;

function pickOutcome(value) {
  const radio = form.querySelector(`input[name=outcome][value=${value}]`);
  radio.checked = true;
  radio.focus();
}

/** Mark the fields a 422 answer names, so the operator sees where to look. */
function markInvalid(err) {
  for (const el of form.elements) el.removeAttribute("aria-invalid");
  const detail = err.body && Array.isArray(err.body.detail) ? err.body.detail : [];
  for (const item of detail) {
    const el = form.elements.namedItem(String(item.field || "").split(".")[0]);
    if (el && el.setAttribute) el.setAttribute("aria-invalid", "true");
  }
}

async function save(ev) {
  ev.preventDefault();
  const status = $("#call-status");
  const values = formValues(form);
  const missing = [];
  if (!values.phone) missing.push("来电号码");
  if (!values.content) missing.push("来电内容");
  if (!values.outcome) missing.push("处理方式（Alt+J 当场解释 / Alt+Z 转办）");
  if (missing.length) { notice(status, `请填写：${missing.join("、")}`, "error"); return; }
  // A 紧急诉求 never stops at the operator: saved as 当场解释 it is still routed to a unit and tracked
  // with the urgent minute clocks (the router does so); the operator confirms with a second Ctrl+Enter.
  if (banner.isUrgent() && values.outcome === "answered_on_spot" && !onSpotConfirmed) {
    onSpotConfirmed = true;
    notice(status, "紧急诉求即使当场解释，系统仍会派承办单位处置并按紧急时限跟踪；确认当场解释请再次保存。", "error");
    return;
  }
  onSpotConfirmed = false;
  const saveButton = $("#call-save");
  saveButton.disabled = true;
  try {
    const result = await api("/calls", { method: "POST", body: values });
    const code = h("strong", { id: "call-query-code", class: "code" }, result.query_code);
    if (result.repeat_of) {
      status.replaceChildren(`该来电与未办结的案件重复（第 ${result.repeat_count} 次反映），已并入原案件，查询码 `, code, "。");
    } else if (result.same_caller?.length) {
      const others = result.same_caller.map((c) => c.query_code).join("、");
      status.replaceChildren("已保存，查询码 ", code, `，请告知来电人。同一来电人另有未办结案件 ${others}（反映的是其他事项，已分别立案）。`);
    } else {
      status.replaceChildren("已保存，查询码 ", code, "，请告知来电人。");
    }
    status.className = "notice ok";
    status.hidden = false;
    $("#call-log").prepend(h("li", {}, h("strong", { class: "code" }, result.query_code), ` ${OUTCOME_LABELS[values.outcome]} · `,
      values.handover_line ? h("span", { class: "tag urgent" }, `已转接${values.handover_line}`) : null, " ",
      values.content.slice(0, 24)));
    await banner.saved(result.id);
    form.reset();
    assistant.clear();
    $("#call-phone").focus();
  } catch (err) {
    markInvalid(err);
    notice(status, err.message, "error");
  } finally {
    saveButton.disabled = false;
  }
}

export function init(context) {
  form = $("#call-form");
  banner = createUrgentBanner(form, { channel: "hotline" });
  fillSelect($("#call-township"), townships(context.units));
  const township = autoTownship($("#call-township"));
  assistant = createAssistant({
    suggestBox: $("#suggest-box"),
    similarBox: $("#similar-box"),
    onUseAnswer: () => pickOutcome("answered_on_spot"),
    onSuggestion: (suggestion) => { banner.show(suggestion); township.offer(suggestion?.place?.township); },
    internals: context.me?.role === "admin",
  });
  // Only the operator's own pick steers the suggestion; a township found in the text follows the text.
  const changed = () => { banner.edited(); assistant.update($("#call-content").value, township.chosen()); };
  $("#call-content").addEventListener("input", changed);
  $("#call-township").addEventListener("change", changed);
  $("#view-call").addEventListener("keydown", (ev) => {
    const outcome = ev.altKey && !ev.ctrlKey && SHORTCUTS[ev.key.toLowerCase()];
    if (outcome) { ev.preventDefault(); pickOutcome(outcome); }
  });
  submitOnCtrlEnter(form);
  form.addEventListener("submit", save);
  // Only the 清空 button clears the message: a reset after saving must keep the 查询码 on screen.
  form.querySelector("[type=reset]").addEventListener("click", () => {
    assistant.clear();
    banner.clear();
    notice($("#call-status"), "");
  });
}

export function show() {
  $("#call-phone").focus();
}
