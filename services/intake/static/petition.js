// 信访登记: a petition (来信、来访 …); a 检举控告 names the accused unit so it is never routed there.
import { api } from "./api.js";
import { $, notice } from "./dom.js";
import { autoTownship, fillPlaceSelects, wireIntakeForm } from "./formkit.js";
import { createUrgentBanner } from "./urgent.js";

function shape(values) {
  const body = { ...values };
  if (!body.is_accusation) delete body.accused_unit;
  return body;
}

export function init(context) {
  const form = $("#petition-form");
  fillPlaceSelects(form, context.units);
  const township = autoTownship(form.elements.namedItem("township"));
  const banner = createUrgentBanner(form, { channel: "petition", onSuggestion: (s) => township.offer(s?.place?.township) });
  banner.watch();
  wireIntakeForm(form, "/petitions", shape, { api, notice, banner });
}

export function show() {
  $("#petition-form").elements.form.focus();
}
