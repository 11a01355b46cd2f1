// The Quote bank page: reorder a code's quotes (drag, the arrow buttons, or
// Alt+↑ / Alt+↓ on a focused quote), edit a quote for publication with a live
// preview and the server's verdict shown inline, unselect, file a quote
// again after its coding changed, and choose the attributing attribute.
// Every change sends the versions the page holds; the answers bring new ones.

import { describeProblem, isTyping, requestJson } from "./common.js";
import { ownWrite } from "./live_parts.js";

const root = document.getElementById("quote-bank");
const api = root.dataset.api;
const csrf = root.dataset.csrf;
const canEdit = root.dataset.canEdit === "true";
const status = document.getElementById("qb-status");

function say(text) {
  status.textContent = text;
}

function item(target) {
  return target.closest("li.qb-quote");
}

/** Sets a quote's shown state from the API's answer. */
function show(li, quote) {
  li.dataset.version = String(quote.version);
  li.querySelector(".qb-text").textContent = quote.text;
  li.querySelector(".qb-attribution").textContent = quote.attribution;
  const edited = quote.publication_text !== null;
  li.querySelector(".qb-edited").hidden = !edited;
  li.querySelector(".qb-original-box").hidden = !edited;
}

async function sendOrder(list) {
  const section = list.closest(".qb-group");
  const quotes = [...list.querySelectorAll(":scope > li.qb-quote")].map((li) => ({
    id: li.dataset.id,
    version: Number(li.dataset.version),
  }));
  const response = await ownWrite(() => requestJson("PUT", `${api}/order`, { code_id: section.dataset.code, quotes }, csrf));
  const group = response.ok ? response.json : response.json && response.json.current && response.json.current.group;
  if (group) {
    // Put the list in the order the server holds, with its versions.
    for (const quote of group.quotes) {
      const li = list.querySelector(`li[data-id="${quote.id}"]`);
      if (li) {
        li.dataset.version = String(quote.version);
        list.appendChild(li);
      }
    }
  }
  if (response.ok) {
    say("Order saved.");
  } else if (response.status === 409) {
    say("Someone else changed these quotes meanwhile; this is their order now. Nothing of yours was saved.");
  } else {
    say(describeProblem(response.json, "The order was refused."));
  }
}

function move(li, by) {
  const list = li.parentElement;
  if (by < 0 && li.previousElementSibling) {
    list.insertBefore(li, li.previousElementSibling);
  } else if (by > 0 && li.nextElementSibling) {
    list.insertBefore(li.nextElementSibling, li);
  } else {
    return;
  }
  li.focus();
  sendOrder(list);
}

// ---------------------------------------------------------------- editing

const timers = new WeakMap();

async function preview(li) {
  const input = li.querySelector(".qb-input");
  const response = await requestJson("POST", `${api}/quotes/${li.dataset.id}/preview`,
    { publication_text: input.value }, csrf);
  const out = li.querySelector(".qb-preview");
  const error = li.querySelector(".qb-error");
  if (!response.ok) {
    error.textContent = describeProblem(response.json, "No preview.");
    return;
  }
  out.textContent = response.json.ok ? response.json.attributed : "";
  error.textContent = response.json.ok ? "" : response.json.message;
  input.setAttribute("aria-invalid", response.json.ok ? "false" : "true");
}

async function save(li) {
  const input = li.querySelector(".qb-input");
  const response = await ownWrite(() => requestJson("PATCH", `${api}/quotes/${li.dataset.id}`, {
    version: Number(li.dataset.version),
    publication_text: input.value,
  }, csrf));
  const error = li.querySelector(".qb-error");
  if (response.ok) {
    show(li, response.json);
    error.textContent = "";
    li.querySelector(".qb-editor").hidden = true;
    say("Publication text saved.");
  } else if (response.status === 409 && response.json && response.json.current) {
    show(li, response.json.current);
    error.textContent = "Someone else changed this quote meanwhile; it now reads as shown above. Nothing was saved.";
  } else {
    error.textContent = describeProblem(response.json, "The edit was refused.");
  }
}

