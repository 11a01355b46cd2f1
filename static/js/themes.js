// The theme hierarchy page: renders the tree from the API, and moves themes and
// codes by drag and drop or by keys. Every change is a JSON request carrying the
// version the page saw; a 409 (someone else changed it) reloads the tree and
// says so. Other leads' changes arrive on the project's event stream.

import { el, isTyping, describeProblem, requestJson } from "./common.js";

const root = document.getElementById("themes");
const api = root.dataset.api;
const projectPath = root.dataset.project;
const csrf = root.dataset.csrf;
const editor = root.dataset.editor === "true";
const tree = document.getElementById("theme-tree");
const unplacedList = document.getElementById("unplaced");
const status = document.getElementById("themes-status");

let data = null;
/** Selected codes, by id. */
const selected = new Set();
/** The focused item: { type: "node" | "code", id }. */
let focus = null;
let ownWrites = 0;

function say(text) {
  status.textContent = text;
}

function countsText(c, total) {
  const parts = [`n = ${c.participants} of ${total} participants`, `${c.codings} codings`];
  if (c.codes !== undefined && c.codes !== 1) parts.push(`${c.codes} codes`);
  return parts.join(" · ");
}

function nodeById(id) {
  return data.nodes.find((n) => n.id === id);
}

function codeById(id) {
  return data.codes.find((c) => c.id === id);
}

function siblingsOf(node) {
  return data.nodes.filter((n) => n.parent_id === node.parent_id);
}

function swatch(color) {
  const s = el("span", "swatch");
  s.style.background = color;
  return s;
}

function codeItem(code) {
  const li = el("li", "theme-code");
  li.dataset.code = code.id;
  li.setAttribute("role", "treeitem");
  li.tabIndex = -1;
  if (editor) {
    li.draggable = true;
    const box = el("input");
    box.type = "checkbox";
    box.className = "select-code";
    box.checked = selected.has(code.id);
    box.setAttribute("aria-label", `Select ${code.name}`);
    box.addEventListener("change", () => {
      if (box.checked) selected.add(code.id);
      else selected.delete(code.id);
      updateToolbar();
    });
    li.append(box);
  }
  li.append(swatch(code.color), el("span", "code-name", code.name));
  const link = el("a", "muted counts", countsText(code.counts, data.participants_total));
  link.href = `${projectPath}/themes/quotes?code=${code.id}`;
  li.append(" ", link);
  if (selected.has(code.id)) li.classList.add("selected");
  return li;
}

function nodeItem(node) {
  const li = el("li", "theme-node");
  li.dataset.node = node.id;
  li.setAttribute("role", "treeitem");
  li.setAttribute("aria-level", String(node.depth + 1));
  li.setAttribute("aria-expanded", "true");
  const head = el("div", "node-head");
  head.tabIndex = -1;
  head.dataset.node = node.id;
  if (editor) head.draggable = true;
  head.append(swatch(node.color), el("strong", "node-name", node.name));
  const quotes = el("a", "muted counts", countsText(node.counts, data.participants_total));
  quotes.href = `${projectPath}/themes/quotes?node=${node.id}`;
  head.append(" ", quotes);
  if (editor) {
    const edit = el("button", "small secondary edit-node", "Edit");
    edit.type = "button";
    edit.addEventListener("click", () => editNode(node));
    const del = el("button", "small secondary delete-node", "Delete");
    del.type = "button";
    del.addEventListener("click", () => deleteNode(node));
    const merge = el("button", "small secondary merge-node", "Merge into…");
    merge.type = "button";
    merge.addEventListener("click", () => chooseTarget(`Merge “${node.name}” into…`, node, (target) =>
      write("POST", `${api}/themes/nodes/${node.id}/merge`, { version: node.version, into: target }), false));
    head.append(" ", edit, " ", merge, " ", del);
  }
  const memos = el("a", "muted node-memos", "memos");
  memos.href = `${projectPath}/memos?node=${node.id}`;
  head.append(" ", memos);
  li.append(head);
  if (discussed.nodes[node.id]) li.append(el("p", "muted node-discussed", discussed.nodes[node.id]));
  if (node.definition) li.append(el("p", "muted node-definition", node.definition));
  if (node.example) {
    const q = el("blockquote", "node-example", node.example.text);
    li.append(q);
  }
  const codes = el("ul", "theme-codes");
  codes.dataset.node = node.id;
  codes.setAttribute("role", "group");
  for (const code of data.codes.filter((c) => c.node_id === node.id)) codes.append(codeItem(code));
  li.append(codes);
  const children = el("ul", "theme-children");
  children.setAttribute("role", "group");
  for (const child of data.nodes.filter((n) => n.parent_id === node.id)) children.append(nodeItem(child));
  li.append(children);
  return li;
}

