// 舆情登记: a media mention found by monitoring (link, platform, outlet, publication time).
import { api } from "./api.js";
import { $, notice } from "./dom.js";
import { beijingIso, wireIntakeForm } from "./formkit.js";
import { createUrgentBanner } from "./urgent.js";

function shape(values) {
  return { ...values, published_at: beijingIso(values.published_at) };
}

export function init() {
  const form = $("#mention-form");
  const banner = createUrgentBanner(form, { channel: "media" });
  banner.watch();
  wireIntakeForm(form, "/mentions", shape, { api, notice, banner });
}

export function show() {
  $("#mention-form").elements.platform.focus();
}
