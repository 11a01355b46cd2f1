// The caret, the keyboard selection and the selected coding.
//
// The text is not editable, so the browser draws no caret and Shift+arrows
// select nothing: the page keeps its own caret (code points, `page.caret` and
// `page.anchor`) and mirrors the selection into the DOM selection.
import { el } from "../common.js";
import { snapToGrapheme, wordStep } from "../offsets.js";
import { clip, lineAt, lineSpan, subtree } from "./layout.js";

export function createCaret(page) {
  const { $, textRoot, codes, codings } = page;
  const { view } = page;

  const caretEl = el("span", "text-caret");
  caretEl.setAttribute("aria-hidden", "true");

  function place() {
    if (document.activeElement !== textRoot) {
      caretEl.hidden = true;
      return;
    }
    const r = view.relativeRect(view.caretRect(page.caret));
    caretEl.hidden = false;
    caretEl.style.transform = `translate(${r.left}px, ${r.top}px)`;
    caretEl.style.height = `${r.height}px`;
  }

  function hide() {
    caretEl.hidden = true;
  }

  function mirrorSelection() {
    const sel = window.getSelection();
    if (page.anchor === page.caret) {
      if (sel.rangeCount && textRoot.contains(sel.anchorNode)) sel.removeAllRanges();
      return;
    }
    const [an, ao] = view.cpToPoint(page.anchor);
    const [fn, fo] = view.cpToPoint(page.caret);
    sel.setBaseAndExtent(an, ao, fn, fo);
  }

  function moveCaret(to, extend, exact = false) {
    page.caret = Math.max(0, Math.min(to, page.doc.map.length));
    if (!extend) page.anchor = page.caret;
    else page.selectionExact = exact;
    mirrorSelection();
    keepInView(view.caretRect(page.caret));
    place();
    describe();
    if (page.anchor !== page.caret && page.editable()) page.picker.open("apply", { focus: false });
    else if (page.picker.mode === "apply" && !page.picker.hasFocus()) page.picker.close();
  }

  /** Scrolls the page so `rect` is visible below the sticky bar. */
  function keepInView(rect) {
    const top = (document.querySelector(".coding-bar")?.getBoundingClientRect().bottom ?? 0) + 8;
    const bottom = window.innerHeight - 16;
    if (rect.top < top) window.scrollBy(0, rect.top - top - rect.height);
    else if (rect.bottom > bottom) window.scrollBy(0, rect.bottom - bottom + rect.height);
  }

  function describe() {
    const i = Math.max(0, lineAt(page.doc.lines, page.caret));
    const at = view.codingsAt(page.caret);
    let msg = `Line ${i + 1}`;
    if (page.anchor !== page.caret) {
      msg += ` · ${Math.abs(page.caret - page.anchor)} characters selected`;
      if (page.editable()) msg += ": type a code name or press Enter";
    }
    if (at.length) {
      msg += " · " + at.map((c) => {
        const name = codes.get(c.code_id)?.name ?? "?";
        return c.memo ? `${name} (memo: ${clip(c.memo, 80)})` : name;
      }).join("; ");
    }
    $("caret-info").textContent = msg;
  }

  // Up and Down follow the lines as they are drawn (a turn wraps over several),
  // falling back to the next text line when the point is off screen.
  let goalX = null;
  function verticalMove(down) {
    const { lines } = page.doc;
    const caret = page.caret;
    const rect = view.caretRect(caret);
    const x = goalX ?? rect.left;
    const lineHeight = rect.height || 24;
    const y = down ? rect.bottom + lineHeight / 2 : rect.top - lineHeight / 2;
    let target = null;
    if (y > 0 && y < window.innerHeight) {
      const pos = view.caretFromPoint(x, y);
      if (pos) target = view.pointToCp(pos[0], pos[1]);
    }
    if (target === null || target === caret) {
      const i = lineAt(lines, caret);
      const j = down ? Math.min(lines.length - 1, i + 1) : Math.max(0, i - 1);
      const col = caret - lines[i].start;
      target = Math.min(lines[j].start + col, lines[j].end);
      if (j === i) target = down ? lines[i].end : lines[i].start;
    }
    goalX = x;
    return target;
  }

  /** Up and Down start again from where the caret is, not from an earlier column. */
  function forgetColumn() {
    goalX = null;
  }

  function stepChar(cp, forward) {
    // Move by whole graphemes so an emoji or an accented letter is one step.
    const { text: s, map } = page.doc;
    const u = map.toU16(cp);
    if (forward) {
      const next = snapToGrapheme(s, Math.min(s.length, u + 1), "end");
      return map.toCp(next, "after");
    }
    const prev = snapToGrapheme(s, Math.max(0, u - 1), "start");
    return map.toCp(prev);
  }

  function stepWord(cp, forward) {
    const { text: s, map } = page.doc;
    return map.toCp(wordStep(s, map.toU16(cp), forward));
  }

  // ----- selecting codings -------------------------------------------------

  function selectCoding(id, { scroll = false, focusText = false } = {}) {
    page.bounds.flush();
    page.selectedId = id && codings.has(id) ? id : null;
    if (page.selectedId && scroll) {
      const c = codings.get(page.selectedId);
      const [first] = lineSpan(page.doc.lines, c.start, c.end);
      page.doc.lineEls[first].scrollIntoView({ block: "center" });
      keepInView(view.caretRect(c.start));
      page.caret = page.anchor = c.start;
      mirrorSelection();
    }
    if (focusText) textRoot.focus({ preventScroll: true });
    page.scheduleRender();
  }

  let cycle = { cp: -1, index: 0 };
  function selectAt(cp, target) {
    const stripe = target.closest?.(".stripe");
    if (stripe) return selectCoding(stripe.dataset.codingId);
    const at = view.codingsAt(cp);
    if (!at.length) return selectCoding(null);
    // Clicking again on the same place steps outwards through the codings over it.
    cycle = cycle.cp === cp ? { cp, index: (cycle.index + 1) % at.length } : { cp, index: 0 };
    selectCoding(at[cycle.index].id);
  }

  function occurrence(codeIds, forward) {
    const list = view.visibleCodings().filter((c) => codeIds.has(c.code_id)).sort((a, b) => a.start - b.start || a.end - b.end);
    if (!list.length) return null;
    const selectedId = page.selectedId;
    const from = selectedId && codings.has(selectedId) ? codings.get(selectedId) : { start: page.caret, end: page.caret, id: "" };
    const after = (c) => c.start > from.start || (c.start === from.start && c.id > from.id && c.id !== from.id);
    if (forward) return list.find(after) ?? list[0];
    const before = list.filter((c) => !after(c) && c.id !== from.id);
    return before[before.length - 1] ?? list[list.length - 1];
  }

  function jumpToCoding(forward, codeId = null) {
    const ids = codeId ? subtree([...codes.values()], codeId) : new Set(codes.keys());
    const target = occurrence(ids, forward);
    if (!target) {
      page.ui.toast(codeId ? "No coding of this code in this transcript." : "No codings yet.");
      return;
    }
    selectCoding(target.id, { scroll: true });
    page.ui.announce(`${codes.get(target.code_id)?.name}: “${view.quote(target, 60)}”`);
  }

  return {
    element: caretEl,
    place,
    hide,
    mirrorSelection,
    moveCaret,
    describe,
    verticalMove,
    forgetColumn,
    stepChar,
    stepWord,
    selectCoding,
    selectAt,
    jumpToCoding,
  };
}