async function unselect(li) {
  const response = await ownWrite(() => requestJson("DELETE", `${api}/quotes/${li.dataset.id}?version=${li.dataset.version}`, null, csrf));
  if (response.ok) {
    const section = li.closest(".qb-group");
    li.remove();
    if (section && !section.querySelector("li.qb-quote")) section.remove();
    say("Quote taken out of the bank.");
  } else {
    say(describeProblem(response.json, "Refused."));
  }
}

async function refile(li) {
  const response = await ownWrite(() => requestJson("POST", `${api}/quotes/${li.dataset.id}/refile`,
    { version: Number(li.dataset.version) }, csrf));
  if (response.ok) {
    say("Filed again. Reloading…");
    window.location.reload();
  } else {
    say(describeProblem(response.json, "Refused."));
  }
}

if (canEdit) {
  root.addEventListener("click", (event) => {
    const li = item(event.target);
    if (!li) return;
    const button = event.target.closest("button");
    if (!button) return;
    const editor = li.querySelector(".qb-editor");
    if (button.classList.contains("qb-up")) move(li, -1);
    else if (button.classList.contains("qb-down")) move(li, 1);
    else if (button.classList.contains("qb-unselect")) unselect(li);
    else if (button.classList.contains("qb-refile")) refile(li);
    else if (button.classList.contains("qb-edit")) {
      editor.hidden = false;
      li.querySelector(".qb-input").focus();
      preview(li);
    } else if (button.classList.contains("qb-cancel")) {
      editor.hidden = true;
      li.querySelector(".qb-error").textContent = "";
    } else if (button.classList.contains("qb-reset")) {
      const input = li.querySelector(".qb-input");
      input.value = input.dataset.original;
      preview(li);
    } else if (button.classList.contains("qb-save")) save(li);
  });

  root.addEventListener("input", (event) => {
    if (!event.target.classList.contains("qb-input")) return;
    const li = item(event.target);
    clearTimeout(timers.get(li));
    timers.set(li, setTimeout(() => preview(li), 200));
  });

  root.addEventListener("keydown", (event) => {
    const li = event.target instanceof HTMLElement && event.target.matches("li.qb-quote") ? event.target : null;
    if (!li || isTyping(event.target) || !event.altKey) return;
    if (event.key === "ArrowUp") {
      event.preventDefault();
      move(li, -1);
    } else if (event.key === "ArrowDown") {
      event.preventDefault();
      move(li, 1);
    }
  });

  let dragged = null;
  root.addEventListener("dragstart", (event) => {
    dragged = item(event.target);
    if (dragged) event.dataTransfer.effectAllowed = "move";
  });
  root.addEventListener("dragover", (event) => {
    const over = item(event.target);
    if (!dragged || !over || over === dragged || over.parentElement !== dragged.parentElement) return;
    event.preventDefault();
    const box = over.getBoundingClientRect();
    const after = event.clientY > box.top + box.height / 2;
    over.parentElement.insertBefore(dragged, after ? over.nextElementSibling : over);
  });
  root.addEventListener("drop", (event) => {
    if (dragged) event.preventDefault();
  });
  // Dropped anywhere: the order the list now shows is the one sent.
  root.addEventListener("dragend", () => {
    if (!dragged) return;
    const list = dragged.parentElement;
    dragged = null;
    sendOrder(list);
  });

  const attribute = document.getElementById("qb-attribute");
  attribute.addEventListener("change", async () => {
    const response = await ownWrite(() => requestJson("PUT", `${api}/attribute`, {
      variable_id: attribute.value || null,
      version: Number(attribute.dataset.version),
    }, csrf));
    if (response.ok) {
      say("Attribution changed. Reloading…");
      window.location.reload();
    } else {
      say(describeProblem(response.json, "Refused."));
    }
  });
}
