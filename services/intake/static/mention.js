// 舆情登记: a media mention found by monitoring (link, platform, outlet, publication time).
import { api } from "./api.js";
import { $, notice } from "./dom.js";
import { beijingIso, wireIntakeForm } from "./formkit.js";

function shape(values) {
  return { ...values, published_at: beijingIso(values.published_at) };
}

export function init() {
  wireIntakeForm($("#mention-form"), "/mentions", shape, { api, notice });
}

export function show() {
  $("#mention-form").elements.platform.focus();
}