function render() {
  tree.replaceChildren(...data.nodes.filter((n) => n.parent_id === null).map(nodeItem));
  unplacedList.replaceChildren(...data.codes.filter((c) => c.node_id === null).map(codeItem));
  document.getElementById("unplaced-heading").textContent =
    `Unplaced: ${data.unplaced} of ${data.codes.length}`;
  const deleted = document.getElementById("deleted-themes");
  deleted.replaceChildren();
  if (editor && data.deleted_nodes.length) {
    const details = el("details", "deleted");
    details.append(el("summary", "", `Deleted themes (${data.deleted_nodes.length})`));
    const list = el("ul");
    for (const n of data.deleted_nodes) {
      const li = el("li", "deleted-node", n.name + " ");
      const restore = el("button", "small secondary restore-node", "Restore");
      restore.type = "button";
      restore.addEventListener("click", () => write("POST", `${api}/themes/nodes/${n.id}/restore`, {}));
      li.append(restore);
      list.append(li);
    }
    details.append(list);
    deleted.append(details);
  }
  for (const id of [...selected]) if (!codeById(id)) selected.delete(id);
  updateToolbar();
  restoreFocus();
  say(`${data.nodes.length} themes and subcategories, ${data.codes.length - data.unplaced} of ${data.codes.length} codes placed.`);
}

function updateToolbar() {
  if (!editor) return;
  const n = selected.size;
  document.getElementById("group-selected").disabled = n === 0;
  document.getElementById("move-selected").disabled = n === 0;
  // A split takes codes of one theme into a new sibling of it.
  const homes = new Set([...selected].map((id) => codeById(id) && codeById(id).node_id));
  document.getElementById("split-selected").disabled = n === 0 || homes.size !== 1 || homes.has(null);
  document.getElementById("selection-count").textContent = n ? `${n} selected` : "";
  for (const li of root.querySelectorAll("li.theme-code")) {
    li.classList.toggle("selected", selected.has(li.dataset.code));
  }
}

function focusElement() {
  if (!focus) return null;
  return focus.type === "node"
    ? tree.querySelector(`.node-head[data-node="${focus.id}"]`)
    : root.querySelector(`li.theme-code[data-code="${focus.id}"]`);
}

function restoreFocus() {
  const target = focusElement();
  if (target && document.activeElement !== target && root.contains(document.activeElement) === false) return;
  if (target) target.focus();
}

// The debriefings each theme was discussed in (absent for those who may not read them).
let discussed = { nodes: {}, codes: {} };

async function load() {
  const debriefings = await requestJson("GET", `${api}/debriefings/discussed`);
  if (debriefings.ok) discussed = debriefings.json;
  const response = await requestJson("GET", `${api}/themes`);
  if (!response.ok) {
    say(describeProblem(response.json, "The themes could not be loaded."));
    return;
  }
  data = response.json;
  render();
}

/** A change: on 409 or 422 the tree reloads and the reason is shown. */
async function write(method, url, body) {
  ownWrites += 1;
  const response = await requestJson(method, url, body, csrf);
  if (!response.ok) {
    const why = response.status === 409
      ? (response.json && response.json.current && response.json.current.message) || "Someone else changed this meanwhile: the tree is reloaded, nothing of yours was applied."
      : describeProblem(response.json, "That change was refused.");
    await load();
    say(why);
    root.dataset.lastError = why;
    return null;
  }
  await load();
  return response.json;
}

function refs(ids) {
  return ids.map((id) => ({ id, version: codeById(id).placement_version }));
}

function placeCodes(ids, nodeId, position) {
  return write("POST", `${api}/themes/placements`, {
    codes: refs(ids),
    node_id: nodeId,
    position: position === undefined ? null : position,
  });
}

