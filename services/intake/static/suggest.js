// As the operator types: the classifier's suggestion (POST /suggest) and similar earlier cases
// (GET /cases/similar), both debounced; stale answers are dropped; a missing endpoint shows 暂不可用.
import { api, hasEndpoint } from "./api.js";
import { UNAVAILABLE, debounce, fmtTime, h } from "./dom.js";
import { URGENT_WAIT_MS } from "./urgent.js";
import { candidatesText, operatorRouting, plainReasons } from "./wording.js";

const MIN_CHARS = 6;
// The suggestion carries the 紧急诉求 judgement, so it is asked soon (the banner must show within a
// keystroke pause); similar cases are a heavier query and can wait longer.
const SUGGEST_WAIT_MS = URGENT_WAIT_MS;
const SIMILAR_WAIT_MS = 350;

function field(label, ...value) {
  return h("div", { class: "kv" }, h("dt", {}, label), h("dd", {}, ...value));
}

// Operators see the unit, its legal basis and the likely units of a 人工分拣 in plain words; the
// router's reason and the model version are internal and shown to admins only, folded.
function renderSuggestion(s, { internals = false } = {}) {
  const topic = s.subtopic ? `${s.topic} / ${s.subtopic}` : s.topic;
  const confidence = typeof s.confidence === "number" ? `${Math.round(s.confidence * 100)}%` : "–";
  const place = s.place ? [s.place.township, s.place.village].filter(Boolean).join(" ") : "";
  const routing = operatorRouting(s);
  const severityReasons = plainReasons(s.severity_reasons);
  const candidates = candidatesText(s.candidates);
  return h(
    "dl",
    { class: "suggestion" },
    field("主题", h("strong", {}, topic || "–")),
    field("严重程度", h("span", { class: `sev sev-${s.severity}` }, s.severity || "–"),
      severityReasons.length ? h("small", {}, `（${severityReasons.join("；")}）`) : null),
    field("置信度", confidence, s.needs_review ? h("span", { class: "tag warn" }, "需人工分拣") : null),
    field("属地", place || "未识别"),
    field("建议承办", routing.unit ? h("strong", { "data-advice": "" }, routing.unit) : "–"),
    routing.notes.length ? field("说明", routing.notes.join("；")) : null,
    s.matter ? field("事项", s.matter.name) : null,
    candidates ? field("候选单位", h("span", { class: "candidates" }, candidates)) : null,
    internals && (s.reason || s.model_version)
      ? h("details", { class: "muted small internals" }, h("summary", {}, "派单依据（管理员）"),
        h("p", {}, s.reason || ""), s.model_version ? h("p", {}, `模型版本 ${s.model_version}`) : null)
      : null,
  );
}

function renderSimilar(items, onUseAnswer) {
  if (!items.length) return h("p", { class: "muted" }, "未找到相似案件。");
  return h(
    "ul",
    { class: "similar" },
    items.map((item) =>
      h(
        "li",
        {},
        h("div", { class: "similar-head" },
          h("strong", {}, [item.topic, item.subtopic].filter(Boolean).join(" / ") || "未分类"),
          h("span", { class: "tag" }, item.status_label || ""),
          h("small", { class: "muted" }, `${item.query_code || ""} · ${fmtTime(item.received_at)}`)),
        h("p", { class: "excerpt" }, item.excerpt || ""),
        item.public_answer
          ? h("div", { class: "answer" }, h("span", { class: "muted" }, "答复："), item.public_answer,
            h("button", { type: "button", class: "small", onclick: () => onUseAnswer(item) }, "参考此答复，当场解释"))
          : null,
      ),
    ),
  );
}

/** Wire the two panels; returns {update(text, township), clear()}. */
export function createAssistant({ suggestBox, similarBox, onUseAnswer, onSuggestion = () => {}, internals = false }) {
  const state = { suggest: null, similar: null }; // null: unknown, false: not deployed
  let generation = 0;

  hasEndpoint("POST", "/suggest").then((ok) => { if (ok === false) state.suggest = false; });
  hasEndpoint("GET", "/cases/similar").then((ok) => { if (ok === false) state.similar = false; });

  async function run(kind, box, request, render) {
    if (state[kind] === false) { box.replaceChildren(h("p", { class: "muted" }, UNAVAILABLE)); return; }
    const mine = generation;
    box.classList.add("loading");
    try {
      const result = await request();
      state[kind] = true;
      if (mine === generation) box.replaceChildren(render(result));
    } catch (err) {
      if (err.missing) state[kind] = false;
      if (mine === generation) box.replaceChildren(h("p", { class: "muted" }, err.missing ? UNAVAILABLE : `${UNAVAILABLE}：${err.message}`));
    } finally {
      box.classList.remove("loading");
    }
  }

  const lookup = debounce((text, township, asked) => {
    if (asked !== generation) return; // cleared or retyped since
    run("suggest", suggestBox,
      () => api("/suggest", { method: "POST", body: { text, channel: "hotline", ...(township ? { township } : {}) } }),
      (result) => { onSuggestion(result); return renderSuggestion(result, { internals }); });
  }, SUGGEST_WAIT_MS);
  const lookupSimilar = debounce((text, asked) => {
    if (asked !== generation) return;
    run("similar", similarBox,
      () => api(`/cases/similar?${new URLSearchParams({ text, limit: "5" })}`),
      (result) => renderSimilar(result.items || [], onUseAnswer));
  }, SIMILAR_WAIT_MS);

  return {
    update(text, township) {
      generation += 1;
      if (text.trim().length < MIN_CHARS) { this.clear(); return; }
      lookup(text.trim(), township, generation);
      lookupSimilar(text.trim(), generation);
    },
    clear() {
      generation += 1;
      onSuggestion(null);
      suggestBox.replaceChildren(h("p", { class: "muted" }, "输入来电内容后自动显示。"));
      similarBox.replaceChildren(h("p", { class: "muted" }, "输入来电内容后自动显示。"));
    },
  };
}
