// The text under the mouse and the keyboard: mouse selections and clicks on
// codings, selections made some other way, what is coded under the pointer,
// and the keys of the text (caret moves, selections, nudges, n/p, c, m, w).
import { el } from "../common.js";
import { snapSelection } from "../offsets.js";
import { clip, lineAt } from "./layout.js";

export function setupInput(page) {
  const { $, textRoot, codes, codings, view, cursor, bounds, edits, picker } = page;

  let mouseDown = null;
  textRoot.addEventListener("mousedown", (e) => {
    if (e.button !== 0 || e.target.closest(".hl-handle")) return;
    mouseDown = { x: e.clientX, y: e.clientY };
    cursor.forgetColumn();
  });

  // A click outside the picker (and outside the text, whose own clicks
  // decide for themselves) dismisses it.
  document.addEventListener("mousedown", (e) => {
    if (!picker.element.hidden && !picker.element.contains(e.target) && !textRoot.contains(e.target)) picker.close();
  });

  document.addEventListener("mouseup", (e) => {
    if (!mouseDown) return;
    const stripe = e.target.closest?.(".stripe");
    if (stripe && textRoot.contains(stripe)) {
      mouseDown = null;
      picker.close();
      cursor.selectCoding(stripe.dataset.codingId);
      return;
    }
    const down = mouseDown;
    mouseDown = null;
    // Let the browser finish the selection (a double click selects a word).
    setTimeout(() => takeMouseSelection(e, down), 0);
  });

  function takeMouseSelection(e, down) {
    const sel = window.getSelection();
    const inText = sel.rangeCount && textRoot.contains(sel.anchorNode) && textRoot.contains(sel.focusNode);
    if (!inText) return;
    const a = view.pointToCp(sel.anchorNode, sel.anchorOffset);
    const f = view.pointToCp(sel.focusNode, sel.focusOffset);
    if (a === null || f === null) return;
    if (!textRoot.contains(document.activeElement)) textRoot.focus({ preventScroll: true });
    if (a === f || sel.isCollapsed) {
      page.anchor = page.caret = f;
      cursor.place();
      cursor.describe();
      const moved = Math.abs(e.clientX - down.x) + Math.abs(e.clientY - down.y);
      if (moved < 4) cursor.selectAt(f, e.target);
      picker.close();
      return;
    }
    page.anchor = a;
    page.caret = f;
    page.selectionExact = e.altKey;
    if (page.selectedId) cursor.selectCoding(null);
    cursor.describe();
    cursor.place();
    if (page.editable()) picker.open("apply", { focus: true });
  }

  // A selection made some other way (by a script, an assistive tool, or the
  // browser's caret browsing) opens the picker like a mouse selection does.
  let selectionTimer = null;
  document.addEventListener("selectionchange", () => {
    if (mouseDown || selectionTimer) return;
    selectionTimer = setTimeout(() => {
      selectionTimer = null;
      adoptDomSelection();
    }, 50);
  });

  function adoptDomSelection() {
    const sel = window.getSelection();
    if (mouseDown || !sel.rangeCount || sel.isCollapsed) return;
    if (!textRoot.contains(sel.anchorNode) || !textRoot.contains(sel.focusNode)) return;
    const a = view.pointToCp(sel.anchorNode, sel.anchorOffset);
    const f = view.pointToCp(sel.focusNode, sel.focusOffset);
    if (a === null || f === null || a === f) return;
    if (a === page.anchor && f === page.caret) return; // the page's own mirror of its selection
    page.anchor = a;
    page.caret = f;
    page.selectionExact = false;
    if (page.selectedId) cursor.selectCoding(null);
    cursor.describe();
    if (page.editable()) picker.open("apply", { focus: true });
  }

  // ----- hover: what is coded here -------------------------------------------

  const tipEl = $("coding-tip");
  document.body.append(tipEl);
  let tipFor = null;
  textRoot.addEventListener("mouseover", (e) => {
    const ids = [];
    const stripe = e.target.closest?.(".stripe");
    if (stripe) ids.push(stripe.dataset.codingId);
    else for (let n = e.target.closest?.(".coding-hl"); n && textRoot.contains(n); n = n.parentElement?.closest(".coding-hl")) ids.push(n.dataset.codingId);
    const key = ids.join();
    if (key === tipFor) return;
    tipFor = key;
    if (!ids.length) {
      tipEl.hidden = true;
      return;
    }
    showTip(ids, e.clientX, e.clientY);
  });
  textRoot.addEventListener("mouseleave", () => {
    tipFor = null;
    tipEl.hidden = true;
  });

  function showTip(ids, x, y) {
    tipEl.replaceChildren(...ids.map((id) => {
      const c = codings.get(id);
      const code = c && codes.get(c.code_id);
      const row = el("div", "tip-row");
      if (!code) return row;
      const sw = el("span", "swatch");
      sw.style.setProperty("--c", code.color);
      row.append(sw, el("strong", "", code.name));
      if (c.memo) row.append(el("span", "tip-memo", clip(c.memo, 200)));
      return row;
    }));
    tipEl.hidden = false;
    const w = tipEl.offsetWidth;
    tipEl.style.left = `${Math.min(x + 14, document.documentElement.clientWidth - w - 8) + window.scrollX}px`;
    tipEl.style.top = `${y + 18 + window.scrollY}px`;
  }

  // ----- the text: keyboard -------------------------------------------------

  textRoot.addEventListener("focus", () => {
    cursor.place();
    cursor.describe();
  });
  textRoot.addEventListener("blur", () => {
    cursor.hide();
  });

  textRoot.addEventListener("keydown", (e) => {
    if (e.target !== textRoot) return;
    const ctrl = e.ctrlKey || e.metaKey;
    const key = e.key;
    const selecting = page.anchor !== page.caret;
    const { text, map, lines } = page.doc;

    // Boundary nudges of the selected coding.
    if (page.selectedId && !selecting && !ctrl) {
      if (e.code === "BracketLeft" || e.code === "BracketRight") {
        e.preventDefault();
        bounds.nudgeBoundary(e.shiftKey ? "end" : "start", e.code === "BracketRight", e.altKey);
        return;
      }
      if (e.altKey && (key === "ArrowLeft" || key === "ArrowRight")) {
        e.preventDefault();
        bounds.nudgeBoundary(e.shiftKey ? "start" : "end", key === "ArrowRight", true);
        return;
      }
    }

    let to = null;
    switch (key) {
      case "ArrowLeft":
        to = ctrl ? cursor.stepWord(page.caret, false) : (!e.shiftKey && selecting ? Math.min(page.anchor, page.caret) : cursor.stepChar(page.caret, false));
        break;
      case "ArrowRight":
        to = ctrl ? cursor.stepWord(page.caret, true) : (!e.shiftKey && selecting ? Math.max(page.anchor, page.caret) : cursor.stepChar(page.caret, true));
        break;
      case "ArrowUp":
      case "ArrowDown":
        e.preventDefault();
        cursor.moveCaret(cursor.verticalMove(key === "ArrowDown"), e.shiftKey, e.altKey);
        return;
      case "Home":
        to = ctrl ? 0 : lines[lineAt(lines, page.caret)].start;
        break;
      case "End":
        to = ctrl ? map.length : lines[lineAt(lines, page.caret)].end;
        break;
      default:
        break;
    }
    if (to !== null) {
      e.preventDefault();
      cursor.forgetColumn();
      if (e.shiftKey && page.selectedId) cursor.selectCoding(null);
      cursor.moveCaret(to, e.shiftKey, e.altKey);
      return;
    }

    if (key === "Escape") {
      if (selecting) {
        page.anchor = page.caret;
        cursor.mirrorSelection();
        picker.close();
        cursor.describe();
      } else if (page.selectedId) {
        cursor.selectCoding(null);
      }
      e.preventDefault();
      return;
    }
    if (ctrl || e.altKey) return;

    if (selecting) {
      if (!page.editable()) return;
      if (key === "Enter") {
        e.preventDefault();
        picker.open("apply", { focus: true });
      } else if (key.length === 1 && key !== " ") {
        // Typing over a selection starts the code name in the picker.
        e.preventDefault();
        picker.open("apply", { focus: true, initial: key });
        picker.fill();
      }
      return;
    }

    const c = page.selectedId ? codings.get(page.selectedId) : null;
    switch (key) {
      case "n":
      case "p":
        e.preventDefault();
        cursor.jumpToCoding(key === "n");
        break;
      case "Delete":
      case "Backspace":
        if (c && page.editable()) {
          e.preventDefault();
          edits.removeCoding(c.id);
        }
        break;
      case "c":
        if (c && page.editable()) {
          e.preventDefault();
          picker.open("recode", { focus: true });
        }
        break;
      case "m":
      case "Enter":
        if (c) {
          e.preventDefault();
          $("coding-memo").focus();
        } else if (key === "Enter") {
          const at = view.codingsAt(page.caret);
          if (at.length) {
            e.preventDefault();
            cursor.selectCoding(at[0].id);
          }
        }
        break;
      case "w":
        // Select the word at the caret (or just before it): a quick start for keyboard coding.
        if (page.editable()) {
          e.preventDefault();
          const u = map.toU16(page.caret);
          const atWord = u < text.length && !/\s/u.test(text[u]);
          const snapped = atWord ? snapSelection(text, u, u + 1) : u > 0 ? snapSelection(text, u - 1, u) : null;
          if (snapped) {
            page.anchor = map.toCp(snapped[0]);
            page.caret = map.toCp(snapped[1], "after");
            page.selectionExact = false;
            cursor.moveCaret(page.caret, true);
          }
        }
        break;
      default:
        break;
    }
  });

}
