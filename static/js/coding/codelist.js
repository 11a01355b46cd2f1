// The code list in the sidebar: the codebook as a tree with counts, the
// filter box, "only this code", next/previous occurrence, and each code's
// details edited in place (name, colour, definition, criteria, example,
// parent, merge, delete).
import { el } from "../common.js";
import { codeTree, subtree } from "./layout.js";

export function createCodeList(page) {
  const { $, codes, codings, cursor, edits, layer, ui } = page;

  const list = $("code-list");
  const expanded = new Set();
  let listDirty = true;
  let focusedCodeId = null;

  function setFilter(codeId, rerender = true) {
    page.filterCodeId = codeId;
    page.filterIds = codeId ? subtree([...codes.values()], codeId) : null;
    $("filter-note").hidden = !codeId;
    if (codeId) $("filter-name").textContent = codes.get(codeId)?.name ?? "";
    listDirty = true;
    if (rerender) page.scheduleRender();
  }

  function signature() {
    let s = `${page.editable()}|${page.filterCodeId}|${[...expanded].join()}|${$("code-search").value}|`;
    for (const c of codes.values()) s += `${c.id}:${c.name}:${c.color}:${c.parent_id}:${c.version}:${c.pending ? 1 : 0};`;
    return s;
  }

  let listSignature = "";
  function render() {
    const counts = layer.countByCode();
    const sig = signature();
    // Rebuilding under someone typing a definition would lose their text.
    const active = document.activeElement;
    const field = list.contains(active) ? active.dataset.field : null;
    const owner = field && codes.get(active.closest(".code-item")?.dataset.codeId);
    const busy = Boolean(owner) && ["TEXTAREA", "INPUT"].includes(active.tagName) && active.value !== (owner[field] ?? "");
    if ((sig !== listSignature || listDirty) && !busy) {
      listSignature = sig;
      listDirty = false;
      buildList();
    }
    for (const item of list.querySelectorAll(".code-item")) {
      const n = counts.get(item.dataset.codeId) ?? 0;
      const count = item.querySelector(":scope > .code-row .code-count");
      if (count.textContent !== String(n)) count.textContent = String(n);
    }
    let shown = 0;
    for (const c of codings.values()) if (codes.has(c.code_id)) shown++;
    $("code-total").textContent = `${codes.size} code${codes.size === 1 ? "" : "s"} · ${shown} coding${shown === 1 ? "" : "s"}`;
  }

  function buildList() {
    const all = [...codes.values()];
    const search = $("code-search").value.trim().toLocaleLowerCase();
    const tree = codeTree(all);
    const shown = search ? new Set(all.filter((c) => c.name.toLocaleLowerCase().includes(search)).map((c) => c.id)) : null;
    if (shown) {
      // Keep the ancestors of a match so the tree still reads.
      for (const id of [...shown]) {
        let p = codes.get(id)?.parent_id;
        while (p && codes.has(p) && !shown.has(p)) {
          shown.add(p);
          p = codes.get(p).parent_id;
        }
      }
    }
    const items = new Map();
    const roots = [];
    const ro = !page.editable();
    for (const { code, depth, hasChildren } of tree) {
      if (shown && !shown.has(code.id)) continue;
      const li = el("li", "code-item");
      li.dataset.codeId = code.id;
      li.setAttribute("role", "treeitem");
      li.setAttribute("aria-level", String(depth + 1));
      li.setAttribute("aria-label", code.name);
      li.tabIndex = -1;
      if (page.filterCodeId === code.id) li.classList.add("filtered");
      if (code.pending) li.classList.add("pending");
      const row = el("div", "code-row");
      const sw = el("span", "swatch");
      sw.style.setProperty("--c", code.color);
      const name = el("span", "code-name", code.name);
      name.title = code.definition || code.name;
      const count = el("span", "code-count", "0");
      count.title = "Codings in this transcript";
      const prev = iconButton("code-prev", "‹", `Previous coding of “${code.name}” (p)`);
      const next = iconButton("code-next", "›", `Next coding of “${code.name}” (n)`);
      const only = iconButton("code-filter", "Only", `Show only “${code.name}”${hasChildren ? " and its subcodes" : ""} (f)`);
      only.setAttribute("aria-pressed", String(page.filterCodeId === code.id));
      const more = iconButton("code-more", "Edit", `Edit “${code.name}” (Enter)`);
      more.setAttribute("aria-expanded", String(expanded.has(code.id)));
      row.append(sw, name, count, prev, next, only);
      if (!ro) row.append(more);
      li.append(row);
      if (code.definition && !expanded.has(code.id)) li.append(el("p", "code-def", code.definition));
      if (expanded.has(code.id)) li.append(codeDetails(code, ro));
      if (hasChildren) {
        const group = el("ul", "code-children");
        group.setAttribute("role", "group");
        li.append(group);
        li.setAttribute("aria-expanded", "true");
      }
      items.set(code.id, li);
      const parent = code.parent_id && items.get(code.parent_id);
      if (parent && parent.querySelector(":scope > ul")) parent.querySelector(":scope > ul").append(li);
      else roots.push(li);
    }
    const hadFocus = list.contains(document.activeElement);
    const focusedField = hadFocus ? document.activeElement.closest("[data-field]")?.dataset.field ?? (document.activeElement.classList.contains("merge-into") ? "merge" : null) : null;
    list.replaceChildren(...roots);
    if (!roots.length) list.append(el("li", "muted empty", codes.size ? "No code matches." : page.editable() ? "No codes yet: select text and type a name to create one." : "No codes."));
    const focusTarget = (focusedCodeId && items.get(focusedCodeId)) || list.querySelector(".code-item");
    if (focusTarget) focusTarget.tabIndex = 0;
    // The rebuild removed the focused element: give focus to its replacement.
    if (hadFocus && focusTarget) {
      const field = focusedField && focusTarget.querySelector(focusedField === "merge" ? ".merge-into" : `[data-field="${focusedField}"]`);
      (field ?? focusTarget).focus({ preventScroll: true });
    }
  }

  function iconButton(cls, label, title) {
    const b = el("button", `small ghost ${cls}`, label);
    b.type = "button";
    b.tabIndex = -1;
    b.title = title;
    b.setAttribute("aria-label", title);
    return b;
  }

  function codeDetails(code, ro) {
    const box = el("div", "code-details");
    const field = (label, key, multiline) => {
      const l = el("label", "", label);
      const input = multiline ? el("textarea") : el("input");
      if (multiline) input.rows = 2;
      input.value = code[key] ?? "";
      input.dataset.field = key;
      input.readOnly = ro;
      l.append(input);
      return l;
    };
    const colorLabel = el("label", "inline", "Colour ");
    const color = el("input");
    color.type = "color";
    color.value = code.color;
    color.dataset.field = "color";
    color.disabled = ro;
    colorLabel.append(color);

    const parentLabel = el("label", "", "Under");
    const parent = el("select");
    parent.dataset.field = "parent_id";
    parent.disabled = ro;
    const below = subtree([...codes.values()], code.id);
    const top = el("option", "", "(top level)");
    top.value = "";
    parent.append(top);
    for (const { code: k, depth } of codeTree([...codes.values()])) {
      if (below.has(k.id)) continue;
      const o = el("option", "", `${"  ".repeat(depth)}${k.name}`);
      o.value = k.id;
      parent.append(o);
    }
    parent.value = code.parent_id ?? "";
    parentLabel.append(parent);

    const mergeRow = el("div", "merge-row");
    const mergeLabel = el("label", "", "Merge into");
    const merge = el("select");
    merge.className = "merge-into";
    merge.disabled = ro;
    const none = el("option", "", "choose a code…");
    none.value = "";
    merge.append(none);
    for (const { code: k } of codeTree([...codes.values()])) {
      if (k.id === code.id) continue;
      const o = el("option", "", k.name);
      o.value = k.id;
      merge.append(o);
    }
    mergeLabel.append(merge);
    const mergeBtn = el("button", "small", "Merge");
    mergeBtn.type = "button";
    mergeBtn.className = "small merge-button";
    mergeBtn.disabled = ro;
    mergeRow.append(mergeLabel, mergeBtn);
    mergeRow.hidden = ro;

    const del = el("button", "small link danger delete-code", "Delete code");
    del.type = "button";
    del.disabled = ro;
    del.hidden = ro;
    box.append(
      field("Name", "name", false),
      colorLabel,
      field("Definition", "definition", true),
      field("Include when", "inclusion", true),
      field("Exclude when", "exclusion", true),
      field("Example", "example", true),
      parentLabel,
      mergeRow,
      del,
    );
    return box;
  }

  list.addEventListener("click", (e) => {
    const item = e.target.closest(".code-item");
    if (!item) return;
    const id = item.dataset.codeId;
    focusedCodeId = id;
    const b = e.target.closest("button");
    if (!b) {
      if (e.target.closest(".code-def") && page.editable()) {
        toggleDetails(id, false);
        list.querySelector(`.code-item[data-code-id="${CSS.escape(id)}"] [data-field="definition"]`)?.focus();
      } else if (!e.target.closest(".code-details")) {
        item.focus();
      }
      return;
    }
    if (b.classList.contains("code-prev")) cursor.jumpToCoding(false, id);
    else if (b.classList.contains("code-next")) cursor.jumpToCoding(true, id);
    else if (b.classList.contains("code-filter")) setFilter(page.filterCodeId === id ? null : id);
    else if (b.classList.contains("code-more")) toggleDetails(id);
    else if (b.classList.contains("merge-button")) {
      const into = item.querySelector(".merge-into").value;
      if (into) edits.mergeCode(id, into);
      else ui.toast("Choose the code to merge into first.");
    } else if (b.classList.contains("delete-code")) edits.removeCode(id);
  });

  list.addEventListener("change", (e) => {
    const input = e.target.closest("[data-field]");
    const item = e.target.closest(".code-item");
    if (!input || !item || !page.editable()) return;
    const id = item.dataset.codeId;
    const code = codes.get(id);
    if (!code) return;
    const field = input.dataset.field;
    let value = input.value;
    if (field === "parent_id") value = value || null;
    else if (field === "name") {
      value = value.trim();
      if (!value) {
        input.value = code.name;
        return ui.toast("A code needs a name.", { error: true });
      }
      const clash = [...codes.values()].find((c) => c.id !== id && c.name.toLocaleLowerCase() === value.toLocaleLowerCase());
      if (clash) {
        input.value = code.name;
        return ui.toast(`You already have a code named “${clash.name}”: merge into it instead.`, { error: true });
      }
    } else if (field !== "color") value = value.trim();
    const labels = { name: "rename", color: "colour", definition: "definition", inclusion: "inclusion criteria", exclusion: "exclusion criteria", example: "example", parent_id: "move" };
    edits.editCode(id, { [field]: value }, `${labels[field]} of “${code.name}”`);
    listDirty = field === "parent_id" || field === "name";
  });

  list.addEventListener("focusout", () => {
    // A deferred rebuild (see render) can happen once typing is done.
    setTimeout(page.scheduleRender, 0);
  });

  function toggleDetails(id, focus = true) {
    if (expanded.has(id)) expanded.delete(id);
    else expanded.add(id);
    focusedCodeId = id;
    listDirty = true;
    render();
    const item = list.querySelector(`.code-item[data-code-id="${CSS.escape(id)}"]`);
    if (focus && item) {
      const first = expanded.has(id) ? item.querySelector(".code-details [data-field]") : item;
      (first ?? item).focus();
    }
  }

  list.addEventListener("keydown", (e) => {
    const item = e.target.closest(".code-item");
    if (!item || e.target !== item) return;
    const items = [...list.querySelectorAll(".code-item")];
    const i = items.indexOf(item);
    const id = item.dataset.codeId;
    const go = (j) => {
      const target = items[Math.max(0, Math.min(items.length - 1, j))];
      if (!target) return;
      for (const it of items) it.tabIndex = -1;
      target.tabIndex = 0;
      focusedCodeId = target.dataset.codeId;
      target.focus();
    };
    switch (e.key) {
      case "ArrowDown": go(i + 1); break;
      case "ArrowUp": go(i - 1); break;
      case "Home": go(0); break;
      case "End": go(items.length - 1); break;
      case "Enter": toggleDetails(id); break;
      case "F2":
        if (!expanded.has(id)) toggleDetails(id);
        list.querySelector(`.code-item[data-code-id="${CSS.escape(id)}"] [data-field="name"]`)?.focus();
        break;
      case "f": setFilter(page.filterCodeId === id ? null : id); break;
      case "n": cursor.jumpToCoding(true, id); break;
      case "p": cursor.jumpToCoding(false, id); break;
      case "Delete": if (page.editable()) edits.removeCode(id); break;
      default: return;
    }
    e.preventDefault();
  });

  list.addEventListener("focusin", (e) => {
    const item = e.target.closest(".code-item");
    if (item) focusedCodeId = item.dataset.codeId;
  });

  $("code-search").addEventListener("input", () => {
    listDirty = true;
    render();
  });
  $("code-search").addEventListener("keydown", (e) => {
    if (e.key === "ArrowDown") {
      e.preventDefault();
      list.querySelector(".code-item")?.focus();
    } else if (e.key === "Escape") {
      e.currentTarget.value = "";
      listDirty = true;
      render();
    }
  });
  $("filter-clear").addEventListener("click", () => setFilter(null));

  return {
    render,
    setFilter,
    signature,
    /** The list is built again at the next render (the layer's state changed). */
    markDirty() {
      listDirty = true;
    },
    /** The code item that has the list's tab stop, or the first. */
    focus() {
      (list.querySelector('.code-item[tabindex="0"]') ?? list.querySelector(".code-item"))?.focus();
    },
  };
}
