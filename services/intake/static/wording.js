// Operator language for the suggestion panel: the router's reason ("事项：… → 单位（依据）；…；匹配：…",
// "主题 X/Y（子类未配置，按一级分类）→ …") is written for admins and logs; an operator sees the
// unit, the legal basis, the 协办 units, 检举控告 notes and the likely units of a 人工分拣. Pure functions.

const SEP = "；";

/** The legal basis named after the unit in a 事项 reason, or "" (first segment, last （…）). */
function basisOf(head) {
  if (!head.startsWith("事项：")) return "";
  const target = head.split("→")[1] || "";
  const found = target.match(/（([^（）]+)）\s*$/);
  return found ? found[1].trim() : "";
}

/** The 协办 units a reason names ("A、B 协办", "属地 城厢镇 协办"). */
function helpersOf(segments) {
  const names = [];
  for (const segment of segments) {
    const found = segment.trim().match(/^(?:属地\s*)?(.+?)\s*协办$/);
    if (found) names.push(...found[1].split("、").map((n) => n.trim()).filter(Boolean));
  }
  return names;
}

/** The reason as the operator reads it: {unit, notes}. `unit` is e.g. "县公安局（依据 …）". */
export function operatorRouting(suggestion) {
  const reason = String(suggestion?.reason || "");
  const unitName = suggestion?.unit?.name || "";
  if (suggestion?.to_person || reason.includes("人工分拣")) {
    return { unit: "待派单员确定（人工分拣）", notes: accusationNotes(reason.split(SEP)) };
  }
  const segments = reason.split(SEP);
  const head = segments[0] || "";
  const basis = basisOf(head);
  const byTown = /→\s*属地\s*\S+\s*主办/.test(head);
  const why = [byTown ? "属地主办" : "", basis ? `依据 ${basis}` : ""].filter(Boolean).join("，");
  const notes = [];
  const helpers = helpersOf(segments.slice(byTown ? 1 : 0).map((s) => s.split("→").pop()));
  if (helpers.length) notes.push(`协办：${[...new Set(helpers)].join("、")}`);
  notes.push(...accusationNotes(segments));
  return { unit: unitName ? (why ? `${unitName}（${why}）` : unitName) : "", notes };
}

/** 检举控告 notes are for the operator too (never hand a case to the unit it accuses), and so is an
 * urgent call routed although answered on the spot (紧急诉求：…仍派承办单位处置). */
function accusationNotes(segments) {
  return segments.map((s) => s.trim()).filter((s) => /^(检举控告|被检举单位|紧急诉求)/.test(s));
}

/** 人工分拣 candidates as 「可能是：A（事项）、B」; a topic label ("主题 X/Y") is not shown. */
export function candidatesText(candidates) {
  const named = (candidates || []).map((c) => {
    const matter = c.matter && !String(c.matter).startsWith("主题") ? `（${c.matter}）` : "";
    return `${c.unit_name}${matter}`;
  });
  return named.length ? `可能是：${named.join("、")}` : "";
}

/** Severity and urgency reasons without ASCII punctuation and the model's score ("模型判断（87%）"). */
export function plainReasons(reasons) {
  return (reasons || [])
    .map((r) => String(r).replace(/:\s*/g, "：").replace(/^模型判断（\d+%）：?/, "").trim())
    .map((r) => r || "文本含危急情形")
    .filter((r, i, all) => all.indexOf(r) === i);
}
