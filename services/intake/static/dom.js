// Small DOM and formatting helpers shared by the views.

/** h("td", {class: "x"}, "text", child): an element; attributes starting with "on" become listeners. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
    else if (key === "class") el.className = value;
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (value === true) el.setAttribute(key, "");
    else el.setAttribute(key, value);
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

export const $ = (selector, root = document) => root.querySelector(selector);

const TIME_ZONE = "Asia/Shanghai";

export function fmtTime(iso, withDate = true) {
  if (!iso) return "–";
  const options = { timeZone: TIME_ZONE, hour12: false };
  const date = new Date(iso);
  return withDate ? date.toLocaleString("zh-CN", options) : date.toLocaleTimeString("zh-CN", options);
}

const DATE_PARTS = new Intl.DateTimeFormat("zh-CN", { timeZone: TIME_ZONE, year: "numeric", month: "2-digit", day: "2-digit" });

/** A day ("2026-11-01", or an ISO time) as operators write it: 2026年11月01日 (Beijing). */
export function fmtDate(value) {
  if (!value) return "–";
  const moment = new Date(/^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T12:00:00+08:00` : value);
  if (Number.isNaN(moment.getTime())) return String(value);
  const part = Object.fromEntries(DATE_PARTS.formatToParts(moment).map((p) => [p.type, p.value]));
  return `${part.year}年${part.month}月${part.day}日`;
}

/** Today's date in Beijing, shifted by `days`, as YYYY-MM-DD. */
export function beijingDate(days = 0) {
  const moment = new Date(Date.now() + days * 86400000);
  return new Intl.DateTimeFormat("en-CA", { timeZone: TIME_ZONE }).format(moment);
}

export function fmtRate(value) {
  return value === null || value === undefined ? "–" : `${value}%`;
}

export function debounce(fn, waitMs) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), waitMs);
  };
}

/** Show a message in a status element; kind is "ok", "error" or "info". */
export function notice(el, text, kind = "info") {
  el.textContent = text;
  el.className = `notice ${kind}`;
  el.hidden = !text;
}

export const CHANNELS = { hotline: "热线", petition: "信访", media: "舆情" };
export const UNAVAILABLE = "暂不可用";
