// A paginated table: renders one page (at most 200 rows) so large lists stay fast.
import { h } from "./dom.js";

export const MAX_PAGE = 200;

/**
 * columns: [{label, value: row => text|Node, class?}]; options: {pageSize, caption, empty, onRowClick, rowClass}.
 * Returns {update(rows)} which keeps the current page when it still exists.
 */
export function pagedTable(container, columns, options = {}) {
  const pageSize = Math.min(options.pageSize || 50, MAX_PAGE);
  let rows = [];
  let page = 0;
  const tbody = h("tbody");
  const table = h(
    "table",
    { class: "grid" },
    options.caption ? h("caption", {}, options.caption) : null,
    h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col", class: c.class }, c.label)))),
    tbody,
  );
  const info = h("span", { class: "pager-info", "aria-live": "polite" });
  const prev = h("button", { type: "button", class: "small", onclick: () => go(page - 1) }, "上一页");
  const next = h("button", { type: "button", class: "small", onclick: () => go(page + 1) }, "下一页");
  const pager = h("div", { class: "pager" }, prev, info, next);
  container.replaceChildren(h("div", { class: "table-wrap" }, table), pager);

  function go(target) {
    const pages = Math.max(1, Math.ceil(rows.length / pageSize));
    page = Math.min(Math.max(0, target), pages - 1);
    const slice = rows.slice(page * pageSize, (page + 1) * pageSize);
    tbody.replaceChildren(
      ...(slice.length
        ? slice.map((row) => renderRow(row))
        : [h("tr", {}, h("td", { colspan: columns.length, class: "empty" }, options.empty || "暂无数据"))]),
    );
    info.textContent = `共 ${rows.length} 条，第 ${page + 1}/${pages} 页`;
    prev.disabled = page === 0;
    next.disabled = page >= pages - 1;
    pager.hidden = rows.length <= pageSize;
  }

  function renderRow(row) {
    const tr = h("tr", { class: options.rowClass ? options.rowClass(row) : undefined });
    for (const column of columns) tr.append(h("td", { class: column.class }, column.value(row) ?? "–"));
    if (options.onRowClick) {
      tr.tabIndex = 0;
      tr.classList.add("clickable");
      tr.addEventListener("click", () => options.onRowClick(row, tr));
      tr.addEventListener("keydown", (ev) => { if (ev.key === "Enter") options.onRowClick(row, tr); });
    }
    return tr;
  }

  return {
    update(newRows) { rows = newRows; go(page); },
    get rows() { return rows; },
  };
}