function moveNode(node, parentId, position) {
  return write("POST", `${api}/themes/nodes/${node.id}/move`, {
    version: node.version,
    parent_id: parentId,
    position: position === undefined ? null : position,
  });
}

// ---------------------------------------------------------------- dialogs

const moveDialog = document.getElementById("move-dialog");

/** Asks for a target theme (filter box and list); `unplaced` offers "Unplaced". */
function chooseTarget(title, exclude, then, unplaced = true) {
  if (!moveDialog) return;
  document.getElementById("move-title").textContent = title;
  const filter = document.getElementById("move-filter");
  const list = document.getElementById("move-targets");
  const excluded = new Set();
  if (exclude) {
    const stack = [exclude.id];
    while (stack.length) {
      const id = stack.pop();
      excluded.add(id);
      for (const n of data.nodes) if (n.parent_id === id) stack.push(n.id);
    }
  }
  // `unplaced`: true offers "Unplaced" (codes), "nodes" offers the top level
  // (themes), false only other themes (a merge).
  const options = [];
  if (unplaced === true) options.push({ id: null, label: "Unplaced (take out of the themes)" });
  if (unplaced === "nodes") options.push({ id: null, label: "Top level" });
  for (const n of data.nodes) {
    if (!excluded.has(n.id)) options.push({ id: n.id, label: `${"\u2003".repeat(n.depth)}${n.name}` });
  }
  const show = () => {
    const words = filter.value.trim().toLowerCase();
    list.replaceChildren();
    for (const o of options.filter((o) => !words || o.label.toLowerCase().includes(words))) {
      const li = el("li");
      const b = el("button", "target", o.label);
      b.type = "button";
      b.dataset.target = o.id || "";
      b.addEventListener("click", () => {
        moveDialog.close();
        then(o.id);
      });
      li.append(b);
      list.append(li);
    }
  };
  filter.value = "";
  filter.oninput = show;
  filter.onkeydown = (event) => {
    if (event.key === "Enter") {
      event.preventDefault();
      const first = list.querySelector("button");
      if (first) first.click();
    }
  };
  show();
  moveDialog.showModal();
  filter.focus();
}

const nodeDialog = document.getElementById("node-dialog");

async function nodeForm(title, node, submit) {
  const form = document.getElementById("node-form");
  document.getElementById("node-dialog-title").textContent = title;
  document.getElementById("node-error").textContent = "";
  form.elements.name.value = node ? node.name : "";
  form.elements.definition.value = node ? node.definition : "";
  form.elements.memo.value = node ? node.memo : "";
  form.elements.color.value = node ? node.color.toLowerCase() : "#0072b2";
  const example = form.elements.example_coding_id;
  example.replaceChildren(el("option", "", "(none)"));
  example.firstChild.value = "";
  example.disabled = !node;
  if (node) {
    const quotes = await requestJson("GET", `${api}/themes/quotes?node=${node.id}`);
    for (const q of (quotes.ok ? quotes.json.quotes : []).slice(0, 200)) {
      const o = el("option", "", `${q.participant || q.transcript_title}: ${q.text.slice(0, 120)}`);
      o.value = q.coding_id;
      o.selected = node.example_coding_id === q.coding_id;
      example.append(o);
    }
  }
  nodeDialog.showModal();
  form.onsubmit = async (event) => {
    if (event.submitter && event.submitter.value === "cancel") return;
    event.preventDefault();
    const fields = {
      name: form.elements.name.value,
      definition: form.elements.definition.value,
      memo: form.elements.memo.value,
      color: form.elements.color.value.toUpperCase(),
    };
    if (node) fields.example_coding_id = example.value || null;
    const done = await submit(fields);
    if (done) nodeDialog.close();
    else document.getElementById("node-error").textContent = root.dataset.lastError || "Refused.";
  };
}

function editNode(node) {
  nodeForm(`Edit “${node.name}”`, node, (fields) =>
    write("PATCH", `${api}/themes/nodes/${node.id}`, { version: node.version, ...fields }));
}

function deleteNode(node) {
  if (!window.confirm(`Delete “${node.name}”? Its codes become unplaced and its subcategories move up; you can restore it.`)) return;
  write("DELETE", `${api}/themes/nodes/${node.id}?version=${node.version}`);
}

// ---------------------------------------------------------------- editing

