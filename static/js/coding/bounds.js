// Moving a coding's boundaries: nudges from the keyboard or the panel's
// buttons, and drags of the handles at the selected coding's ends.
//
// A run of nudges or one drag is a single change: the page updates at once,
// the write (and the undo entry) follows when the coder pauses.
import { el } from "../common.js";
import { snapSelection } from "../offsets.js";
import { lineAt, nudgeTarget, textStart, turnLines, wordsIn } from "./layout.js";

export function createBounds(page) {
  const { textRoot, codes, codings, view } = page;

  let nudge = null; // { id, before: {start, end}, timer }

  /** Turns the boundary moves made so far into one change (a write and an undo entry). */
  function flush() {
    if (!nudge) return;
    clearTimeout(nudge.timer);
    const { id, before } = nudge;
    nudge = null;
    const rec = codings.get(id);
    if (!rec) return;
    const after = { start: rec.start, end: rec.end };
    if (after.start === before.start && after.end === before.end) {
      if (page.reloadWanted) page.scheduleReload();
      return;
    }
    Object.assign(rec, before);
    page.edits.editCoding(id, after, `move the boundaries of “${codes.get(rec.code_id)?.name ?? ""}”`);
  }

  function setBounds(id, start, end, commitDelay = 700) {
    const rec = codings.get(id);
    if (!rec) return false;
    if (!(start >= 0 && end <= page.doc.map.length && start < end)) return false;
    if (!nudge || nudge.id !== id) {
      flush();
      nudge = { id, before: { start: rec.start, end: rec.end }, timer: null };
    }
    rec.start = start;
    rec.end = end;
    clearTimeout(nudge.timer);
    if (commitDelay !== null) nudge.timer = setTimeout(flush, commitDelay);
    page.scheduleRender();
    return true;
  }

  /**
   * The text of the speaker's turn that holds a coding's `which` boundary, in
   * code points: from after the label of the turn's first line to the end of
   * its last line, and the same without trailing white space.
   */
  function turnText(rec, which) {
    const { text, map, lines, labelEnds } = page.doc;
    const line = lineAt(lines, which === "start" ? rec.start : Math.max(rec.start, rec.end - 1));
    const [first, last] = turnLines(lines, labelEnds, line);
    const from = textStart(lines, labelEnds, first);
    const to = lines[last].end;
    let trimmed = to;
    while (trimmed > from && /\s/u.test(text[map.toU16(trimmed) - 1])) trimmed--;
    return { from, to, trimmed };
  }

  function nudgeBoundary(which, forward, byChar) {
    if (!page.selectedId || !page.editable()) return;
    const rec = codings.get(page.selectedId);
    const pos = which === "start" ? rec.start : rec.end;
    const turn = turnText(rec, which);
    let next;
    if (byChar) {
      next = page.cursor.stepChar(pos, forward);
      // Never out of the turn's text, though a coding made with exact
      // characters beyond it may still be moved back in.
      if ((forward && next > turn.to && pos <= turn.to) || (!forward && next < turn.from && pos >= turn.from)) next = null;
    } else {
      const { text, map } = page.doc;
      const base = map.toU16(turn.from);
      const words = wordsIn(text.slice(base, map.toU16(turn.to))).map(([s, e]) => [map.toCp(base + s), map.toCp(base + e)]);
      next = nudgeTarget(words, [turn.from, turn.trimmed], rec.start, rec.end, which, forward);
    }
    const outward = (which === "start") !== forward;
    if (next === null) {
      if (outward) return page.ui.announce(which === "start" ? "The start is at the beginning of this speaker's turn." : "The end is at the end of this speaker's turn.");
      return page.ui.announce("A coding must keep at least one word.");
    }
    const start = which === "start" ? next : rec.start;
    const end = which === "end" ? next : rec.end;
    if (!setBounds(page.selectedId, start, end)) return page.ui.announce("A coding must keep at least one character.");
    page.ui.announce(`${which === "start" ? "Start" : "End"} moved: “${view.quote({ start, end }, 80)}”`);
  }

  // A handle is a line at the boundary, which lets the pointer through to the
  // text (a drag from the coding's first word selects text), and a knob above
  // the start or below the end, which alone is grabbed.
  const handleStart = el("span", "hl-handle start");
  const handleEnd = el("span", "hl-handle end");
  for (const h of [handleStart, handleEnd]) {
    h.setAttribute("aria-hidden", "true");
    h.hidden = true;
    h.append(el("span", "knob"));
  }
  handleStart.firstChild.title = "Drag to move the start";
  handleEnd.firstChild.title = "Drag to move the end";

  function placeHandles() {
    const c = page.selectedId ? codings.get(page.selectedId) : null;
    const show = Boolean(c) && page.editable() && (!page.filterIds || page.filterIds.has(c.code_id));
    handleStart.hidden = handleEnd.hidden = !show;
    if (!show) return;
    const a = view.relativeRect(view.caretRect(c.start));
    const b = view.relativeRect(view.caretRect(c.end));
    handleStart.style.transform = `translate(${a.left}px, ${a.top}px)`;
    handleStart.style.height = `${a.height}px`;
    handleEnd.style.transform = `translate(${b.left}px, ${b.top}px)`;
    handleEnd.style.height = `${b.height}px`;
  }

  function startDrag(event, which) {
    if (!page.selectedId || !page.editable()) return;
    event.preventDefault();
    event.stopPropagation();
    const id = page.selectedId;
    const from = codings.get(id);
    const before = from ? { start: from.start, end: from.end } : null;
    // Listen on the document, and keep the handles out of hit testing, so the
    // point under the pointer is always the text.
    textRoot.classList.add("dragging");
    let exact = event.altKey;
    const move = (e) => {
      exact = e.altKey;
      const pos = view.caretFromPoint(e.clientX, e.clientY);
      if (!pos) return;
      const cp = view.pointToCp(pos[0], pos[1]);
      if (cp === null) return;
      const rec = codings.get(id);
      if (!rec) return;
      if (which === "start") setBounds(id, Math.min(cp, rec.end - 1), rec.end, null);
      else setBounds(id, rec.start, Math.max(cp, rec.start + 1), null);
    };
    const up = () => {
      document.removeEventListener("pointermove", move);
      document.removeEventListener("pointerup", up);
      document.removeEventListener("pointercancel", up);
      textRoot.classList.remove("dragging");
      const rec = codings.get(id);
      if (rec && !exact) {
        // Snap only the boundary that was dragged; the other stays where it was.
        const { text, map } = page.doc;
        const snapped = snapSelection(text, map.toU16(rec.start), map.toU16(rec.end));
        if (snapped && which === "start") setBounds(id, map.toCp(snapped[0]), rec.end, null);
        if (snapped && which === "end") setBounds(id, rec.start, map.toCp(snapped[1], "after"), null);
      }
      flush();
      const after = codings.get(id);
      if (after && before && (after.start !== before.start || after.end !== before.end)) {
        const name = codes.get(after.code_id)?.name ?? "";
        page.ui.announce(`${which === "start" ? "Start" : "End"} moved: “${view.quote(after, 80)}”`);
        page.ui.toast(`Moved the ${which} of a coding of “${name}”.`, { undo: page.history.latest() });
      }
    };
    document.addEventListener("pointermove", move);
    document.addEventListener("pointerup", up);
    document.addEventListener("pointercancel", up);
  }
  handleStart.addEventListener("pointerdown", (e) => startDrag(e, "start"));
  handleEnd.addEventListener("pointerdown", (e) => startDrag(e, "end"));

  return {
    handles: [handleStart, handleEnd],
    flush,
    nudgeBoundary,
    placeHandles,
    /** The coding whose boundaries are being moved and not yet written, or null. */
    movingId: () => nudge?.id ?? null,
  };
}
