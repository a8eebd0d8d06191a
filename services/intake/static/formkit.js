// Form helpers shared by the intake forms: unit and township options, values, Ctrl+Enter.
import { h } from "./dom.js";

/** Township place names ("城厢镇") from GET /units: `place` when given, else the unit name's short form. */
export function townships(units) {
  return units
    .filter((u) => u.kind === "township")
    .map((u) => u.place || u.name.replace(/人民政府$/, "").replace(/办事处$/, ""));
}

export function fillSelect(select, options) {
  for (const option of options) {
    const [value, label] = Array.isArray(option) ? option : [option, option];
    select.append(h("option", { value }, label));
  }
}

/**
 * Fill a township select with the place the suggestion found in the text, marked 自动识别, unless the
 * operator picked one (even 未指明): a choice of theirs is never overwritten. Reset clears the mark.
 */
export function autoTownship(select) {
  const tag = h("span", { class: "tag auto", hidden: true, "data-auto-township": "" }, "自动识别");
  select.after(tag);
  let picked = false;
  const unmark = () => { delete select.dataset.auto; tag.hidden = true; };
  select.addEventListener("change", () => { picked = true; unmark(); });
  select.form?.addEventListener("reset", () => { picked = false; unmark(); });
  return {
    /** The suggestion's township ("城厢镇"), or nothing. */
    offer(township) {
      if (picked || !township) return;
      const option = [...select.options].find((o) => o.value && (o.value === township || township.startsWith(o.value)));
      if (!option) return;
      select.value = option.value;
      select.dataset.auto = "";
      tag.hidden = false;
    },
    /** The township the operator chose ("" when none or only found automatically). */
    chosen() { return picked ? select.value : ""; },
  };
}

/** Fill every [data-townships] and [data-units] select inside `root`. */
export function fillPlaceSelects(root, units) {
  for (const select of root.querySelectorAll("select[data-townships]")) fillSelect(select, townships(units));
  for (const select of root.querySelectorAll("select[data-units]")) {
    // data-units="name" submits the unit's name (as texts name it), otherwise its code.
    fillSelect(select, units.map((u) => [select.dataset.units === "name" ? u.name : u.code, u.name]));
  }
}

/** The form's values with empty strings dropped, checkboxes as booleans and number inputs as numbers. */
export function formValues(form) {
  const values = {};
  for (const el of form.elements) {
    if (!el.name || el.disabled) continue;
    if (el.type === "checkbox") values[el.name] = el.checked;
    else if (el.type === "radio") { if (el.checked) values[el.name] = el.value; }
    else if (el.value.trim() !== "") values[el.name] = el.type === "number" ? Number(el.value) : el.value.trim();
  }
  return values;
}

/** Ctrl+Enter (or Cmd+Enter) anywhere in the form submits it. */
export function submitOnCtrlEnter(form) {
  form.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) {
      ev.preventDefault();
      form.requestSubmit();
    }
  });
}

/** A datetime-local value ("2026-11-24T09:30") as ISO 8601 in Beijing time. */
export function beijingIso(local) {
  if (!local) return undefined;
  return (local.length === 16 ? local + ":00" : local) + "+08:00";
}

/**
 * Wire an intake form that POSTs to `path`: Ctrl+Enter saves, errors are shown in Chinese and the
 * 查询码 after saving. `shape(values)` turns the form values into the request body.
 */
export function wireIntakeForm(form, path, shape, { api, notice, banner = null }) {
  const status = form.querySelector("[data-status]");
  submitOnCtrlEnter(form);
  form.querySelector("[type=reset]").addEventListener("click", () => { notice(status, ""); if (banner) banner.clear(); });
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const submit = form.querySelector("[type=submit]");
    submit.disabled = true;
    try {
      const result = await api(path, { method: "POST", body: shape(formValues(form)) });
      if (banner) await banner.saved(result.id);
      form.reset();
      status.replaceChildren("已保存，查询码 ", h("strong", { class: "code" }, result.query_code));
      status.className = "notice ok";
      status.hidden = false;
    } catch (err) {
      notice(status, err.message, "error");
    } finally {
      submit.disabled = false;
    }
  });
}