if (editor) {
  document.getElementById("new-theme").addEventListener("click", () => {
    const parent = focus && focus.type === "node" ? nodeById(focus.id) : null;
    nodeForm(parent ? `New subcategory of “${parent.name}”` : "New theme", null, (fields) =>
      write("POST", `${api}/themes/nodes`, { ...fields, parent_id: parent ? parent.id : null }));
  });
  document.getElementById("group-selected").addEventListener("click", () => {
    const ids = [...selected];
    chooseTarget(`Put a new subcategory for these ${ids.length} codes under…`, null, (parent) => {
      nodeForm("New subcategory from the selected codes", null, async (fields) => {
        const made = await write("POST", `${api}/themes/nodes`, { ...fields, parent_id: parent, codes: refs(ids) });
        if (made) selected.clear();
        return made;
      });
    }, "nodes");
  });
  document.getElementById("move-selected").addEventListener("click", () => moveSelection());
  document.getElementById("split-selected").addEventListener("click", () => {
    const ids = [...selected];
    const node = nodeById(codeById(ids[0]).node_id);
    nodeForm(`Split ${ids.length} code${ids.length === 1 ? "" : "s"} off “${node.name}”`, null, async (fields) => {
      const made = await write("POST", `${api}/themes/nodes/${node.id}/split`, {
        version: node.version,
        name: fields.name,
        codes: ids,
      });
      if (made) selected.clear();
      return made;
    });
  });

  // Drag and drop: codes (the selection, if the dragged code is in it) and themes.
  root.addEventListener("dragstart", (event) => {
    const code = event.target.closest && event.target.closest("li.theme-code");
    const head = event.target.closest && event.target.closest(".node-head");
    if (code) {
      const ids = selected.has(code.dataset.code) ? [...selected] : [code.dataset.code];
      event.dataTransfer.setData("application/x-concord-codes", JSON.stringify(ids));
    } else if (head) {
      event.dataTransfer.setData("application/x-concord-node", head.dataset.node);
    } else {
      return;
    }
    event.dataTransfer.effectAllowed = "move";
  });
  const dropTarget = (event) => event.target.closest && event.target.closest(".node-head, ul.unplaced, #unplaced-heading, .theme-codes");
  root.addEventListener("dragover", (event) => {
    const target = dropTarget(event);
    if (!target) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    for (const t of root.querySelectorAll(".drop-here")) t.classList.remove("drop-here");
    target.classList.add("drop-here");
  });
  root.addEventListener("dragleave", (event) => {
    const target = dropTarget(event);
    if (target) target.classList.remove("drop-here");
  });
  root.addEventListener("drop", (event) => {
    const target = dropTarget(event);
    if (!target) return;
    event.preventDefault();
    target.classList.remove("drop-here");
    const nodeId = target.dataset.node || null;
    const codes = event.dataTransfer.getData("application/x-concord-codes");
    const node = event.dataTransfer.getData("application/x-concord-node");
    if (codes) {
      const ids = JSON.parse(codes);
      const beforeCode = event.target.closest("li.theme-code");
      let position;
      if (beforeCode && nodeId) {
        const list = data.codes.filter((c) => c.node_id === nodeId && !ids.includes(c.id));
        position = list.findIndex((c) => c.id === beforeCode.dataset.code);
        if (position < 0) position = undefined;
      }
      placeCodes(ids, nodeId, position).then((done) => { if (done) selected.clear(); });
    } else if (node && node !== nodeId) {
      const moved = nodeById(node);
      const onto = nodeId && nodeById(nodeId);
      const rect = target.getBoundingClientRect();
      if (onto && target.classList.contains("node-head") && event.clientY < rect.top + rect.height * 0.35) {
        // The upper part of a theme's row: before it, among its siblings.
        const siblings = siblingsOf(onto).filter((n) => n.id !== moved.id);
        moveNode(moved, onto.parent_id, siblings.findIndex((n) => n.id === onto.id));
      } else {
        moveNode(moved, nodeId);
      }
    }
  });
}

