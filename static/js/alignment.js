// The alignment page's actions in place: each form (accept a pair, map a code,
// keep it as its own, undo) goes to its API twin, then the suggestions and the
// coders' columns are redrawn from a fresh copy of the page, keeping the row
// acted on where it was on screen and the focus in it. Without this script the
// forms post as usual and the server sends the browser back to the same row.
// Alignments and agreed codes changed by another lead redraw the page too,
// unless a name is being typed: then the page offers to show them.

import { describeProblem, requestJson } from "./common.js";
import { followKinds } from "./live_parts.js";

const root = document.getElementById("alignment");
const csrf = document.querySelector('meta[name="csrf-token"]')?.content ?? "";

/** Colour swatches come from data attributes (the page allows no inline styles). */
function paint(scope) {
  for (const swatch of scope.querySelectorAll(".swatch[data-color]")) {
    swatch.style.backgroundColor = swatch.dataset.color;
  }
  // The script says what is missing, in the row, rather than the browser's bubble.
  for (const form of scope.querySelectorAll("form[data-action]")) form.noValidate = true;
}

/** The message of a row (a coder's code or a suggested pair), or none. */
function say(row, message) {
  row.querySelector(".row-message")?.remove();
  if (!message) return;
  const cell = row.querySelector("td.aligned") ?? row.lastElementChild;
  const box = document.createElement("p");
  box.className = "field-error row-message";
  box.setAttribute("role", "alert");
  box.textContent = message;
  cell.append(box);
}

/** What one form asks of the API, or a message when it cannot be sent. */
function requestFor(form, row) {
  const data = new FormData(form);
  const api = root.dataset.api;
  switch (form.dataset.action) {
    case "map": {
      const agreed = data.get("agreed_code_id");
      if (!agreed) {
        return { problem: `Choose the agreed code to map “${row.dataset.codeName}” onto.` };
      }
      return { method: "PUT", url: `${api}/alignment/${data.get("code_id")}`, body: { agreed_code_id: agreed } };
    }
    case "unalign":
      return { method: "DELETE", url: `${api}/alignment/${data.get("code_id")}` };
    case "agreed": {
      const name = String(data.get("name") ?? "").trim();
      if (!name) return { problem: "Give the agreed code a name." };
      return {
        method: "POST",
        url: `${api}/agreed-codes`,
        body: { name, definition: String(data.get("definition") ?? ""), code_ids: data.getAll("code_ids") },
      };
    }
    default:
      return null;
  }
}

/** Finds again, in the redrawn page, the row acted on (or what took its place). */
function anchorOf(row) {
  if (row.dataset.codeId) {
    const selector = `tr.coder-code[data-code-id="${row.dataset.codeId}"]`;
    return () => document.querySelector(selector);
  }
  // An accepted pair leaves the list: hold on to the pair after it, or the table.
  const keys = [row, ...siblingsAfter(row)].map((r) => r.dataset.pair).filter(Boolean);
  return () => {
    for (const key of keys) {
      const found = document.querySelector(`#suggestions tr[data-pair="${key}"]`);
      if (found) return found;
    }
    return document.getElementById("suggestions");
  };
}

function siblingsAfter(row) {
  const after = [];
  for (let next = row.nextElementSibling; next; next = next.nextElementSibling) after.push(next);
  return after;
}

// Redraws run one after the other, each from a copy of the page fetched after
// its change was saved.
let redraws = Promise.resolve();

// The server's HTML of each redrawn part as last shown, so that a live event
// for a change already on screen (this page's own, redrawn after it was
// saved) leaves the page alone.
const shown = new Map();

function remember(scope) {
  for (const id of ["suggestions", "coder-columns"]) {
    const part = scope.getElementById(id);
    if (part) shown.set(id, part.outerHTML);
  }
}

function redraw(find, onlyChanged = false) {
  redraws = redraws.then(
    () => redrawNow(find, onlyChanged),
    () => redrawNow(find, onlyChanged),
  );
  return redraws;
}

