// Live countdowns: every element with data-ends (epoch ms) is redrawn once a second.
// The end is taken from the server's remaining_hours at fetch time, so a skewed client clock
// does not matter.

const WARN_MS = 4 * 3600 * 1000;

export function endsAt(remainingHours, fetchedAt = Date.now()) {
  return fetchedAt + remainingHours * 3600 * 1000;
}

export function durationText(ms) {
  const total = Math.floor(Math.abs(ms) / 1000);
  const days = Math.floor(total / 86400);
  const pad = (n) => String(n).padStart(2, "0");
  const hms = `${pad(Math.floor((total % 86400) / 3600))}:${pad(Math.floor((total % 3600) / 60))}:${pad(total % 60)}`;
  return days ? `${days}天 ${hms}` : hms;
}

/** Redraw one countdown element. */
export function tick(el, now = Date.now()) {
  if (el.dataset.paused) { el.textContent = "已暂停"; el.className = "clock paused"; return; }
  const left = Number(el.dataset.ends) - now;
  el.textContent = left >= 0 ? `剩余 ${durationText(left)}` : `超期 ${durationText(left)}`;
  el.className = "clock " + (left < 0 ? "late" : left < WARN_MS ? "warn" : "ok");
}

/** A countdown element for a deadline of GET /cases/{id}. */
export function clockFor(deadline, fetchedAt, make) {
  const el = make("span", { class: "clock", role: "timer", "aria-label": `${deadline.label || deadline.name}剩余时间` });
  if (deadline.state === "met") { el.textContent = "已完成"; el.className = "clock done"; return el; }
  // remaining_seconds where the server gives it: a 10-minute clock cannot count in tenths of an hour.
  const hours = deadline.remaining_seconds !== undefined ? deadline.remaining_seconds / 3600 : deadline.remaining_hours;
  el.dataset.ends = String(endsAt(hours, fetchedAt));
  if (deadline.state === "paused") el.dataset.paused = "1";
  tick(el);
  return el;
}

setInterval(() => {
  const now = Date.now();
  for (const el of document.querySelectorAll(".clock[data-ends]")) tick(el, now);
}, 1000);