function moveSelection() {
  const ids = selected.size ? [...selected] : focus && focus.type === "code" ? [focus.id] : [];
  if (ids.length) {
    chooseTarget(`Move ${ids.length === 1 ? `“${codeById(ids[0]).name}”` : `${ids.length} codes`} to…`, null, (target) =>
      placeCodes(ids, target).then((done) => { if (done) selected.clear(); }));
  } else if (focus && focus.type === "node") {
    const node = nodeById(focus.id);
    chooseTarget(`Move “${node.name}” under…`, node, (target) => moveNode(node, target), "nodes");
  }
}

// ---------------------------------------------------------------- keys

function visibleItems() {
  return [...root.querySelectorAll(".node-head, li.theme-code")];
}

function itemOf(element) {
  if (element.classList.contains("node-head")) return { type: "node", id: element.dataset.node };
  return { type: "code", id: element.dataset.code };
}

root.addEventListener("focusin", (event) => {
  const item = event.target.closest(".node-head, li.theme-code");
  if (item) {
    focus = itemOf(item);
    for (const f of root.querySelectorAll(".focused")) f.classList.remove("focused");
    item.classList.add("focused");
  }
});

root.addEventListener("click", (event) => {
  if (event.target.closest("button, a, input")) return;
  const item = event.target.closest(".node-head, li.theme-code");
  if (item) item.focus();
});

root.addEventListener("keydown", (event) => {
  if (isTyping(event.target) && event.target.type !== "checkbox") return;
  const current = event.target.closest && event.target.closest(".node-head, li.theme-code");
  if (!current) return;
  const items = visibleItems();
  const index = items.indexOf(current);
  const item = itemOf(current);
  if (!event.altKey && (event.key === "ArrowDown" || event.key === "ArrowUp")) {
    event.preventDefault();
    const next = items[index + (event.key === "ArrowDown" ? 1 : -1)];
    if (next) next.focus();
    return;
  }
  if (!editor) return;
  if (event.key === " " && item.type === "code") {
    event.preventDefault();
    if (selected.has(item.id)) selected.delete(item.id);
    else selected.add(item.id);
    const box = current.querySelector("input.select-code");
    if (box) box.checked = selected.has(item.id);
    updateToolbar();
    return;
  }
  if (event.key === "m" || event.key === "M") {
    event.preventDefault();
    moveSelection();
    return;
  }
  if (item.type === "node") {
    const node = nodeById(item.id);
    const siblings = siblingsOf(node);
    const at = siblings.findIndex((s) => s.id === node.id);
    if (event.altKey && event.key === "ArrowUp" && at > 0) {
      event.preventDefault();
      moveNode(node, node.parent_id, at - 1);
    } else if (event.altKey && event.key === "ArrowDown" && at < siblings.length - 1) {
      event.preventDefault();
      moveNode(node, node.parent_id, at + 1);
    } else if (event.altKey && event.key === "ArrowRight" && at > 0) {
      event.preventDefault();
      moveNode(node, siblings[at - 1].id);
    } else if (event.altKey && event.key === "ArrowLeft" && node.parent_id) {
      event.preventDefault();
      const parent = nodeById(node.parent_id);
      const parentAt = siblingsOf(parent).findIndex((s) => s.id === parent.id);
      moveNode(node, parent.parent_id, parentAt + 1);
    } else if (event.key === "e" || event.key === "E") {
      event.preventDefault();
      editNode(node);
    } else if (event.key === "Delete") {
      event.preventDefault();
      deleteNode(node);
    }
  } else if (event.altKey && (event.key === "ArrowUp" || event.key === "ArrowDown")) {
    const code = codeById(item.id);
    if (!code.node_id) return;
    event.preventDefault();
    const list = data.codes.filter((c) => c.node_id === code.node_id);
    const at = list.findIndex((c) => c.id === code.id);
    const to = at + (event.key === "ArrowUp" ? -1 : 1);
    if (to >= 0 && to < list.length) placeCodes([code.id], code.node_id, to);
  }
});

// ---------------------------------------------------------------- live

let pending = null;
if (window.EventSource) {
  const events = new EventSource(`${api}/events`);
  events.addEventListener("message", (message) => {
    const event = JSON.parse(message.data);
    if (event.kind !== "theme.changed" && !event.kind.startsWith("consensus.")) return;
    clearTimeout(pending);
    pending = setTimeout(async () => {
      const mine = ownWrites > 0;
      ownWrites = 0;
      await load();
      if (!mine) say("Updated with a change made by someone else.");
    }, 150);
  });
}

load();
