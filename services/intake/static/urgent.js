// 紧急诉求 (联动): a red banner above an intake form while the text reads as an emergency, naming
// the line(s) to hand over to and why; Alt+1..Alt+4 (or the buttons) record the 转接. Before the
// case is saved the first 转接 rides in the form as `handover_line`; any further one, and every one
// made after saving, goes to POST /cases/{id}/handover.
import { api } from "./api.js";
import { debounce, h } from "./dom.js";
import { plainReasons } from "./wording.js";

export const LINES = [
  ["110", "报警"],
  ["119", "火警"],
  ["120", "急救"],
  ["122", "交通事故"],
];
// A suggestion arrives ~20–60 ms after its request (measured ~20 ms warm), so 120 ms of quiet keeps the banner
// within one keystroke pause (< 300 ms) without asking on every key.
export const URGENT_WAIT_MS = 120;
const MIN_CHARS = 6;

/** The banner of one form: fed by show(suggestion), or by watch() where no suggestion panel asks. */
export function createUrgentBanner(form, { channel, textField = "content", onSuggestion = () => {} } = {}) {
  const box = h("div", { class: "urgent-banner wide", role: "alert", hidden: true, "data-urgent": "" });
  form.prepend(box);
  let hidden = form.elements.namedItem("handover_line");
  if (!hidden) {
    hidden = h("input", { type: "hidden", name: "handover_line" });
    form.append(hidden);
  }
  hidden.disabled = true; // only sent once a line is recorded
  const state = { suggestion: null, recorded: [], caseId: null };
  let generation = 0;

  function render() {
    const s = state.suggestion;
    if (!(s && s.urgent) && !state.recorded.length) { box.hidden = true; box.replaceChildren(); return; }
    const wanted = new Set((s && s.urgent_lines) || []);
    const named = LINES.filter(([line]) => wanted.has(line)).map(([line, label]) => `${line} ${label}`);
    box.hidden = false;
    box.replaceChildren(
      h("strong", { class: "urgent-title" }, "紧急诉求：请立即转接 ", named.length ? named.join("、") : "相应紧急热线"),
      s && s.urgent_reasons?.length ? h("span", { class: "urgent-reasons" }, `（${plainReasons(s.urgent_reasons).join("；")}）`) : null,
      h("div", { class: "urgent-lines" }, LINES.map(([line, label], index) => {
        const done = state.recorded.includes(line);
        return h("button", {
          type: "button",
          class: `urgent-line${wanted.has(line) ? " wanted" : ""}${done ? " done" : ""}`,
          "data-line": line,
          "aria-pressed": done ? "true" : "false",
          onclick: () => record(line),
        }, done ? `已转接 ${line}` : `转接 ${line} ${label}`, " ", h("kbd", {}, `Alt+${index + 1}`));
      })),
      state.recorded.length ? h("small", { class: "urgent-recorded" }, `已记录转接：${state.recorded.join("、")}`) : null,
    );
  }

  async function record(line) {
    if (state.recorded.includes(line)) return;
    state.recorded.push(line);
    if (state.caseId) {
      await api(`/cases/${state.caseId}/handover`, { method: "POST", body: { line } }).catch(() => {
        state.recorded = state.recorded.filter((l) => l !== line);
      });
    } else if (hidden.disabled) {
      hidden.value = line;
      hidden.disabled = false;
    }
    render();
  }

  const ask = debounce(async (text, asked) => {
    if (asked !== generation) return;
    try {
      const result = await api("/suggest", { method: "POST", body: { text, channel } });
      if (asked === generation) { state.suggestion = result; render(); onSuggestion(result); }
    } catch { /* the suggestion panel says when the classifier is down */ }
  }, URGENT_WAIT_MS);

  form.addEventListener("keydown", (ev) => {
    const index = ev.altKey && !ev.ctrlKey ? ["1", "2", "3", "4"].indexOf(ev.key) : -1;
    if (index < 0) return;
    ev.preventDefault();
    record(LINES[index][0]);
  });

  /** The text changed: once the previous case is saved, this is the next one. */
  function edited() {
    if (state.caseId) Object.assign(state, { recorded: [], caseId: null });
  }

  return {
    edited,
    /** Whether the current text reads as a 紧急诉求 or a 转接 was recorded for it. */
    isUrgent() { return Boolean(state.suggestion?.urgent || state.recorded.length); },
    /** The classifier's suggestion for the current text (from suggest.js, or asked here). */
    show(suggestion) { state.suggestion = suggestion; render(); },
    /** Ask the classifier (petitions and mentions, which have no suggestion panel). */
    watch() {
      const field = form.elements.namedItem(textField);
      field.addEventListener("input", () => {
        edited();
        generation += 1;
        const text = field.value.trim();
        if (text.length < MIN_CHARS) { state.suggestion = null; render(); return; }
        ask(text, generation);
      });
    },
    /** After saving: send the 转接 that did not fit in the body, and keep recording for this case. */
    async saved(caseId) {
      const extra = state.recorded.filter((line) => line !== (hidden.disabled ? null : hidden.value));
      state.caseId = caseId;
      for (const line of extra) await api(`/cases/${caseId}/handover`, { method: "POST", body: { line } }).catch(() => {});
      hidden.value = "";
      hidden.disabled = true;
    },
    clear() {
      generation += 1;
      Object.assign(state, { suggestion: null, recorded: [], caseId: null });
      hidden.value = "";
      hidden.disabled = true;
      render();
    },
  };
}