async function redrawNow(find, onlyChanged) {
  const response = await fetch(window.location.pathname + window.location.search, {
    headers: { Accept: "text/html" },
    credentials: "same-origin",
  });
  if (!response.ok) throw new Error(`reloading the page: ${response.status}`);
  const fresh = new DOMParser().parseFromString(await response.text(), "text/html");
  const before = find()?.getBoundingClientRect().top ?? null;
  // Choices made in other rows but not sent yet stay made.
  const chosen = new Map();
  for (const select of root.querySelectorAll("tr.coder-code select[name=agreed_code_id]")) {
    if (select.value) chosen.set(select.closest("tr").dataset.codeId, select.value);
  }
  let changed = false;
  for (const id of ["suggestions", "coder-columns"]) {
    const next = fresh.getElementById(id);
    const current = document.getElementById(id);
    if (!next || !current) continue;
    const html = next.outerHTML;
    if (onlyChanged && shown.get(id) === html) continue;
    shown.set(id, html);
    current.replaceWith(document.adoptNode(next));
    changed = true;
  }
  if (!changed) return;
  for (const [codeId, value] of chosen) {
    const select = root.querySelector(`tr.coder-code[data-code-id="${codeId}"] select[name=agreed_code_id]`);
    if (select && [...select.options].some((o) => o.value === value)) select.value = value;
  }
  paint(root);
  const anchor = find();
  if (!anchor) return;
  if (before !== null) window.scrollBy(0, anchor.getBoundingClientRect().top - before);
  const target = anchor.querySelector("td.aligned select:not([disabled]), td.aligned button, input[type=text], button");
  (target ?? anchor).focus({ preventScroll: true });
}

async function act(form) {
  const row = form.closest("tr");
  if (!row) return;
  say(row, "");
  const request = requestFor(form, row);
  if (!request) return;
  if (request.problem) {
    say(row, request.problem);
    form.querySelector("select, input[type=text]")?.focus();
    return;
  }
  const buttons = [...form.querySelectorAll("button")];
  for (const button of buttons) button.disabled = true;
  const find = anchorOf(row);
  try {
    const result = await requestJson(request.method, request.url, request.body, csrf);
    if (!result.ok) {
      say(row, describeProblem(result.json, "The change could not be saved."));
      return;
    }
    await redraw(find);
  } catch {
    say(row, "The server could not be reached: reload the page to see what was saved.");
  } finally {
    for (const button of buttons) button.disabled = false;
  }
}

/** What the page, redrawn now, would lose: a name or definition being typed. */
function typing() {
  const active = document.activeElement;
  return Boolean(
    active && root.contains(active) && active.matches("input[type=text]") && active.value !== active.defaultValue,
  );
}

/** Redraws for a change another lead made, keeping the focused row in place. */
function follow(status) {
  status.textContent = "";
  if (typing()) {
    status.textContent = "Another lead changed the alignment. ";
    const show = document.createElement("button");
    show.type = "button";
    show.className = "link";
    show.id = "live-show";
    show.textContent = "Show it";
    show.addEventListener("click", () => follow(status), { once: true });
    status.append(show);
    return;
  }
  const row = document.activeElement?.closest?.("tr");
  redraw(row && root.contains(row) ? anchorOf(row) : () => null, true).catch(() => {
    status.textContent = "The page could not be brought up to date: reload it.";
  });
}

function listen() {
  const status = document.getElementById("live-status");
  if (!status || !root.dataset.liveEvents || !window.EventSource) return;
  // A burst of events (an agreed code and its alignments) is one redraw.
  followKinds(root.dataset.liveEvents, ["alignment.changed", "consensus.code."], () => follow(status));
}

if (root) {
  remember(document);
  paint(document);
  listen();
  root.addEventListener("submit", (event) => {
    const form = event.target.closest?.("form[data-action]");
    if (!form) return;
    event.preventDefault();
    act(form);
  });
}
