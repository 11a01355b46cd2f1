// The code picker: it opens at a selection ("apply": code it) or at the
// selected coding ("recode": change its code). Typing filters the codes; a
// name no code has offers to create that code.
import { el } from "../common.js";
import { snapSelection } from "../offsets.js";
import { clipToTurnText, definitionMatches, rankCodes, snippetAround } from "./layout.js";

export function createPicker(page) {
  const { $, textRoot, codes, codings, view, cursor, edits, layer, ui } = page;

  const pickerEl = $("code-picker");
  const pickerInput = $("code-picker-input");
  const pickerList = $("code-picker-list");
  const pickerQuote = $("code-picker-quote");
  document.body.append(pickerEl); // positioned against the page, above everything
  const state = {
    mode: null, // "apply" | "recode"
    range: null,
    options: [],
    active: 0,
    hasFocus: () => pickerEl.contains(document.activeElement),
  };

  function pendingRange() {
    const a = Math.min(page.anchor, page.caret);
    const b = Math.max(page.anchor, page.caret);
    if (a === b) return null;
    const { text, map, lines, labelEnds } = page.doc;
    const snapped = snapSelection(text, map.toU16(a), map.toU16(b), { words: !page.selectionExact });
    if (!snapped) return null;
    const start = map.toCp(snapped[0]);
    const end = map.toCp(snapped[1], "after");
    if (page.selectionExact) return [start, end];
    // A selection codes what speakers said: it starts and ends in the text of
    // a turn, never on a line break or in a "Name: " label (unless Alt asks
    // for exact characters).
    return clipToTurnText(lines, labelEnds, start, end);
  }

  function showPending(range) {
    if (!globalThis.CSS?.highlights || typeof Highlight === "undefined") return;
    if (range) CSS.highlights.set("concord-pending", new Highlight(view.rangeOf(range[0], range[1])));
    else CSS.highlights.delete("concord-pending");
  }

  function open(mode, { focus = true, initial = "" } = {}) {
    if (!page.editable()) return;
    let range = null;
    if (mode === "apply") {
      range = pendingRange();
      if (!range) {
        close();
        return;
      }
    } else if (!page.selectedId) {
      return;
    }
    const wasOpen = !pickerEl.hidden && state.mode === mode;
    $("coding-tip").hidden = true;
    state.mode = mode;
    state.range = range;
    pickerEl.hidden = false;
    pickerEl.dataset.mode = mode;
    pickerInput.setAttribute("aria-expanded", "true");
    const c = mode === "recode" ? codings.get(page.selectedId) : null;
    pickerQuote.textContent = mode === "apply"
      ? `“${view.quote({ start: range[0], end: range[1] }, 120)}”${page.selectionExact ? " (exact characters)" : ""}`
      : `Change the code of “${view.quote(c, 80)}” (now “${codes.get(c.code_id)?.name}”)`;
    if (!wasOpen) pickerInput.value = initial;
    else if (initial) pickerInput.value += initial;
    showPending(range);
    fill();
    positionPicker();
    if (focus) {
      pickerInput.focus({ preventScroll: true });
      const end = pickerInput.value.length;
      pickerInput.setSelectionRange(end, end);
    }
  }

  function close({ restoreFocus = false } = {}) {
    if (pickerEl.hidden) return;
    const hadFocus = state.hasFocus();
    pickerEl.hidden = true;
    state.mode = null;
    state.range = null;
    pickerInput.setAttribute("aria-expanded", "false");
    showPending(null);
    if (restoreFocus || hadFocus) textRoot.focus({ preventScroll: true });
  }

  function positionPicker() {
    let rect;
    if (state.mode === "apply" && state.range) {
      const rects = view.rangeOf(state.range[0], state.range[1]).getClientRects();
      rect = rects[rects.length - 1] ?? view.caretRect(state.range[1]);
    } else if (page.selectedId && codings.has(page.selectedId)) {
      rect = view.caretRect(codings.get(page.selectedId).end);
    } else {
      return;
    }
    const width = pickerEl.offsetWidth || 320;
    const height = pickerEl.offsetHeight || 240;
    let left = rect.left;
    let top = rect.bottom + 6;
    left = Math.max(8, Math.min(left, document.documentElement.clientWidth - width - 8));
    if (top + height > window.innerHeight - 8 && rect.top - height - 6 > 8) top = rect.top - height - 6;
    pickerEl.style.left = `${left + window.scrollX}px`;
    pickerEl.style.top = `${top + window.scrollY}px`;
  }

  function fill() {
    const query = pickerInput.value.trim();
    const all = [...codes.values()];
    const matches = rankCodes(all, query, page.recentCodes).slice(0, 60);
    const exact = all.some((c) => c.name.toLocaleLowerCase() === query.toLocaleLowerCase());
    state.options = matches.map((code) => ({ code }));
    if (query && !exact) state.options.push({ create: query });
    state.active = Math.min(state.active, Math.max(0, state.options.length - 1));
    if (query) state.active = 0;
    const counts = layer.countByCode();
    pickerList.replaceChildren(...state.options.map((opt, i) => {
      const li = el("li", "option");
      li.id = `code-picker-opt-${i}`;
      li.setAttribute("role", "option");
      if (opt.create) {
        li.classList.add("create");
        li.dataset.create = opt.create;
        li.append(el("span", "plus", "+"), el("span", "name", `Create code “${opt.create}”`));
      } else {
        li.dataset.codeId = opt.code.id;
        const sw = el("span", "swatch");
        sw.style.setProperty("--c", opt.code.color);
        const name = el("span", "name", opt.code.name);
        // Found by its definition: show the words that matched.
        const q = query.toLocaleLowerCase();
        if (!opt.code.name.toLocaleLowerCase().includes(q) && definitionMatches(opt.code, q)) {
          name.append(el("span", "def", ` · ${snippetAround(opt.code.definition, q)}`));
        }
        li.title = opt.code.definition || opt.code.name;
        li.append(sw, name, el("span", "count", String(counts.get(opt.code.id) ?? 0)));
      }
      li.addEventListener("mousedown", (e) => e.preventDefault());
      li.addEventListener("click", () => choose(i));
      return li;
    }));
    if (!state.options.length) {
      pickerList.append(el("li", "empty", codes.size ? "No code matches. Type a name to create one." : "Type a name to create your first code."));
    }
    highlightOption();
  }

  function highlightOption() {
    [...pickerList.children].forEach((li, i) => li.setAttribute("aria-selected", String(i === state.active)));
    const active = pickerList.children[state.active];
    if (active?.id) {
      pickerInput.setAttribute("aria-activedescendant", active.id);
      // Scroll the list only: scrollIntoView would also scroll the page.
      const top = active.offsetTop;
      const bottom = top + active.offsetHeight;
      if (top < pickerList.scrollTop) pickerList.scrollTop = top;
      else if (bottom > pickerList.scrollTop + pickerList.clientHeight) pickerList.scrollTop = bottom - pickerList.clientHeight;
    } else {
      pickerInput.removeAttribute("aria-activedescendant");
    }
  }

  function choose(index, { forceCreate = false } = {}) {
    const query = pickerInput.value.trim();
    let opt = state.options[index];
    if (forceCreate && query) {
      const existing = [...codes.values()].find((c) => c.name.toLocaleLowerCase() === query.toLocaleLowerCase());
      opt = existing ? { code: existing } : { create: query };
    }
    if (!opt) return;
    if (state.mode === "apply") {
      const range = state.range;
      const id = opt.create ? edits.createCodeAndApply(opt.create, range) : edits.applyCode(opt.code.id, range);
      close({ restoreFocus: true });
      page.anchor = page.caret = range[1];
      cursor.mirrorSelection();
      page.selectedId = id;
      const codeId = codings.get(id)?.code_id;
      ui.announce(`Coded “${view.quote({ start: range[0], end: range[1] }, 60)}” as “${opt.create ?? opt.code.name}”.`);
      if (page.filterIds && codeId && !page.filterIds.has(codeId)) ui.toast(`Coded as “${opt.create ?? opt.code.name}”, which is hidden while only “${codes.get(page.filterCodeId)?.name}” is shown.`);
    } else if (state.mode === "recode") {
      const c = codings.get(page.selectedId);
      close({ restoreFocus: true });
      if (c && opt.code) edits.editCoding(c.id, { code_id: opt.code.id }, `change the code to “${opt.code.name}”`);
      else if (c && opt.create) edits.recodeAsNew(c.id, opt.create);
      if (opt.code) edits.noteRecent(opt.code.id);
    }
    page.scheduleRender();
  }

  pickerInput.addEventListener("input", () => {
    state.active = 0;
    fill();
  });
  pickerInput.addEventListener("keydown", (e) => {
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      const n = state.options.length;
      if (n) state.active = (state.active + (e.key === "ArrowDown" ? 1 : n - 1)) % n;
      highlightOption();
    } else if (e.key === "Enter") {
      e.preventDefault();
      if (e.altKey && state.mode === "apply") {
        page.selectionExact = true;
        state.range = pendingRange();
      }
      choose(state.active, { forceCreate: e.shiftKey || e.ctrlKey || e.metaKey });
    } else if (e.key === "Escape") {
      e.preventDefault();
      e.stopPropagation();
      close({ restoreFocus: true });
    } else if (e.key === "Tab") {
      e.preventDefault();
      close({ restoreFocus: true });
    }
  });
  pickerEl.addEventListener("focusout", (e) => {
    if (!pickerEl.contains(e.relatedTarget) && e.relatedTarget !== textRoot && e.relatedTarget !== null) close();
  });

  return {
    get mode() {
      return state.mode;
    },
    hasFocus: state.hasFocus,
    element: pickerEl,
    open,
    close,
    fill,
    position: positionPicker,
  };
}
