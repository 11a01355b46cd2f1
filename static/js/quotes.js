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
