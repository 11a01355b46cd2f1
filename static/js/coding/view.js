// Rendering the transcript: its lines with the codings over them as margin
// stripes and nested highlights, and the conversions between DOM points and
// code points.
//
// Each line is one element whose margin (stripes) and text (highlights) are
// rebuilt only when the codings over it change: a render computes a key per
// line and touches the DOM of the lines whose key differs.
import { el } from "../common.js";
import { OffsetMap } from "../offsets.js";
import { assignLanes, clip, formatTime, lineAt, lineSpan, nestingOrder, segmentLine } from "./layout.js";

const LANE_PX = 6;

export function createView(page) {
  const { textRoot, codes, codings } = page;
  let lanes = new Map();
  let lineKeys = [];
  let lastRenderMs = 0;

  /** Takes the transcript's text, lines and turns into `page.doc`. */
  function load(transcript) {
    const text = transcript.text;
    const map = new OffsetMap(text);
    const lines = transcript.lines.length ? transcript.lines : [{ start: 0, end: map.length }];
    const lineU16 = lines.map((l) => map.toU16(l.start)); // UTF-16 start of each line, for DOM reads
    const labelEnds = new Map(); // line index -> end of its speaker label
    const lineSpeakers = lines.map(() => 0); // line index -> speaker colour index
    let hasTimes = false;
    const speakers = new Map();
    for (const turn of transcript.turns ?? []) {
      const i = lineAt(lines, turn.start);
      if (i < 0) continue;
      // Colours as on the transcript page: 0 for no speaker, then by first appearance.
      if (turn.speaker && !speakers.has(turn.speaker)) speakers.set(turn.speaker, speakers.size + 1);
      const speaker = turn.speaker ? speakers.get(turn.speaker) : 0;
      const [, last] = lineSpan(lines, turn.start, Math.max(turn.start + 1, turn.end));
      for (let j = i; j <= last; j++) lineSpeakers[j] = speaker;
      labelEnds.set(i, {
        labelEnd: turn.label_end ?? lines[i].start,
        startMs: turn.start_ms,
      });
      if (turn.start_ms !== null && turn.start_ms !== undefined) hasTimes = true;
    }
    page.doc = { text, map, lines, lineU16, labelEnds, lineSpeakers, hasTimes, lineEls: [] };
  }

  function visibleCodings() {
    const out = [];
    for (const c of codings.values()) {
      if (!codes.has(c.code_id)) continue;
      if (page.filterIds && !page.filterIds.has(c.code_id)) continue;
      out.push(c);
    }
    return out;
  }

  /** The visible codings over `cp`, innermost first. */
  function codingsAt(cp) {
    return visibleCodings().filter((c) => c.start <= cp && cp < c.end).sort(nestingOrder).reverse();
  }

  function quote(c, max = 240) {
    return clip(page.doc.map.slice(c.start, c.end), max);
  }

  function buildSkeleton() {
    const { lines, labelEnds, lineSpeakers, hasTimes } = page.doc;
    textRoot.replaceChildren();
    textRoot.classList.toggle("has-times", hasTimes);
    const frag = document.createDocumentFragment();
    page.doc.lineEls = lines.map((line, i) => {
      const row = el("div", "line");
      row.id = `L${i + 1}`;
      row.dataset.line = String(i + 1);
      row.dataset.start = String(line.start);
      // Lines off screen are not laid out (content-visibility); a rough height
      // keeps the scrollbar and jumps to far codings from drifting.
      row.style.setProperty("--rows", String(Math.max(1, Math.ceil((line.end - line.start) / 90))));
      const turn = labelEnds.get(i);
      if (turn) row.classList.add("turn-start");
      row.classList.add(`speaker-${lineSpeakers[i] % 8}`);
      const ln = el("span", "ln", String(i + 1));
      ln.setAttribute("aria-hidden", "true");
      row.append(ln);
      if (hasTimes) {
        const ts = el("span", "ts", turn && turn.startMs != null ? formatTime(turn.startMs) : "");
        ts.setAttribute("aria-hidden", "true");
        row.append(ts);
      }
      const margin = el("span", "margin");
      margin.setAttribute("aria-hidden", "true");
      row.append(margin, el("span", "text"));
      frag.append(row);
      return row;
    });
    textRoot.append(frag, ...page.overlays);
    lineKeys = new Array(lines.length).fill(null);
  }

  function render() {
    const started = performance.now();
    const { lines } = page.doc;
    const visible = visibleCodings();
    const perLine = lines.map(() => []);
    const items = [];
    for (const c of visible) {
      const [first, last] = lineSpan(lines, c.start, c.end);
      items.push({ id: c.id, first, last });
      for (let i = first; i <= last; i++) perLine[i].push(c);
    }
    const laid = assignLanes(items, lanes);
    lanes = laid.lanes;
    textRoot.style.setProperty("--lanes", String(Math.max(1, laid.count)));
    // Dense layers get thinner lanes, so the margin never crowds out the text.
    textRoot.style.setProperty("--lane-w", `${laid.count <= 16 ? LANE_PX : Math.max(3, Math.floor((16 * LANE_PX) / laid.count))}px`);
    const spans = new Map(items.map((it) => [it.id, it]));
    for (let i = 0; i < lines.length; i++) {
      const list = perLine[i];
      let key = "";
      for (const c of list) {
        const s = spans.get(c.id);
        key += `${c.id}:${c.start}:${c.end}:${codes.get(c.code_id).color}:${lanes.get(c.id)}:${s.first === i ? 1 : 0}${s.last === i ? 1 : 0}:${c.id === page.selectedId ? 1 : 0}${c.pending ? 1 : 0}|`;
      }
      if (key === lineKeys[i]) continue;
      lineKeys[i] = key;
      fillLine(i, list, spans);
    }
    lastRenderMs = performance.now() - started;
  }

  /** Renders every line again, as a measurement from a test page; answers how long it took. */
  function renderAll() {
    lineKeys.fill(null);
    render();
    return lastRenderMs;
  }

  function fillLine(i, list, spans) {
    const { text, map, lines, labelEnds, lineEls } = page.doc;
    const row = lineEls[i];
    const line = lines[i];
    const margin = row.querySelector(".margin");
    const textEl = row.lastElementChild;
    const stripes = document.createDocumentFragment();
    for (const c of list) {
      const s = spans.get(c.id);
      const stripe = el("span", "stripe");
      stripe.dataset.codingId = c.id;
      if (s.first === i) stripe.classList.add("top");
      if (s.last === i) stripe.classList.add("bottom");
      if (c.id === page.selectedId) stripe.classList.add("sel");
      stripe.style.setProperty("--c", codes.get(c.code_id).color);
      stripe.style.setProperty("--lane", String(lanes.get(c.id)));
      stripes.append(stripe);
    }
    margin.replaceChildren(stripes);

    const turn = labelEnds.get(i);
    const segments = segmentLine(line.start, line.end, list, turn ? [turn.labelEnd] : []);
    const byId = new Map(list.map((c) => [c.id, c]));
    const out = document.createDocumentFragment();
    // Adjacent segments share their outer codings: keep those spans open so a
    // nested coding sits inside one span of its container.
    const stack = []; // [{id, node}]
    const top = () => (stack.length ? stack[stack.length - 1].node : out);
    for (const seg of segments) {
      let keep = 0;
      while (keep < stack.length && keep < seg.ids.length && stack[keep].id === seg.ids[keep]) keep++;
      stack.length = keep;
      for (let k = keep; k < seg.ids.length; k++) {
        const c = byId.get(seg.ids[k]);
        const span = el("span", "coding-hl");
        span.dataset.codingId = c.id;
        if (c.id === page.selectedId) span.classList.add("sel");
        if (c.pending) span.classList.add("pending");
        span.style.setProperty("--c", codes.get(c.code_id).color);
        top().append(span);
        stack.push({ id: c.id, node: span });
      }
      const content = text.slice(map.toU16(seg.start), map.toU16(seg.end));
      if (turn && seg.end <= turn.labelEnd) top().append(el("span", "speaker", content));
      else top().append(document.createTextNode(content));
    }
    textEl.replaceChildren(out);
  }

  // ----- DOM positions <-> code points -------------------------------------

  /** The UTF-16 index into the transcript of a DOM point inside the text, or null. */
  function pointToU16(node, offset) {
    const { map, lines, lineU16 } = page.doc;
    if (!node || !textRoot.contains(node)) return null;
    if (node === textRoot) {
      const row = textRoot.childNodes[offset];
      const i = row?.dataset?.line ? Number(row.dataset.line) - 1 : lines.length - 1;
      if (!row?.dataset?.line) return map.toU16(lines[i].end);
      return lineU16[i];
    }
    const element = node.nodeType === Node.ELEMENT_NODE ? node : node.parentElement;
    const row = element?.closest(".line");
    if (!row) return null;
    const i = Number(row.dataset.line) - 1;
    const textEl = row.lastElementChild;
    if (node !== textEl && !textEl.contains(node)) {
      const after = textEl.compareDocumentPosition(node) & Node.DOCUMENT_POSITION_FOLLOWING;
      return after ? map.toU16(lines[i].end) : lineU16[i];
    }
    const range = document.createRange();
    range.setStart(textEl, 0);
    range.setEnd(node, offset);
    return lineU16[i] + range.toString().length;
  }

  function pointToCp(node, offset) {
    const u = pointToU16(node, offset);
    return u === null ? null : page.doc.map.toCp(u);
  }

  /** The DOM point of code point `cp`. */
  function cpToPoint(cp) {
    const { map, lines, lineU16, lineEls } = page.doc;
    const i = Math.max(0, lineAt(lines, cp));
    const line = lines[i];
    const clamped = Math.max(line.start, Math.min(cp, line.end));
    let want = map.toU16(clamped) - lineU16[i];
    const textEl = lineEls[i].lastElementChild;
    const walker = document.createTreeWalker(textEl, NodeFilter.SHOW_TEXT);
    let last = null;
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      if (want <= node.data.length) return [node, want];
      want -= node.data.length;
      last = node;
    }
    return last ? [last, last.data.length] : [textEl, 0];
  }

  function rangeOf(start, end) {
    const range = document.createRange();
    const [sn, so] = cpToPoint(start);
    const [en, eo] = cpToPoint(end);
    range.setStart(sn, so);
    range.setEnd(en, eo);
    return range;
  }

  function caretRect(cp) {
    const [node, offset] = cpToPoint(cp);
    const range = document.createRange();
    range.setStart(node, offset);
    range.collapse(true);
    let rect = range.getClientRects()[0] ?? range.getBoundingClientRect();
    if (!rect || (rect.width === 0 && rect.height === 0)) {
      const { lines, lineEls } = page.doc;
      const i = Math.max(0, lineAt(lines, cp));
      const r = lineEls[i].lastElementChild.getBoundingClientRect();
      rect = new DOMRect(r.left, r.top, 0, r.height || 20);
    }
    return rect;
  }

  /** `rect` relative to the text box, where the caret and the handles are placed. */
  function relativeRect(rect) {
    const box = textRoot.getBoundingClientRect();
    return { left: rect.left - box.left, top: rect.top - box.top, height: rect.height };
  }

  function caretFromPoint(x, y) {
    if (document.caretPositionFromPoint) {
      const p = document.caretPositionFromPoint(x, y);
      return p ? [p.offsetNode, p.offset] : null;
    }
    const r = document.caretRangeFromPoint?.(x, y);
    return r ? [r.startContainer, r.startOffset] : null;
  }

  return {
    load,
    visibleCodings,
    codingsAt,
    quote,
    buildSkeleton,
    render,
    renderAll,
    renderMs: () => lastRenderMs,
    pointToCp,
    cpToPoint,
    rangeOf,
    caretRect,
    relativeRect,
    caretFromPoint,
  };
}
