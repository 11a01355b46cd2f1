// The quote list's edits, without leaving the page: recode one consensus quote
// to another agreed code (a recorded consensus edit), or move a quote's code
// to another theme. Both send the version the page saw; the page then reloads
// with the same filters.

import { describeProblem, requestJson } from "./common.js";

const tools = document.getElementById("quote-tools");
const api = tools.dataset.api;
const csrf = tools.dataset.csrf;
const status = document.getElementById("quote-status");

async function done(response, what) {
  if (response.ok) {
    status.textContent = `${what}. Reloading…`;
    window.location.reload();
  } else {
    status.textContent = describeProblem(response.json, `${what}: refused.`);
  }
}

document.addEventListener("click", async (event) => {
  const recode = event.target.closest("button.recode");
  const move = event.target.closest("button.move-code");
  if (recode) {
    const code = document.getElementById("recode-to").value;
    if (!code) {
      status.textContent = "Choose the agreed code to recode the quote as, above.";
      return;
    }
    const response = await requestJson("PATCH", `${api}/consensus/codings/${recode.dataset.coding}`,
      { code_id: code, version: Number(recode.dataset.version) }, csrf);
    await done(response, "Recoded");
  } else if (move) {
    const target = document.getElementById("move-to").value;
    if (!target) {
      status.textContent = "Choose the theme to move the code to, above.";
      return;
    }
    const hierarchy = await requestJson("GET", `${api}/themes`);
    const code = hierarchy.ok && hierarchy.json.codes.find((c) => c.id === move.dataset.code);
    if (!code) {
      status.textContent = "That code is no longer in the agreed codebook.";
      return;
    }
    const response = await requestJson("POST", `${api}/themes/placements`, {
      codes: [{ id: code.id, version: code.placement_version }],
      node_id: target === "unplaced" ? null : target,
    }, csrf);
    await done(response, "Moved");
  }
});

// Selecting quotes for the write-up: each quote gets a button that puts its
// whole consensus coding in the quote bank, or takes it out again.
const bankApi = `${api}/quote-bank`;
let selected = new Map();

async function loadBank() {
  const response = await requestJson("GET", bankApi);
  selected = new Map();
  if (!response.ok) return;
  const all = response.json.groups.flatMap((g) => g.quotes).concat(response.json.changed);
  for (const q of all) {
    selected.set(q.coding_id, q);
  }
}

function markQuotes() {
  for (const li of document.querySelectorAll("li.quote[data-coding]")) {
    let button = li.querySelector("button.bank-select");
    if (!button) {
      button = document.createElement("button");
      button.type = "button";
      button.className = "small bank-select";
      li.querySelector(".quote-meta").append(" ", button);
    }
    const chosen = selected.get(li.dataset.coding);
    button.dataset.coding = li.dataset.coding;
    button.textContent = chosen ? "Selected ✓ (unselect)" : "Select for the write-up";
    button.setAttribute("aria-pressed", chosen ? "true" : "false");
  }
}

document.addEventListener("click", async (event) => {
  const button = event.target.closest("button.bank-select");
  if (!button) return;
  const chosen = selected.get(button.dataset.coding);
  const response = chosen
    ? await requestJson("DELETE", `${bankApi}/quotes/${chosen.id}?version=${chosen.version}`, null, csrf)
    : await requestJson("POST", `${bankApi}/quotes`, {
      id: crypto.randomUUID ? crypto.randomUUID() : undefined,
      coding_id: button.dataset.coding,
    }, csrf);
  status.textContent = response.ok
    ? (chosen ? "Taken out of the quote bank." : "Selected for the quote bank.")
    : describeProblem(response.json, "Refused.");
  await loadBank();
  markQuotes();
});

loadBank().then(markQuotes);
