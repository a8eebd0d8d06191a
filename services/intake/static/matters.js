// 事项目录 (admin): search the matters of the 派单目录 in force, add one or change one. Each save is a
// new 派单目录 version, in force at once in the classifier and the router.
import { api } from "./api.js";
import { $, UNAVAILABLE, debounce, h, notice } from "./dom.js";
import { fillSelect } from "./formkit.js";
import { pagedTable } from "./table.js";

const CLASSES = ["城乡建设", "环境保护", "交通运输", "教育文体", "劳动和社会保障", "商贸旅游", "卫生计生", "政法",
  "农村农业", "国土资源", "民政", "纪检监察", "党务政务", "经济管理", "科技与信息产业"];
const ROLES = { lead: "属地主办", assist: "属地协办", village: "在村里属地主办", none: "不涉及属地" };
let table;
let editing = null; // code of the matter in the form; null: a new one

const COLUMNS = [
  { label: "编码", value: (m) => h("span", { class: "code" }, m.code) },
  { label: "事项", value: (m) => m.name },
  { label: "一级分类", value: (m) => m.class },
  { label: "主办", value: (m) => m.lead_name },
  { label: "属地", value: (m) => ROLES[m.township] || m.township },
  { label: "识别用语", value: (m) => m.terms.join("、"), class: "excerpt" },
];

const list = (text) => text.split(/[,，、\n]/).map((s) => s.trim()).filter(Boolean);

function edit(matter) {
  const form = $("#matter-form");
  editing = matter ? matter.code : null;
  form.code.value = matter?.code || "";
  form.code.readOnly = Boolean(matter);
  form.name.value = matter?.name || "";
  form.klass.value = matter?.class || CLASSES[0];
  form.lead.value = matter?.lead || "";
  form.assist.value = (matter?.assist || []).join("、");
  form.township.value = matter?.township || "none";
  form.terms.value = (matter?.terms || []).join("\n");
  form.exclude.value = (matter?.exclude || []).join("、");
  form.basis.value = matter?.basis || "";
  form.priority.value = matter?.priority ?? 0;
  notice(form.querySelector("[data-status]"), "");
  (matter ? form.name : form.code).focus();
}

async function search() {
  const status = $("#matters-status");
  const q = $("#matter-search").value.trim();
  try {
    const result = await api(`/matters${q ? `?q=${encodeURIComponent(q)}` : ""}`);
    table.update(result.items || []);
    notice(status, `派单目录版本 ${result.version ?? "（系统自带）"}：共 ${result.total} 个事项，匹配 ${result.items.length} 个`, "info");
  } catch (err) {
    table.update([]);
    notice(status, err.missing ? `事项目录${UNAVAILABLE}` : err.message, "error");
  }
}

async function save(ev) {
  ev.preventDefault();
  const form = ev.target;
  const status = form.querySelector("[data-status]");
  const code = form.code.value.trim();
  const body = {
    name: form.name.value.trim(),
    class: form.klass.value,
    lead: form.lead.value,
    assist: list(form.assist.value),
    township: form.township.value,
    terms: list(form.terms.value),
    exclude: list(form.exclude.value),
    priority: Number(form.priority.value || 0),
    ...(form.basis.value.trim() ? { basis: form.basis.value.trim() } : {}),
  };
  try {
    const result = await api(`/matters/${encodeURIComponent(code)}`, { method: "PUT", body });
    notice(status, `已保存为派单目录版本 ${result.version}（${editing ? "修改" : "新增"}事项 ${code}）`, "ok");
    editing = code;
    form.code.readOnly = true;
    search();
  } catch (err) {
    notice(status, err.missing ? `事项编辑${UNAVAILABLE}` : err.message, "error");
  }
}

export function init(context) {
  table = pagedTable($("#matters-table"), COLUMNS, { pageSize: 50, empty: "没有匹配的事项", onRowClick: edit });
  const form = $("#matter-form");
  fillSelect(form.klass, CLASSES);
  fillSelect(form.lead, context.units.filter((u) => u.kind !== "township").map((u) => [u.code, u.name]));
  fillSelect(form.township, Object.entries(ROLES));
  form.addEventListener("submit", save);
  $("#matter-search").addEventListener("input", debounce(search, 300));
  $("#matter-new").addEventListener("click", () => edit(null));
}

export function show() {
  search();
}
