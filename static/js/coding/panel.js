// The panel of the selected coding: its quote and lines, its code, boundary
// nudges, memo, the other codings at its start, and delete.
import { el } from "../common.js";
import { codeTree, lineSpan } from "./layout.js";

export function createPanel(page) {
  const { $, textRoot, codes, codings, view, cursor, bounds, edits, picker } = page;

  const panel = $("coding-panel");
  const panelCode = $("coding-code");
  const panelMemo = $("coding-memo");
  const MEMO_HINT = panelMemo.placeholder;

  function render() {
    const c = page.selectedId ? codings.get(page.selectedId) : null;
    panel.hidden = !c;
    if (!c) return;
    const code = codes.get(c.code_id);
    const [first, last] = lineSpan(page.doc.lines, c.start, c.end);
    $("coding-quote").textContent = `“${view.quote(c)}”`;
    // Up to the agreed code and theme it ended in (or, in the consensus layer,
    // down to its decision and the coders' spans).
    const trace = document.getElementById("coding-trace");
    if (trace) trace.href = `${trace.dataset.base}${c.id}`;
    $("coding-where").textContent = first === last ? `Line ${first + 1}` : `Lines ${first + 1}–${last + 1}`;
    $("coding-swatch").style.setProperty("--c", code?.color ?? "#999");
    const codesKey = page.codeList.signature();
    if (document.activeElement !== panelCode && panelCode.dataset.key !== codesKey) {
      panelCode.dataset.key = codesKey;
      panelCode.replaceChildren(...codeTree([...codes.values()]).map(({ code: k, depth }) => {
        const o = el("option", "", `${"  ".repeat(depth)}${k.name}`);
        o.value = k.id;
        return o;
      }));
    }
    if (document.activeElement !== panelCode) panelCode.value = c.code_id;
    if (document.activeElement !== panelMemo || panelMemo.dataset.codingId !== c.id) {
      panelMemo.value = c.memo;
      panelMemo.dataset.codingId = c.id;
    }
    const ro = !page.editable();
    panelCode.disabled = ro;
    panelMemo.readOnly = ro;
    if (ro) panelMemo.removeAttribute("placeholder");
    else panelMemo.placeholder = MEMO_HINT;
    for (const b of panel.querySelectorAll("button[data-nudge], #coding-delete, #coding-recode")) b.disabled = ro;
    // A read-only view shows what is coded, not the controls to change it.
    for (const part of panel.querySelectorAll(".nudges, #coding-delete, #coding-recode")) part.hidden = ro;
    const others = view.codingsAt(c.start).filter((o) => o.id !== c.id);
    const box = $("coding-others");
    box.hidden = !others.length;
    box.querySelector("ul").replaceChildren(...others.slice(0, 12).map((o) => {
      const li = el("li");
      const b = el("button", "link", codes.get(o.code_id)?.name ?? "?");
      b.type = "button";
      b.addEventListener("click", () => cursor.selectCoding(o.id));
      const sw = el("span", "swatch");
      sw.style.setProperty("--c", codes.get(o.code_id)?.color ?? "#999");
      li.append(sw, b);
      return li;
    }));
  }

  panelCode.addEventListener("change", () => {
    const c = page.selectedId && codings.get(page.selectedId);
    if (!c || !page.editable()) return;
    const code = codes.get(panelCode.value);
    if (code) edits.editCoding(c.id, { code_id: code.id }, `change the code to “${code.name}”`);
    edits.noteRecent(panelCode.value);
  });

  function saveMemo() {
    const id = panelMemo.dataset.codingId;
    const c = id && codings.get(id);
    if (!c || !page.editable()) return;
    if (panelMemo.value !== c.memo) edits.editCoding(id, { memo: panelMemo.value }, `memo on “${codes.get(c.code_id)?.name ?? ""}”`);
  }
  panelMemo.addEventListener("change", saveMemo);
  panelMemo.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      saveMemo();
      textRoot.focus();
    } else if (e.key === "Escape") {
      e.preventDefault();
      saveMemo();
      textRoot.focus();
    }
  });
  panel.addEventListener("click", (e) => {
    const b = e.target.closest("button[data-nudge]");
    if (!b) return;
    const [which, dir] = b.dataset.nudge.split(":");
    bounds.nudgeBoundary(which, dir === "later", e.altKey);
  });
  $("coding-delete").addEventListener("click", () => page.selectedId && edits.removeCoding(page.selectedId));
  $("coding-recode").addEventListener("click", () => picker.open("recode", { focus: true }));
  $("coding-close").addEventListener("click", () => cursor.selectCoding(null, { focusText: true }));

  return {
    render,
    /** Saves the memo being typed (the page is being left). */
    saveMemoIfTyping() {
      if (document.activeElement === panelMemo) saveMemo();
    },
  };
}
