// Server-rendered pages that show records others change (memos and journals,
// peer debriefing records, the quote bank) keep them current. The page names
// its live event kinds on an element with data-live-kinds (a kind, or a prefix
// ending in "."), and marks each part that shows records with data-live-part
// and an id. When such an event arrives, the page is fetched again and each
// part swapped for its new version. Forms stay outside the parts, so nothing
// being typed is lost; a part the reader is busy in (typing in it, or matching
// data-live-busy) is left until they choose to see the change.

import { isTyping } from "./common.js";

const config = typeof document === "undefined" ? null : document.querySelector("[data-live-kinds]");
let ownWrites = 0;

/**
 * Sends one of the page script's own writes: its live event is then not taken
 * for someone else's change (a refused write announces nothing).
 */
export async function ownWrite(send) {
  ownWrites += 1;
  const response = await send();
  if (!response.ok) ownWrites = Math.max(0, ownWrites - 1);
  return response;
}

/**
 * Calls `onKind(kind)`, at most once per 200 ms burst, for each live event of
 * the project stream at `url` whose kind is one of `kinds`; the call is for
 * the last event of the burst. `skip()`, when given, may pass over an event.
 */
export function followKinds(url, kinds, onKind, skip = () => false) {
  let pending = null;
  const events = new EventSource(url);
  events.addEventListener("message", (message) => {
    let event;
    try {
      event = JSON.parse(message.data);
    } catch {
      return;
    }
    if (!event || typeof event.kind !== "string" || !matches(kinds, event.kind)) return;
    if (skip()) return;
    clearTimeout(pending);
    pending = setTimeout(() => onKind(event.kind), 200);
  });
  return events;
}

/** Whether `kind` is one of `kinds` (exact, or under a prefix ending in "."). */
export function matches(kinds, kind) {
  return kinds.some((k) => (k.endsWith(".") ? kind.startsWith(k) : kind === k));
}

function busy(part, selector) {
  const active = document.activeElement;
  if (part.contains(active) && isTyping(active)) return true;
  return Boolean(selector && part.querySelector(selector));
}

async function refresh(status, selector, force) {
  const response = await fetch(window.location.href, {
    credentials: "same-origin",
    headers: { Accept: "text/html" },
  });
  if (!response.ok) return;
  const fresh = new DOMParser().parseFromString(await response.text(), "text/html");
  let held = 0;
  for (const part of document.querySelectorAll("[data-live-part]")) {
    const next = fresh.getElementById(part.id);
    if (!next) continue;
    if (!force && busy(part, selector)) {
      held += 1;
      continue;
    }
    part.replaceWith(document.importNode(next, true));
  }
  if (held > 0) {
    status.textContent = "Someone else changed this page while you were working on it. ";
    const show = document.createElement("button");
    show.type = "button";
    show.className = "link";
    show.id = "live-show";
    show.textContent = "Show their change";
    show.addEventListener("click", () => {
      status.textContent = "";
      refresh(status, selector, true);
    });
    status.appendChild(show);
  } else {
    status.textContent = "Updated with a change made by someone else.";
  }
}

if (config && window.EventSource) {
  const kinds = config.dataset.liveKinds.split(/\s+/).filter(Boolean);
  const selector = config.dataset.liveBusy || "";
  let status = document.getElementById("live-status");
  if (!status) {
    status = document.createElement("p");
    status.id = "live-status";
    status.className = "muted";
    status.setAttribute("role", "status");
    status.setAttribute("aria-live", "polite");
    config.prepend(status);
  }
  followKinds(
    config.dataset.liveEvents,
    kinds,
    () => refresh(status, selector, false),
    () => {
      if (ownWrites === 0) return false;
      ownWrites -= 1;
      return true;
    },
  );
}
