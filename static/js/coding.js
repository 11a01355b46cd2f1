// The coding page: one coder's layer on one transcript.
//
// All offsets held here are code points, as in the data block and the API
// (DESIGN invariant 2); UTF-16 appears only where the DOM is read or written,
// through `offsets.js`. Every change is applied to the page at once and sent
// through one ordered queue of writes, so nothing acknowledged on screen is
// lost when the network or the server is briefly away (invariant 4): creates
// carry their own UUIDs and are retried as they were, updates carry the
// version they were based on, and a stale one is reported and reloaded.
import { describeProblem, el, isTyping, requestJson } from "./common.js";
import { OffsetMap, snapSelection, snapToGrapheme, wordStep } from "./offsets.js";

export { describeProblem };

// ---------------------------------------------------------------------------
// Pure layout helpers (no DOM), exported for tests/js/coding.test.mjs.

/** Index of the line holding code point `cp`; a newline belongs to the line it ends. */
export function lineAt(lines, cp) {
  let lo = 0;
  let hi = lines.length - 1;
  if (hi < 0) return -1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if (lines[mid].start <= cp) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** First and last line that a coding [start, end) shows on. */
export function lineSpan(lines, start, end) {
  let first = lineAt(lines, start);
  // A coding that starts on a newline starts, visibly, on the next line.
  if (first < lines.length - 1 && start >= lines[first].end && start > lines[first].start) first++;
  let last = lineAt(lines, Math.max(start, end - 1));
  if (last > first && end <= lines[last].start) last--;
  return [first, Math.max(first, last)];
}

/**
 * Margin lanes for coding stripes: codings whose line spans overlap get
 * different lanes. A coding keeps its previous lane when that lane is still
 * free, so one edit does not reshuffle (and re-render) every stripe below it.
 */
export function assignLanes(items, previous = new Map()) {
  const sorted = [...items].sort((a, b) => a.first - b.first || b.last - a.last || (a.id < b.id ? -1 : 1));
  const laneEnds = []; // laneEnds[lane] = last line occupied so far
  const lanes = new Map();
  for (const item of sorted) {
    const free = (lane) => lane < laneEnds.length ? laneEnds[lane] < item.first : true;
    let lane = previous.get(item.id);
    if (lane === undefined || !free(lane)) {
      lane = 0;
      while (!free(lane)) lane++;
    }
    while (laneEnds.length <= lane) laneEnds.push(-1);
    laneEnds[lane] = item.last;
    lanes.set(item.id, lane);
  }
  return { lanes, count: laneEnds.length };
}

/** Outermost first: longer codings enclose shorter ones, so spans nest the same way everywhere. */
export function nestingOrder(a, b) {
  return (b.end - b.start) - (a.end - a.start) || a.start - b.start || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/**
 * Splits a line [lineStart, lineEnd) at every coding boundary inside it.
 * `pieces` are codings ({id, start, end}); `cuts` are extra boundaries (the end
 * of a speaker label). Returns [{start, end, ids}] covering the whole line,
 * with `ids` of the codings over each segment, outermost first.
 */
export function segmentLine(lineStart, lineEnd, pieces, cuts = []) {
  const inside = pieces.filter((p) => p.start < lineEnd && p.end > lineStart).sort(nestingOrder);
  const points = new Set([lineStart, lineEnd]);
  for (const p of inside) {
    points.add(Math.max(p.start, lineStart));
    points.add(Math.min(p.end, lineEnd));
  }
  for (const c of cuts) if (c > lineStart && c < lineEnd) points.add(c);
  const sorted = [...points].sort((a, b) => a - b);
  const segments = [];
  for (let i = 0; i + 1 < sorted.length; i++) {
    const a = sorted[i];
    const b = sorted[i + 1];
    const ids = [];
    for (const p of inside) if (p.start <= a && p.end >= b) ids.push(p.id);
    segments.push({ start: a, end: b, ids });
  }
  return segments;
}

/** Codes in tree order with their depth; a code whose parent is gone sits at the top. */
export function codeTree(codes) {
  const byId = new Map(codes.map((c) => [c.id, c]));
  const children = new Map();
  for (const code of codes) {
    const parent = code.parent_id && byId.has(code.parent_id) ? code.parent_id : null;
    if (!children.has(parent)) children.set(parent, []);
    children.get(parent).push(code);
  }
  const byName = (a, b) => a.name.localeCompare(b.name, undefined, { sensitivity: "base", numeric: true });
  const out = [];
  const seen = new Set();
  const walk = (parent, depth) => {
    for (const code of (children.get(parent) ?? []).sort(byName)) {
      if (seen.has(code.id)) continue; // a cycle sent by mistake must not hang the page
      seen.add(code.id);
      out.push({ code, depth, hasChildren: (children.get(code.id) ?? []).length > 0 });
      walk(code.id, depth + 1);
    }
  };
  walk(null, 0);
  for (const code of codes) if (!seen.has(code.id)) out.push({ code, depth: 0, hasChildren: false });
  return out;
}

/** The code and every code under it. */
export function subtree(codes, id) {
  const ids = new Set([id]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const code of codes) {
      if (code.parent_id && ids.has(code.parent_id) && !ids.has(code.id)) {
        ids.add(code.id);
        grew = true;
      }
    }
  }
  return ids;
}

/**
 * Codes matching what was typed in the picker, best first: the exact name,
 * then names starting with it, then names with a word starting with it, then
 * any other containing it; ties go to the most recently used.
 */
export function rankCodes(codes, query, recent = []) {
  const q = query.trim().toLocaleLowerCase();
  const recency = new Map(recent.map((id, i) => [id, i]));
  const scored = [];
  for (const code of codes) {
    const name = code.name.toLocaleLowerCase();
    let score;
    if (q === "") score = 4;
    else if (name === q) score = 0;
    else if (name.startsWith(q)) score = 1;
    else if (name.split(/[\s\-_/]+/u).some((w) => w.startsWith(q))) score = 2;
    else if (name.includes(q)) score = 3;
    else continue;
    scored.push({ code, score, recent: recency.get(code.id) ?? Infinity });
  }
  scored.sort((a, b) => a.score - b.score || a.recent - b.recent || a.code.name.localeCompare(b.code.name));
  return scored.map((s) => s.code);
}

/** The colours the server gives new codes, in its order; a new code takes the first one unused. */
export const PALETTE = [
  "#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#42d4f4", "#f032e6", "#bfef45",
  "#fabed4", "#469990", "#dcbeff", "#9a6324", "#800000", "#aaffc3", "#808000", "#000075",
];

export function nextColor(codes) {
  const used = new Set(codes.map((c) => c.color.toLowerCase()));
  return PALETTE.find((c) => !used.has(c)) ?? PALETTE[codes.length % PALETTE.length];
}

/** "1:02:03" or "02:03" for a turn's start time. */
export function formatTime(ms) {
  const total = Math.floor(ms / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const two = (n) => String(n).padStart(2, "0");
  return h > 0 ? `${h}:${two(m)}:${two(s)}` : `${two(m)}:${two(s)}`;
}

/** A v4 UUID; `crypto.randomUUID` exists only on https or localhost. */
export function newId() {
  if (globalThis.crypto?.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

// ---------------------------------------------------------------------------
// The page.

const CODING_FIELDS = ["code_id", "start", "end", "memo"];
const CODE_FIELDS = ["name", "color", "definition", "inclusion", "exclusion", "example", "parent_id"];
const LANE_PX = 6;
const STATE_LABELS = { assigned: "assigned", in_progress: "in progress", submitted: "submitted" };

/** At most `max` code points of `s`, never half an emoji. */
export function clip(s, max) {
  if (s.length <= max) return s;
  let out = "";
  let n = 0;
  for (const ch of s) {
    if (n++ === max) return `${out}…`;
    out += ch;
  }
  return s;
}

function pick(record, keys) {
  const out = {};
  for (const k of keys) if (k in record) out[k] = record[k];
  return out;
}

function start() {
  const dataEl = document.getElementById("coding-data");
  const textRoot = document.getElementById("coding-text");
  if (!dataEl || !textRoot) return;
  const $ = (id) => document.getElementById(id);
  let csrf = document.querySelector('meta[name="csrf-token"]')?.content ?? "";

  let data = JSON.parse(dataEl.textContent);
  const api = data.api;
  const transcriptId = data.transcript_id;
  const user = data.user;
  const codingUrl = `${api}/transcripts/${transcriptId}/coding`;
  // The same page opens the consensus layer (agreed codes, edited by the lead).
  const consensus = data.layer === "consensus";

  // ----- state -------------------------------------------------------------
  let text = "";
  let map = null;
  let lines = [];
  let lineU16 = []; // UTF-16 start of each line, for DOM reads
  let labelEnds = new Map(); // line index -> end of its speaker label
  let lineSpeakers = []; // line index -> speaker colour index
  let hasTimes = false;
  const codes = new Map();
  const codings = new Map();
  const removedCodings = new Map(); // deleted here, kept for undo
  const removedCodes = new Map();
  let assignment = data.assignment;
  let selectedId = null;
  let filterIds = null; // Set of code ids shown, or null for all
  let filterCodeId = null;
  let caret = 0;
  let anchor = 0;
  let selectionExact = false; // Alt was held: do not snap to words
  let recentCodes = [];
  let lanes = new Map();
  let lineKeys = [];
  let lineEls = [];

  const editable = () => Boolean(assignment?.can_edit) && assignment?.state !== "submitted";

  function loadText(transcript) {
    text = transcript.text;
    map = new OffsetMap(text);
    lines = transcript.lines.length ? transcript.lines : [{ start: 0, end: map.length }];
    lineU16 = lines.map((l) => map.toU16(l.start));
    labelEnds = new Map();
    lineSpeakers = lines.map(() => 0);
    hasTimes = false;
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
  }

  function loadLayer(snapshot) {
    codes.clear();
    for (const code of snapshot.codes) codes.set(code.id, { ...code });
    codings.clear();
    for (const coding of snapshot.codings) codings.set(coding.id, { ...coding });
    assignment = snapshot.assignment;
    if (selectedId && !codings.has(selectedId)) selectedId = null;
    if (filterCodeId && !codes.has(filterCodeId)) setFilter(null, false);
    else if (filterCodeId) filterIds = subtree([...codes.values()], filterCodeId);
  }

  // ----- rendering the text ------------------------------------------------
  //
  // Each line is one element whose margin (stripes) and text (highlights) are
  // rebuilt only when the codings over it change: a render computes a key per
  // line and touches the DOM of the lines whose key differs.

  function visibleCodings() {
    const out = [];
    for (const c of codings.values()) {
      if (!codes.has(c.code_id)) continue;
      if (filterIds && !filterIds.has(c.code_id)) continue;
      out.push(c);
    }
    return out;
  }

  function buildSkeleton() {
    textRoot.replaceChildren();
    textRoot.classList.toggle("has-times", hasTimes);
    const frag = document.createDocumentFragment();
    lineEls = lines.map((line, i) => {
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
    textRoot.append(frag, caretEl, handleStart, handleEnd);
    lineKeys = new Array(lines.length).fill(null);
  }

  let renderQueued = false;
  function scheduleRender() {
    if (renderQueued) return;
    renderQueued = true;
    requestAnimationFrame(() => {
      renderQueued = false;
      const started = performance.now();
      renderText();
      renderSidebar();
      renderPanel();
      placeCaret();
      placeHandles();
      lastFrameMs = performance.now() - started;
    });
  }

  let lastRenderMs = 0;
  let lastFrameMs = 0;
  function renderText() {
    const started = performance.now();
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
        key += `${c.id}:${c.start}:${c.end}:${codes.get(c.code_id).color}:${lanes.get(c.id)}:${s.first === i ? 1 : 0}${s.last === i ? 1 : 0}:${c.id === selectedId ? 1 : 0}${c.pending ? 1 : 0}|`;
      }
      if (key === lineKeys[i]) continue;
      lineKeys[i] = key;
      fillLine(i, list, spans);
    }
    lastRenderMs = performance.now() - started;
  }

  function fillLine(i, list, spans) {
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
      if (c.id === selectedId) stripe.classList.add("sel");
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
        if (c.id === selectedId) span.classList.add("sel");
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
    return u === null ? null : map.toCp(u);
  }

  /** The DOM point of code point `cp`. */
  function cpToPoint(cp) {
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
      const i = Math.max(0, lineAt(lines, cp));
      const r = lineEls[i].lastElementChild.getBoundingClientRect();
      rect = new DOMRect(r.left, r.top, 0, r.height || 20);
    }
    return rect;
  }

  // ----- caret and keyboard selection --------------------------------------
  //
  // The text is not editable, so the browser draws no caret and Shift+arrows
  // select nothing: the page keeps its own caret (code points) and mirrors the
  // selection into the DOM selection.

  const caretEl = el("span", "text-caret");
  caretEl.setAttribute("aria-hidden", "true");
  const handleStart = el("span", "hl-handle start");
  const handleEnd = el("span", "hl-handle end");
  for (const h of [handleStart, handleEnd]) {
    h.setAttribute("aria-hidden", "true");
    h.hidden = true;
  }
  handleStart.title = "Drag to move the start";
  handleEnd.title = "Drag to move the end";

  function relativeRect(rect) {
    const box = textRoot.getBoundingClientRect();
    return { left: rect.left - box.left, top: rect.top - box.top, height: rect.height };
  }

  function placeCaret() {
    if (document.activeElement !== textRoot) {
      caretEl.hidden = true;
      return;
    }
    const r = relativeRect(caretRect(caret));
    caretEl.hidden = false;
    caretEl.style.transform = `translate(${r.left}px, ${r.top}px)`;
    caretEl.style.height = `${r.height}px`;
  }

  function mirrorSelection() {
    const sel = window.getSelection();
    if (anchor === caret) {
      if (sel.rangeCount && textRoot.contains(sel.anchorNode)) sel.removeAllRanges();
      return;
    }
    const [an, ao] = cpToPoint(anchor);
    const [fn, fo] = cpToPoint(caret);
    sel.setBaseAndExtent(an, ao, fn, fo);
  }

  function moveCaret(to, extend, exact = false) {
    caret = Math.max(0, Math.min(to, map.length));
    if (!extend) anchor = caret;
    else selectionExact = exact;
    mirrorSelection();
    keepInView(caretRect(caret));
    placeCaret();
    describeCaret();
    if (anchor !== caret && editable()) openPicker("apply", { focus: false });
    else if (picker.mode === "apply" && !picker.hasFocus()) closePicker();
  }

  /** Scrolls the page so `rect` is visible below the sticky bar. */
  function keepInView(rect) {
    const top = (document.querySelector(".coding-bar")?.getBoundingClientRect().bottom ?? 0) + 8;
    const bottom = window.innerHeight - 16;
    if (rect.top < top) window.scrollBy(0, rect.top - top - rect.height);
    else if (rect.bottom > bottom) window.scrollBy(0, rect.bottom - bottom + rect.height);
  }

  function codingsAt(cp) {
    return visibleCodings().filter((c) => c.start <= cp && cp < c.end).sort(nestingOrder).reverse();
  }

  function describeCaret() {
    const i = Math.max(0, lineAt(lines, caret));
    const at = codingsAt(caret);
    let msg = `Line ${i + 1}`;
    if (anchor !== caret) msg += ` · ${Math.abs(caret - anchor)} characters selected: type a code name or press Enter`;
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
    const rect = caretRect(caret);
    const x = goalX ?? rect.left;
    const lineHeight = rect.height || 24;
    const y = down ? rect.bottom + lineHeight / 2 : rect.top - lineHeight / 2;
    let target = null;
    if (y > 0 && y < window.innerHeight) {
      const pos = caretFromPoint(x, y);
      if (pos) target = pointToCp(pos[0], pos[1]);
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

  function caretFromPoint(x, y) {
    if (document.caretPositionFromPoint) {
      const p = document.caretPositionFromPoint(x, y);
      return p ? [p.offsetNode, p.offset] : null;
    }
    const r = document.caretRangeFromPoint?.(x, y);
    return r ? [r.startContainer, r.startOffset] : null;
  }

  function stepChar(cp, forward) {
    // Move by whole graphemes so an emoji or an accented letter is one step.
    const u = map.toU16(cp);
    if (forward) {
      const next = snapToGrapheme(text, Math.min(text.length, u + 1), "end");
      return map.toCp(next, "after");
    }
    const prev = snapToGrapheme(text, Math.max(0, u - 1), "start");
    return map.toCp(prev);
  }

  function stepWord(cp, forward) {
    return map.toCp(wordStep(text, map.toU16(cp), forward));
  }

  // ----- selecting codings -------------------------------------------------

  function selectCoding(id, { scroll = false, focusText = false } = {}) {
    flushNudge();
    selectedId = id && codings.has(id) ? id : null;
    if (selectedId && scroll) {
      const c = codings.get(selectedId);
      const [first] = lineSpan(lines, c.start, c.end);
      lineEls[first].scrollIntoView({ block: "center" });
      keepInView(caretRect(c.start));
      caret = anchor = c.start;
      mirrorSelection();
    }
    if (focusText) textRoot.focus({ preventScroll: true });
    scheduleRender();
  }

  let cycle = { cp: -1, index: 0 };
  function selectAt(cp, target) {
    const stripe = target.closest?.(".stripe");
    if (stripe) return selectCoding(stripe.dataset.codingId);
    const at = codingsAt(cp);
    if (!at.length) return selectCoding(null);
    // Clicking again on the same place steps outwards through the codings over it.
    cycle = cycle.cp === cp ? { cp, index: (cycle.index + 1) % at.length } : { cp, index: 0 };
    selectCoding(at[cycle.index].id);
  }

  function occurrence(codeIds, forward) {
    const list = visibleCodings().filter((c) => codeIds.has(c.code_id)).sort((a, b) => a.start - b.start || a.end - b.end);
    if (!list.length) return null;
    const from = selectedId && codings.has(selectedId) ? codings.get(selectedId) : { start: caret, end: caret, id: "" };
    const after = (c) => c.start > from.start || (c.start === from.start && c.id > from.id && c.id !== from.id);
    if (forward) return list.find(after) ?? list[0];
    const before = list.filter((c) => !after(c) && c.id !== from.id);
    return before[before.length - 1] ?? list[list.length - 1];
  }

  function jumpToCoding(forward, codeId = null) {
    const ids = codeId ? subtree([...codes.values()], codeId) : new Set(codes.keys());
    const target = occurrence(ids, forward);
    if (!target) {
      toast(codeId ? "No coding of this code in this transcript." : "No codings yet.");
      return;
    }
    selectCoding(target.id, { scroll: true });
    announce(`${codes.get(target.code_id)?.name}: “${quote(target, 60)}”`);
  }

  function quote(c, max = 240) {
    return clip(map.slice(c.start, c.end), max);
  }

  // ----- the write queue ---------------------------------------------------

  const queue = [];
  const pendingFor = new Map(); // entity id -> ops not yet answered
  const echoes = new Map(); // entity id -> our writes whose live events are still to come
  let sending = false;
  let retryTimer = null;
  let retryDelay = 0;
  let reloadWanted = false;
  const storeKey = `concord.pending.${transcriptId}.${user.id}`;

  function persistQueue() {
    try {
      const kept = queue.filter((op) => op.persist).map((op) => op.persist);
      if (kept.length) sessionStorage.setItem(storeKey, JSON.stringify(kept));
      else sessionStorage.removeItem(storeKey);
    } catch {
      // Storage may be full or disabled; the queue in memory still holds the writes.
    }
  }

  function enqueue(op) {
    op.persist ??= { method: op.method, url: op.url, body: typeof op.body === "function" ? null : op.body, entity: op.entity, kind: op.kind, fields: op.fields ?? null };
    queue.push(op);
    pendingFor.set(op.entity, (pendingFor.get(op.entity) ?? 0) + 1);
    persistQueue();
    showSaveState();
    pump();
  }

  function settle(op) {
    const n = (pendingFor.get(op.entity) ?? 1) - 1;
    if (n <= 0) pendingFor.delete(op.entity);
    else pendingFor.set(op.entity, n);
  }

  function expectEcho(id) {
    const e = echoes.get(id) ?? { count: 0, until: 0 };
    e.count += 1;
    e.until = Date.now() + 30000;
    echoes.set(id, e);
  }

  function isEcho(id) {
    const e = echoes.get(id);
    if (!e) return false;
    if (e.until < Date.now()) {
      echoes.delete(id);
      return false;
    }
    e.count -= 1;
    if (e.count <= 0) echoes.delete(id);
    return true;
  }

  const request = (method, url, body) => requestJson(method, url, body, csrf);

  // Signing in again (in another tab, after the session ended) gives a new
  // CSRF token; a write refused for the old one is sent again with the new.
  async function refreshCsrf() {
    try {
      const result = await request("GET", "/api/v1/session");
      const token = result.json?.csrf_token;
      if (result.ok && token && token !== csrf) {
        csrf = token;
        return true;
      }
    } catch {
      // Still offline: the retry will say so.
    }
    return false;
  }

  function transient(status) {
    return status === 0 || status === 401 || status === 408 || status === 429 || status >= 500;
  }

  let lastStatus = 200;
  async function pump() {
    if (sending || retryTimer) return;
    sending = true;
    if (lastStatus === 401) await refreshCsrf();
    while (queue.length) {
      const op = queue[0];
      const body = typeof op.body === "function" ? op.body() : op.body;
      let result;
      expectEcho(op.entity);
      try {
        result = await request(op.method, op.url, body);
      } catch {
        result = { status: 0, ok: false, json: null };
      }
      lastStatus = result.status;
      if (result.status === 403 && !op.csrfRefreshed) {
        op.csrfRefreshed = true;
        if (await refreshCsrf()) continue;
      }
      if (transient(result.status)) {
        scheduleRetry(result.status);
        sending = false;
        return;
      }
      retryDelay = 0;
      retryProblem = "";
      queue.shift();
      settle(op);
      persistQueue();
      if (result.ok) {
        op.onOk?.(result.json);
      } else {
        failed(op, result);
      }
      scheduleRender();
    }
    sending = false;
    showSaveState();
    if (reloadWanted) reload();
  }

  function failed(op, result) {
    const message = describeProblem(result.json, `The server refused this change (${result.status}).`);
    if (result.status === 409) {
      // Ops queued after this one for the same record were built on what we
      // thought it held: drop them too, and show what the server has.
      for (let i = queue.length - 1; i >= 0; i--) {
        if (queue[i].entity === op.entity) {
          settle(queue[i]);
          queue.splice(i, 1);
        }
      }
      persistQueue();
      toast(`${op.label ? `${op.label}: ` : ""}this was changed elsewhere (another tab or person). The page now shows the current version; please check and redo your change if it is still needed.`, { error: true });
      reloadWanted = true;
      return;
    }
    op.onReject?.(result);
    toast(`${op.label ? `${op.label} failed: ` : ""}${message}`, { error: true });
    if (result.status === 403 || result.status === 404) reloadWanted = true;
  }

  function scheduleRetry(status) {
    retryDelay = retryDelay ? Math.min(30000, retryDelay * 2) : 1000;
    const seconds = Math.round(retryDelay / 1000);
    const why = status === 401
      ? "Your session has ended: sign in again in another tab. Your changes are kept here"
      : status === 0 ? "The server cannot be reached. Your changes are kept here" : `The server had a problem (${status}). Your changes are kept here`;
    retryProblem = `${why} and will be sent again in ${seconds} s.`;
    retryTimer = setTimeout(() => {
      retryTimer = null;
      pump();
    }, retryDelay);
    showSaveState();
  }

  function retryNow() {
    if (retryTimer) clearTimeout(retryTimer);
    retryTimer = null;
    pump();
  }
  window.addEventListener("online", retryNow);

  let retryProblem = "";
  function showSaveState() {
    const box = $("save-state");
    const problem = retryTimer || sending ? retryProblem : "";
    if (!retryTimer && !sending) retryProblem = "";
    box.classList.toggle("error", Boolean(problem));
    box.replaceChildren();
    if (problem) {
      box.append(el("span", "", `${problem} (${queue.length} waiting)`), " ");
      const b = el("button", "link", "Retry now");
      b.type = "button";
      b.addEventListener("click", retryNow);
      box.append(b);
    } else if (queue.length) {
      box.textContent = `Saving ${queue.length} change${queue.length === 1 ? "" : "s"}…`;
    } else {
      box.textContent = "All changes saved";
    }
  }

  function replayStored() {
    let stored = [];
    try {
      stored = JSON.parse(sessionStorage.getItem(storeKey) ?? "[]");
    } catch {
      stored = [];
    }
    if (!Array.isArray(stored) || !stored.length) return;
    toast(`Sending ${stored.length} change${stored.length === 1 ? "" : "s"} not yet saved when this page was last left…`);
    for (const p of stored) {
      const versioned = p.fields !== null && p.method === "PATCH";
      enqueue({
        entity: p.entity,
        kind: p.kind,
        method: p.method,
        url: p.url,
        fields: p.fields,
        persist: p,
        label: "A change made before this page was reloaded",
        body: versioned ? () => ({ ...p.fields, version: currentVersion(p.kind, p.entity) }) : p.body,
      });
    }
    reloadWanted = true;
  }

  function currentVersion(kind, id) {
    const rec = kind === "code" ? codes.get(id) ?? removedCodes.get(id) : codings.get(id) ?? removedCodings.get(id);
    return rec?.version ?? 0;
  }

  // ----- reloading ----------------------------------------------------------

  let reloadTimer = null;
  function scheduleReload(delay = 250) {
    clearTimeout(reloadTimer);
    reloadTimer = setTimeout(reload, delay);
  }

  async function reload() {
    if (queue.length || sending || nudge) {
      // The page shows writes the server has not answered yet; a snapshot now
      // would take them away until they land.
      reloadWanted = true;
      return;
    }
    reloadWanted = false;
    let result;
    try {
      result = await request("GET", codingUrl);
    } catch {
      scheduleReload(5000);
      return;
    }
    if (!result.ok || !result.json) {
      if (transient(result.status)) scheduleReload(5000);
      return;
    }
    if (queue.length || sending) {
      reloadWanted = true;
      return;
    }
    const snapshot = result.json;
    const textChanged = snapshot.transcript.text !== text;
    data = snapshot;
    if (textChanged) {
      loadText(snapshot.transcript);
      buildSkeleton();
    }
    loadLayer(snapshot);
    showLayerState();
    scheduleRender();
  }

  // ----- changes (each applied here at once, then queued) -------------------

  function confirmCoding(json) {
    if (!json?.id) return;
    const rec = codings.get(json.id) ?? removedCodings.get(json.id);
    if (!rec) return;
    rec.version = json.version;
    // Later writes (queued, or a nudge still being made) hold newer values.
    if (!pendingFor.has(json.id) && nudge?.id !== json.id) {
      Object.assign(rec, pick(json, CODING_FIELDS));
      delete rec.pending;
    }
  }

  function confirmCode(json) {
    if (!json?.id) return;
    const rec = codes.get(json.id) ?? removedCodes.get(json.id);
    if (!rec) return;
    rec.version = json.version;
    if (!pendingFor.has(json.id)) {
      Object.assign(rec, pick(json, CODE_FIELDS));
      delete rec.pending;
    }
  }

  function createCoding(rec, label) {
    codings.set(rec.id, { ...rec, version: 0, pending: true });
    enqueue({
      entity: rec.id, kind: "coding", label,
      method: "POST", url: `${api}/transcripts/${transcriptId}/codings`,
      body: pick(rec, ["id", "code_id", "start", "end", "memo"]),
      onOk: (json) => {
        confirmCoding(json);
        if (assignment && assignment.state === "assigned") {
          assignment = { ...assignment, state: "in_progress" };
          showLayerState();
        }
      },
      onReject: () => {
        codings.delete(rec.id);
        if (selectedId === rec.id) selectedId = null;
      },
    });
  }

  function deleteCoding(id, label) {
    const rec = codings.get(id);
    if (!rec) return;
    codings.delete(id);
    removedCodings.set(id, rec);
    if (selectedId === id) selectedId = null;
    enqueue({
      entity: id, kind: "coding", label,
      method: "DELETE", url: `${api}/codings/${id}`, body: null,
      onOk: (json) => {
        if (json?.version) rec.version = json.version;
      },
      onReject: () => {
        codings.set(id, rec);
      },
    });
  }

  function restoreCoding(id, label) {
    const rec = removedCodings.get(id);
    if (!rec) return;
    removedCodings.delete(id);
    codings.set(id, rec);
    enqueue({
      entity: id, kind: "coding", label,
      method: "POST", url: `${api}/codings/${id}/restore`, body: null,
      onOk: confirmCoding,
      onReject: () => {
        codings.delete(id);
        removedCodings.set(id, rec);
      },
    });
  }

  function updateCoding(id, changes, label) {
    const rec = codings.get(id);
    if (!rec) return;
    const before = pick(rec, Object.keys(changes));
    Object.assign(rec, changes);
    enqueue({
      entity: id, kind: "coding", label, fields: changes,
      method: "PATCH", url: `${api}/codings/${id}`,
      body: () => ({ ...changes, version: currentVersion("coding", id) }),
      onOk: confirmCoding,
      onReject: () => Object.assign(rec, before),
    });
  }

  function createCode(rec, label) {
    codes.set(rec.id, { definition: "", inclusion: "", exclusion: "", example: "", parent_id: null, ...rec, version: 0, pending: true });
    enqueue({
      entity: rec.id, kind: "code", label,
      method: "POST", url: `${api}/codes`,
      body: pick(rec, ["id", "name", "color"]),
      onOk: confirmCode,
      onReject: () => {
        codes.delete(rec.id);
        // Codings queued with this code cannot be made either.
        for (let i = queue.length - 1; i >= 0; i--) {
          const op = queue[i];
          if (op.method === "POST" && op.body?.code_id === rec.id) {
            settle(op);
            queue.splice(i, 1);
            codings.delete(op.entity);
          }
        }
        persistQueue();
      },
    });
  }

  function updateCode(id, changes, label) {
    const rec = codes.get(id);
    if (!rec) return;
    const before = pick(rec, Object.keys(changes));
    Object.assign(rec, changes);
    if ("parent_id" in changes && filterCodeId) filterIds = subtree([...codes.values()], filterCodeId);
    enqueue({
      entity: id, kind: "code", label, fields: changes,
      method: "PATCH", url: `${api}/codes/${id}`,
      body: () => ({ ...changes, version: currentVersion("code", id) }),
      onOk: confirmCode,
      onReject: () => Object.assign(rec, before),
    });
  }

  function deleteCode(id, label) {
    const rec = codes.get(id);
    if (!rec) return;
    codes.delete(id);
    removedCodes.set(id, rec);
    // The server moves its subcodes up to its parent.
    const moved = [];
    for (const c of codes.values()) {
      if (c.parent_id === id) {
        moved.push(c.id);
        c.parent_id = rec.parent_id;
      }
    }
    if (filterCodeId === id) setFilter(null, false);
    enqueue({
      entity: id, kind: "code", label,
      method: "DELETE", url: `${api}/codes/${id}`, body: null,
      onReject: () => {
        codes.set(id, rec);
        removedCodes.delete(id);
        for (const m of moved) if (codes.has(m)) codes.get(m).parent_id = id;
      },
    });
  }

  function restoreCode(id, label) {
    const rec = removedCodes.get(id);
    if (!rec) return;
    removedCodes.delete(id);
    codes.set(id, rec);
    enqueue({
      entity: id, kind: "code", label,
      method: "POST", url: `${api}/codes/${id}/restore`, body: null,
      onOk: confirmCode,
      onReject: () => {
        codes.delete(id);
        removedCodes.set(id, rec);
      },
    });
  }

  // ----- undo ----------------------------------------------------------------
  //
  // Each entry knows its inverse as API calls: delete <-> restore, and an
  // update back to the old values (sent with the version current by then).

  const undoStack = [];
  const redoStack = [];

  function remember(label, undo, redo) {
    undoStack.push({ label, undo, redo });
    if (undoStack.length > 500) undoStack.shift();
    redoStack.length = 0;
    showUndoState();
  }

  function undo() {
    flushNudge();
    const entry = undoStack.pop();
    if (!entry) return announce("Nothing to undo.");
    if (!editable()) return toast("Your coding is read-only now.");
    entry.undo();
    redoStack.push(entry);
    showUndoState();
    announce(`Undone: ${entry.label}`);
    scheduleRender();
  }

  function redo() {
    flushNudge();
    const entry = redoStack.pop();
    if (!entry) return announce("Nothing to redo.");
    if (!editable()) return toast("Your coding is read-only now.");
    entry.redo();
    undoStack.push(entry);
    showUndoState();
    announce(`Redone: ${entry.label}`);
    scheduleRender();
  }

  function showUndoState() {
    const u = $("undo");
    const r = $("redo");
    u.disabled = !undoStack.length || !editable();
    r.disabled = !redoStack.length || !editable();
    u.title = undoStack.length ? `Undo: ${undoStack[undoStack.length - 1].label} (Ctrl+Z)` : "Nothing to undo";
    r.title = redoStack.length ? `Redo: ${redoStack[redoStack.length - 1].label} (Ctrl+Shift+Z)` : "Nothing to redo";
  }

  function editCoding(id, changes, label) {
    const rec = codings.get(id);
    if (!rec) return;
    const before = pick(rec, Object.keys(changes));
    if (Object.keys(changes).every((k) => rec[k] === changes[k])) return;
    updateCoding(id, changes, label);
    remember(label, () => updateCoding(id, before, `Undo ${label}`), () => updateCoding(id, changes, label));
    scheduleRender();
  }

  function removeCoding(id) {
    const rec = codings.get(id);
    if (!rec) return;
    const label = `delete coding “${codes.get(rec.code_id)?.name ?? ""}”`;
    deleteCoding(id, label);
    remember(label, () => restoreCoding(id, `Undo ${label}`), () => deleteCoding(id, label));
    toast(`Deleted a coding of “${codes.get(rec.code_id)?.name ?? ""}”.`, { undo: true });
    scheduleRender();
  }

  function applyCode(codeId, range) {
    const code = codes.get(codeId);
    const id = newId();
    const label = `code “${code.name}”`;
    createCoding({ id, code_id: codeId, start: range[0], end: range[1], memo: "" }, label);
    remember(label, () => deleteCoding(id, `Undo ${label}`), () => restoreCoding(id, label));
    noteRecent(codeId);
    return id;
  }

  function createCodeAndApply(name, range) {
    const codeId = newId();
    const color = nextColor([...codes.values()]);
    const id = newId();
    const label = `new code “${name}”`;
    createCode({ id: codeId, name, color }, label);
    createCoding({ id, code_id: codeId, start: range[0], end: range[1], memo: "" }, label);
    remember(
      label,
      () => {
        deleteCoding(id, `Undo ${label}`);
        deleteCode(codeId, `Undo ${label}`);
      },
      () => {
        restoreCode(codeId, label);
        restoreCoding(id, label);
      },
    );
    noteRecent(codeId);
    return id;
  }

  function recodeAsNew(id, name) {
    const rec = codings.get(id);
    const codeId = newId();
    const before = { code_id: rec.code_id };
    const label = `change the code to the new code “${name}”`;
    createCode({ id: codeId, name, color: nextColor([...codes.values()]) }, label);
    updateCoding(id, { code_id: codeId }, label);
    remember(
      label,
      () => {
        updateCoding(id, before, `Undo ${label}`);
        deleteCode(codeId, `Undo ${label}`);
      },
      () => {
        restoreCode(codeId, label);
        updateCoding(id, { code_id: codeId }, label);
      },
    );
    noteRecent(codeId);
  }

  function noteRecent(codeId) {
    recentCodes = [codeId, ...recentCodes.filter((c) => c !== codeId)].slice(0, 20);
  }

  function editCode(id, changes, label) {
    const rec = codes.get(id);
    if (!rec) return;
    const before = pick(rec, Object.keys(changes));
    if (Object.keys(changes).every((k) => rec[k] === changes[k])) return;
    updateCode(id, changes, label);
    remember(label, () => updateCode(id, before, `Undo ${label}`), () => updateCode(id, changes, label));
    scheduleRender();
  }

  function removeCode(id) {
    const rec = codes.get(id);
    if (!rec) return;
    const n = [...codings.values()].filter((c) => c.code_id === id).length;
    const label = `delete code “${rec.name}”`;
    deleteCode(id, label);
    remember(label, () => restoreCode(id, `Undo ${label}`), () => deleteCode(id, label));
    toast(`Deleted the code “${rec.name}”${n ? ` and hid its ${n} coding${n === 1 ? "" : "s"} here` : ""}.`, { undo: true });
    scheduleRender();
  }

  function mergeCode(id, into) {
    const source = codes.get(id);
    const target = codes.get(into);
    if (!source || !target) return;
    if (!confirm(`Merge “${source.name}” into “${target.name}”?\n\nEvery coding of “${source.name}”, in all your transcripts, becomes “${target.name}”, and “${source.name}” is deleted. This cannot be undone with Ctrl+Z.`)) return;
    flushNudge();
    for (const c of codings.values()) if (c.code_id === id) c.code_id = into;
    // The server moves the merged code's subcodes under the target.
    for (const c of codes.values()) if (c.parent_id === id) c.parent_id = into;
    codes.delete(id);
    if (filterCodeId === id) setFilter(null, false);
    scheduleRender();
    enqueue({
      entity: id, kind: "code", label: `merge “${source.name}” into “${target.name}”`,
      method: "POST", url: `${api}/codes/${id}/merge`, body: { into },
      onOk: (json) => {
        toast(`Merged “${source.name}” into “${target.name}”${json?.moved !== undefined ? ` (${json.moved} coding${json.moved === 1 ? "" : "s"} moved)` : ""}.`);
        reloadWanted = true;
      },
      onReject: () => {
        reloadWanted = true;
      },
    });
  }

  // ----- boundary nudges and drags -----------------------------------------
  //
  // A run of nudges or one drag is a single change: the page updates at once,
  // the write (and the undo entry) follows when the coder pauses.

  let nudge = null; // { id, before: {start, end}, timer }

  function flushNudge() {
    if (!nudge) return;
    clearTimeout(nudge.timer);
    const { id, before } = nudge;
    nudge = null;
    const rec = codings.get(id);
    if (!rec) return;
    const after = { start: rec.start, end: rec.end };
    if (after.start === before.start && after.end === before.end) {
      if (reloadWanted) scheduleReload();
      return;
    }
    Object.assign(rec, before);
    editCoding(id, after, `move the boundaries of “${codes.get(rec.code_id)?.name ?? ""}”`);
  }

  function setBounds(id, start, end, commitDelay = 700) {
    const rec = codings.get(id);
    if (!rec) return false;
    if (!(start >= 0 && end <= map.length && start < end)) return false;
    if (!nudge || nudge.id !== id) {
      flushNudge();
      nudge = { id, before: { start: rec.start, end: rec.end }, timer: null };
    }
    rec.start = start;
    rec.end = end;
    clearTimeout(nudge.timer);
    if (commitDelay !== null) nudge.timer = setTimeout(flushNudge, commitDelay);
    scheduleRender();
    return true;
  }

  function nudgeBoundary(which, forward, byChar) {
    if (!selectedId || !editable()) return;
    const rec = codings.get(selectedId);
    const pos = which === "start" ? rec.start : rec.end;
    const next = byChar ? stepChar(pos, forward) : stepWord(pos, forward);
    const start = which === "start" ? next : rec.start;
    const end = which === "end" ? next : rec.end;
    if (!setBounds(selectedId, start, end)) return announce("A coding must keep at least one character.");
    announce(`${which === "start" ? "Start" : "End"} moved: “${quote({ start, end }, 80)}”`);
  }

  function placeHandles() {
    const c = selectedId ? codings.get(selectedId) : null;
    const show = Boolean(c) && editable() && (!filterIds || filterIds.has(c.code_id));
    handleStart.hidden = handleEnd.hidden = !show;
    if (!show) return;
    const a = relativeRect(caretRect(c.start));
    const b = relativeRect(caretRect(c.end));
    handleStart.style.transform = `translate(${a.left}px, ${a.top}px)`;
    handleStart.style.height = `${a.height}px`;
    handleEnd.style.transform = `translate(${b.left}px, ${b.top}px)`;
    handleEnd.style.height = `${b.height}px`;
  }

  function startDrag(event, which) {
    if (!selectedId || !editable()) return;
    event.preventDefault();
    event.stopPropagation();
    const id = selectedId;
    // Listen on the document, and keep the handles out of hit testing, so the
    // point under the pointer is always the text.
    textRoot.classList.add("dragging");
    let exact = event.altKey;
    const move = (e) => {
      exact = e.altKey;
      const pos = caretFromPoint(e.clientX, e.clientY);
      if (!pos) return;
      const cp = pointToCp(pos[0], pos[1]);
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
        const snapped = snapSelection(text, map.toU16(rec.start), map.toU16(rec.end));
        if (snapped && which === "start") setBounds(id, map.toCp(snapped[0]), rec.end, null);
        if (snapped && which === "end") setBounds(id, rec.start, map.toCp(snapped[1], "after"), null);
      }
      flushNudge();
    };
    document.addEventListener("pointermove", move);
    document.addEventListener("pointerup", up);
    document.addEventListener("pointercancel", up);
  }
  handleStart.addEventListener("pointerdown", (e) => startDrag(e, "start"));
  handleEnd.addEventListener("pointerdown", (e) => startDrag(e, "end"));

  // ----- the picker ----------------------------------------------------------

  const pickerEl = $("code-picker");
  const pickerInput = $("code-picker-input");
  const pickerList = $("code-picker-list");
  const pickerQuote = $("code-picker-quote");
  document.body.append(pickerEl); // positioned against the page, above everything
  const picker = {
    mode: null, // "apply" | "recode"
    range: null,
    options: [],
    active: 0,
    hasFocus: () => pickerEl.contains(document.activeElement),
  };

  function pendingRange() {
    const a = Math.min(anchor, caret);
    const b = Math.max(anchor, caret);
    if (a === b) return null;
    const snapped = snapSelection(text, map.toU16(a), map.toU16(b), { words: !selectionExact });
    if (!snapped) return null;
    let start = map.toCp(snapped[0]);
    const end = map.toCp(snapped[1], "after");
    // A selection that begins in a speaker's "Name: " label codes what they
    // said, not the label (unless Alt asks for exact characters).
    const turn = labelEnds.get(lineAt(lines, start));
    if (!selectionExact && turn && start < turn.labelEnd && end > turn.labelEnd) start = turn.labelEnd;
    return [start, end];
  }

  function showPending(range) {
    if (!globalThis.CSS?.highlights || typeof Highlight === "undefined") return;
    if (range) CSS.highlights.set("concord-pending", new Highlight(rangeOf(range[0], range[1])));
    else CSS.highlights.delete("concord-pending");
  }

  function openPicker(mode, { focus = true, initial = "" } = {}) {
    if (!editable()) return;
    let range = null;
    if (mode === "apply") {
      range = pendingRange();
      if (!range) {
        closePicker();
        return;
      }
    } else if (!selectedId) {
      return;
    }
    const wasOpen = !pickerEl.hidden && picker.mode === mode;
    tipEl.hidden = true;
    picker.mode = mode;
    picker.range = range;
    pickerEl.hidden = false;
    pickerEl.dataset.mode = mode;
    pickerInput.setAttribute("aria-expanded", "true");
    const c = mode === "recode" ? codings.get(selectedId) : null;
    pickerQuote.textContent = mode === "apply"
      ? `“${quote({ start: range[0], end: range[1] }, 120)}”${selectionExact ? " (exact characters)" : ""}`
      : `Change the code of “${quote(c, 80)}” (now “${codes.get(c.code_id)?.name}”)`;
    if (!wasOpen) pickerInput.value = initial;
    else if (initial) pickerInput.value += initial;
    showPending(range);
    fillPicker();
    positionPicker();
    if (focus) {
      pickerInput.focus({ preventScroll: true });
      const end = pickerInput.value.length;
      pickerInput.setSelectionRange(end, end);
    }
  }

  function closePicker({ restoreFocus = false } = {}) {
    if (pickerEl.hidden) return;
    const hadFocus = picker.hasFocus();
    pickerEl.hidden = true;
    picker.mode = null;
    picker.range = null;
    pickerInput.setAttribute("aria-expanded", "false");
    showPending(null);
    if (restoreFocus || hadFocus) textRoot.focus({ preventScroll: true });
  }

  function positionPicker() {
    let rect;
    if (picker.mode === "apply" && picker.range) {
      const rects = rangeOf(picker.range[0], picker.range[1]).getClientRects();
      rect = rects[rects.length - 1] ?? caretRect(picker.range[1]);
    } else if (selectedId && codings.has(selectedId)) {
      rect = caretRect(codings.get(selectedId).end);
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

  function fillPicker() {
    const query = pickerInput.value.trim();
    const all = [...codes.values()];
    const matches = rankCodes(all, query, recentCodes).slice(0, 60);
    const exact = all.some((c) => c.name.toLocaleLowerCase() === query.toLocaleLowerCase());
    picker.options = matches.map((code) => ({ code }));
    if (query && !exact) picker.options.push({ create: query });
    picker.active = Math.min(picker.active, Math.max(0, picker.options.length - 1));
    if (query) picker.active = 0;
    const counts = countByCode();
    pickerList.replaceChildren(...picker.options.map((opt, i) => {
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
        li.append(sw, el("span", "name", opt.code.name), el("span", "count", String(counts.get(opt.code.id) ?? 0)));
      }
      li.addEventListener("mousedown", (e) => e.preventDefault());
      li.addEventListener("click", () => choose(i));
      return li;
    }));
    if (!picker.options.length) {
      pickerList.append(el("li", "empty", codes.size ? "No code matches. Type a name to create one." : "Type a name to create your first code."));
    }
    highlightOption();
  }

  function highlightOption() {
    [...pickerList.children].forEach((li, i) => li.setAttribute("aria-selected", String(i === picker.active)));
    const active = pickerList.children[picker.active];
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
    let opt = picker.options[index];
    if (forceCreate && query) {
      const existing = [...codes.values()].find((c) => c.name.toLocaleLowerCase() === query.toLocaleLowerCase());
      opt = existing ? { code: existing } : { create: query };
    }
    if (!opt) return;
    if (picker.mode === "apply") {
      const range = picker.range;
      const id = opt.create ? createCodeAndApply(opt.create, range) : applyCode(opt.code.id, range);
      closePicker({ restoreFocus: true });
      anchor = caret = range[1];
      mirrorSelection();
      selectedId = id;
      const codeId = codings.get(id)?.code_id;
      announce(`Coded “${quote({ start: range[0], end: range[1] }, 60)}” as “${opt.create ?? opt.code.name}”.`);
      if (filterIds && codeId && !filterIds.has(codeId)) toast(`Coded as “${opt.create ?? opt.code.name}”, which is hidden while only “${codes.get(filterCodeId)?.name}” is shown.`);
    } else if (picker.mode === "recode") {
      const c = codings.get(selectedId);
      closePicker({ restoreFocus: true });
      if (c && opt.code) editCoding(c.id, { code_id: opt.code.id }, `change the code to “${opt.code.name}”`);
      else if (c && opt.create) recodeAsNew(c.id, opt.create);
      if (opt.code) noteRecent(opt.code.id);
    }
    scheduleRender();
  }

  pickerInput.addEventListener("input", () => {
    picker.active = 0;
    fillPicker();
  });
  pickerInput.addEventListener("keydown", (e) => {
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      const n = picker.options.length;
      if (n) picker.active = (picker.active + (e.key === "ArrowDown" ? 1 : n - 1)) % n;
      highlightOption();
    } else if (e.key === "Enter") {
      e.preventDefault();
      if (e.altKey && picker.mode === "apply") {
        selectionExact = true;
        picker.range = pendingRange();
      }
      choose(picker.active, { forceCreate: e.shiftKey || e.ctrlKey || e.metaKey });
    } else if (e.key === "Escape") {
      e.preventDefault();
      e.stopPropagation();
      closePicker({ restoreFocus: true });
    } else if (e.key === "Tab") {
      e.preventDefault();
      closePicker({ restoreFocus: true });
    }
  });
  pickerEl.addEventListener("focusout", (e) => {
    if (!pickerEl.contains(e.relatedTarget) && e.relatedTarget !== textRoot && e.relatedTarget !== null) closePicker();
  });

  // ----- the text: mouse -----------------------------------------------------

  let mouseDown = null;
  textRoot.addEventListener("mousedown", (e) => {
    if (e.button !== 0 || e.target.closest(".hl-handle")) return;
    mouseDown = { x: e.clientX, y: e.clientY };
    goalX = null;
  });

  // A click outside the picker (and outside the text, whose own clicks
  // decide for themselves) dismisses it.
  document.addEventListener("mousedown", (e) => {
    if (!pickerEl.hidden && !pickerEl.contains(e.target) && !textRoot.contains(e.target)) closePicker();
  });

  document.addEventListener("mouseup", (e) => {
    if (!mouseDown) return;
    const stripe = e.target.closest?.(".stripe");
    if (stripe && textRoot.contains(stripe)) {
      mouseDown = null;
      closePicker();
      selectCoding(stripe.dataset.codingId);
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
    const a = pointToCp(sel.anchorNode, sel.anchorOffset);
    const f = pointToCp(sel.focusNode, sel.focusOffset);
    if (a === null || f === null) return;
    if (!textRoot.contains(document.activeElement)) textRoot.focus({ preventScroll: true });
    if (a === f || sel.isCollapsed) {
      anchor = caret = f;
      placeCaret();
      describeCaret();
      const moved = Math.abs(e.clientX - down.x) + Math.abs(e.clientY - down.y);
      if (moved < 4) selectAt(f, e.target);
      closePicker();
      return;
    }
    anchor = a;
    caret = f;
    selectionExact = e.altKey;
    if (selectedId) selectCoding(null);
    describeCaret();
    placeCaret();
    if (editable()) openPicker("apply", { focus: true });
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
    const a = pointToCp(sel.anchorNode, sel.anchorOffset);
    const f = pointToCp(sel.focusNode, sel.focusOffset);
    if (a === null || f === null || a === f) return;
    if (a === anchor && f === caret) return; // the page's own mirror of its selection
    anchor = a;
    caret = f;
    selectionExact = false;
    if (selectedId) selectCoding(null);
    describeCaret();
    if (editable()) openPicker("apply", { focus: true });
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
    placeCaret();
    describeCaret();
  });
  textRoot.addEventListener("blur", () => {
    caretEl.hidden = true;
  });

  textRoot.addEventListener("keydown", (e) => {
    if (e.target !== textRoot) return;
    const ctrl = e.ctrlKey || e.metaKey;
    const key = e.key;
    const selecting = anchor !== caret;

    // Boundary nudges of the selected coding.
    if (selectedId && !selecting && !ctrl) {
      if (e.code === "BracketLeft" || e.code === "BracketRight") {
        e.preventDefault();
        nudgeBoundary(e.shiftKey ? "end" : "start", e.code === "BracketRight", e.altKey);
        return;
      }
      if (e.altKey && (key === "ArrowLeft" || key === "ArrowRight")) {
        e.preventDefault();
        nudgeBoundary(e.shiftKey ? "start" : "end", key === "ArrowRight", true);
        return;
      }
    }

    let to = null;
    switch (key) {
      case "ArrowLeft":
        to = ctrl ? stepWord(caret, false) : (!e.shiftKey && selecting ? Math.min(anchor, caret) : stepChar(caret, false));
        break;
      case "ArrowRight":
        to = ctrl ? stepWord(caret, true) : (!e.shiftKey && selecting ? Math.max(anchor, caret) : stepChar(caret, true));
        break;
      case "ArrowUp":
      case "ArrowDown":
        e.preventDefault();
        moveCaret(verticalMove(key === "ArrowDown"), e.shiftKey, e.altKey);
        return;
      case "Home":
        to = ctrl ? 0 : lines[lineAt(lines, caret)].start;
        break;
      case "End":
        to = ctrl ? map.length : lines[lineAt(lines, caret)].end;
        break;
      default:
        break;
    }
    if (to !== null) {
      e.preventDefault();
      goalX = null;
      if (e.shiftKey && selectedId) selectCoding(null);
      moveCaret(to, e.shiftKey, e.altKey);
      return;
    }

    if (key === "Escape") {
      if (selecting) {
        anchor = caret;
        mirrorSelection();
        closePicker();
        describeCaret();
      } else if (selectedId) {
        selectCoding(null);
      }
      e.preventDefault();
      return;
    }
    if (ctrl || e.altKey) return;

    if (selecting) {
      if (!editable()) return;
      if (key === "Enter") {
        e.preventDefault();
        openPicker("apply", { focus: true });
      } else if (key.length === 1 && key !== " ") {
        // Typing over a selection starts the code name in the picker.
        e.preventDefault();
        openPicker("apply", { focus: true, initial: key });
        fillPicker();
      }
      return;
    }

    const c = selectedId ? codings.get(selectedId) : null;
    switch (key) {
      case "n":
      case "p":
        e.preventDefault();
        jumpToCoding(key === "n");
        break;
      case "Delete":
      case "Backspace":
        if (c && editable()) {
          e.preventDefault();
          removeCoding(c.id);
        }
        break;
      case "c":
        if (c && editable()) {
          e.preventDefault();
          openPicker("recode", { focus: true });
        }
        break;
      case "m":
      case "Enter":
        if (c) {
          e.preventDefault();
          $("coding-memo").focus();
        } else if (key === "Enter") {
          const at = codingsAt(caret);
          if (at.length) {
            e.preventDefault();
            selectCoding(at[0].id);
          }
        }
        break;
      case "w":
        // Select the word at the caret (or just before it): a quick start for keyboard coding.
        if (editable()) {
          e.preventDefault();
          const u = map.toU16(caret);
          const atWord = u < text.length && !/\s/u.test(text[u]);
          const snapped = atWord ? snapSelection(text, u, u + 1) : u > 0 ? snapSelection(text, u - 1, u) : null;
          if (snapped) {
            anchor = map.toCp(snapped[0]);
            caret = map.toCp(snapped[1], "after");
            selectionExact = false;
            moveCaret(caret, true);
          }
        }
        break;
      default:
        break;
    }
  });

  // ----- the selected coding panel ------------------------------------------

  const panel = $("coding-panel");
  const panelCode = $("coding-code");
  const panelMemo = $("coding-memo");

  function renderPanel() {
    const c = selectedId ? codings.get(selectedId) : null;
    panel.hidden = !c;
    if (!c) return;
    const code = codes.get(c.code_id);
    const [first, last] = lineSpan(lines, c.start, c.end);
    $("coding-quote").textContent = `“${quote(c)}”`;
    $("coding-where").textContent = first === last ? `Line ${first + 1}` : `Lines ${first + 1}–${last + 1}`;
    $("coding-swatch").style.setProperty("--c", code?.color ?? "#999");
    const codesKey = codesSignature();
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
    const ro = !editable();
    panelCode.disabled = ro;
    panelMemo.readOnly = ro;
    for (const b of panel.querySelectorAll("button[data-nudge], #coding-delete, #coding-recode")) b.disabled = ro;
    const others = codingsAt(c.start).filter((o) => o.id !== c.id);
    const box = $("coding-others");
    box.hidden = !others.length;
    box.querySelector("ul").replaceChildren(...others.slice(0, 12).map((o) => {
      const li = el("li");
      const b = el("button", "link", codes.get(o.code_id)?.name ?? "?");
      b.type = "button";
      b.addEventListener("click", () => selectCoding(o.id));
      const sw = el("span", "swatch");
      sw.style.setProperty("--c", codes.get(o.code_id)?.color ?? "#999");
      li.append(sw, b);
      return li;
    }));
  }

  panelCode.addEventListener("change", () => {
    const c = selectedId && codings.get(selectedId);
    if (!c || !editable()) return;
    const code = codes.get(panelCode.value);
    if (code) editCoding(c.id, { code_id: code.id }, `change the code to “${code.name}”`);
    noteRecent(panelCode.value);
  });

  function saveMemo() {
    const id = panelMemo.dataset.codingId;
    const c = id && codings.get(id);
    if (!c || !editable()) return;
    if (panelMemo.value !== c.memo) editCoding(id, { memo: panelMemo.value }, `memo on “${codes.get(c.code_id)?.name ?? ""}”`);
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
    nudgeBoundary(which, dir === "later", e.altKey);
  });
  $("coding-delete").addEventListener("click", () => selectedId && removeCoding(selectedId));
  $("coding-recode").addEventListener("click", () => openPicker("recode", { focus: true }));
  $("coding-close").addEventListener("click", () => selectCoding(null, { focusText: true }));

  // ----- the code list -------------------------------------------------------

  const list = $("code-list");
  const expanded = new Set();
  let listDirty = true;
  let focusedCodeId = null;

  function countByCode() {
    const counts = new Map();
    for (const c of codings.values()) counts.set(c.code_id, (counts.get(c.code_id) ?? 0) + 1);
    return counts;
  }

  function setFilter(codeId, render = true) {
    filterCodeId = codeId;
    filterIds = codeId ? subtree([...codes.values()], codeId) : null;
    $("filter-note").hidden = !codeId;
    if (codeId) $("filter-name").textContent = codes.get(codeId)?.name ?? "";
    listDirty = true;
    if (render) scheduleRender();
  }

  function codesSignature() {
    let s = `${editable()}|${filterCodeId}|${[...expanded].join()}|${$("code-search").value}|`;
    for (const c of codes.values()) s += `${c.id}:${c.name}:${c.color}:${c.parent_id}:${c.version}:${c.pending ? 1 : 0};`;
    return s;
  }

  let listSignature = "";
  function renderSidebar() {
    const counts = countByCode();
    const sig = codesSignature();
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
    const ro = !editable();
    for (const { code, depth, hasChildren } of tree) {
      if (shown && !shown.has(code.id)) continue;
      const li = el("li", "code-item");
      li.dataset.codeId = code.id;
      li.setAttribute("role", "treeitem");
      li.setAttribute("aria-level", String(depth + 1));
      li.setAttribute("aria-label", code.name);
      li.tabIndex = -1;
      if (filterCodeId === code.id) li.classList.add("filtered");
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
      only.setAttribute("aria-pressed", String(filterCodeId === code.id));
      const more = iconButton("code-more", "Edit", `Edit “${code.name}” (Enter)`);
      more.setAttribute("aria-expanded", String(expanded.has(code.id)));
      row.append(sw, name, count, prev, next, only, more);
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
    if (!roots.length) list.append(el("li", "muted empty", codes.size ? "No code matches." : "No codes yet: select text and type a name to create one."));
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

    const del = el("button", "small link danger delete-code", "Delete code");
    del.type = "button";
    del.disabled = ro;
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
      if (e.target.closest(".code-def") && editable()) {
        toggleDetails(id, false);
        list.querySelector(`.code-item[data-code-id="${CSS.escape(id)}"] [data-field="definition"]`)?.focus();
      } else if (!e.target.closest(".code-details")) {
        item.focus();
      }
      return;
    }
    if (b.classList.contains("code-prev")) jumpToCoding(false, id);
    else if (b.classList.contains("code-next")) jumpToCoding(true, id);
    else if (b.classList.contains("code-filter")) setFilter(filterCodeId === id ? null : id);
    else if (b.classList.contains("code-more")) toggleDetails(id);
    else if (b.classList.contains("merge-button")) {
      const into = item.querySelector(".merge-into").value;
      if (into) mergeCode(id, into);
      else toast("Choose the code to merge into first.");
    } else if (b.classList.contains("delete-code")) removeCode(id);
  });

  list.addEventListener("change", (e) => {
    const input = e.target.closest("[data-field]");
    const item = e.target.closest(".code-item");
    if (!input || !item || !editable()) return;
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
        return toast("A code needs a name.", { error: true });
      }
      const clash = [...codes.values()].find((c) => c.id !== id && c.name.toLocaleLowerCase() === value.toLocaleLowerCase());
      if (clash) {
        input.value = code.name;
        return toast(`You already have a code named “${clash.name}”: merge into it instead.`, { error: true });
      }
    } else if (field !== "color") value = value.trim();
    const labels = { name: "rename", color: "colour", definition: "definition", inclusion: "inclusion criteria", exclusion: "exclusion criteria", example: "example", parent_id: "move" };
    editCode(id, { [field]: value }, `${labels[field]} of “${code.name}”`);
    listDirty = field === "parent_id" || field === "name";
  });

  list.addEventListener("focusout", () => {
    // A deferred rebuild (see renderSidebar) can happen once typing is done.
    setTimeout(scheduleRender, 0);
  });

  function toggleDetails(id, focus = true) {
    if (expanded.has(id)) expanded.delete(id);
    else expanded.add(id);
    focusedCodeId = id;
    listDirty = true;
    renderSidebar();
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
      case "f": setFilter(filterCodeId === id ? null : id); break;
      case "n": jumpToCoding(true, id); break;
      case "p": jumpToCoding(false, id); break;
      case "Delete": if (editable()) removeCode(id); break;
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
    renderSidebar();
  });
  $("code-search").addEventListener("keydown", (e) => {
    if (e.key === "ArrowDown") {
      e.preventDefault();
      list.querySelector(".code-item")?.focus();
    } else if (e.key === "Escape") {
      e.currentTarget.value = "";
      listDirty = true;
      renderSidebar();
    }
  });
  $("filter-clear").addEventListener("click", () => setFilter(null));

  // ----- toasts and announcements -------------------------------------------

  function toast(message, { error = false, undo: withUndo = false } = {}) {
    const box = el("div", `toast${error ? " error" : ""}`);
    box.setAttribute("role", error ? "alert" : "status");
    box.append(el("span", "", message));
    if (withUndo) {
      const b = el("button", "link", "Undo");
      b.type = "button";
      b.addEventListener("click", () => {
        undo();
        box.remove();
      });
      box.append(b);
    }
    const close = el("button", "link close", "×");
    close.type = "button";
    close.setAttribute("aria-label", "Dismiss");
    close.addEventListener("click", () => box.remove());
    box.append(close);
    $("toasts").append(box);
    // Errors stay until dismissed: a failed write must not go unnoticed.
    if (!error) setTimeout(() => box.remove(), withUndo ? 8000 : 5000);
  }

  function announce(message) {
    $("announcer").textContent = message;
  }

  // ----- page state: read-only, submit, help --------------------------------

  function showLayerState() {
    const ro = !editable();
    let stateText = assignment ? STATE_LABELS[assignment.state] ?? assignment.state : "not assigned";
    if (consensus) stateText = ro ? "read-only" : "editable by you";
    $("layer-state").textContent = stateText;
    $("layer-state").dataset.state = assignment?.state ?? "none";
    document.body.classList.toggle("coding-read-only", ro);
    textRoot.setAttribute("aria-readonly", String(ro));
    const note = $("read-only-note");
    note.hidden = !ro;
    if (ro) {
      if (consensus) note.textContent = "The lead edits the consensus layer; you are reading it.";
      else note.textContent = assignment?.state === "submitted"
        ? "You have submitted your coding of this transcript: it is read-only unless the lead reopens it."
        : "This project is archived: your coding is read-only.";
      closePicker();
    }
    const submit = $("submit-layer");
    // The consensus layer is never submitted: decisions and the lead's edits make it.
    submit.hidden = !assignment || consensus;
    submit.disabled = ro;
    submit.textContent = assignment?.state === "submitted" ? "Submitted" : "Submit my coding";
    listDirty = true;
    showUndoState();
  }

  $("submit-layer").addEventListener("click", (e) => {
    // The button also sits in a plain form for pages without JavaScript.
    e.preventDefault();
    if (!editable()) return;
    flushNudge();
    const n = codings.size;
    if (!confirm(`Submit your coding of this transcript (${n} coding${n === 1 ? "" : "s"})?\n\nAfter submitting you can no longer change it, unless the lead reopens it.`)) return;
    closePicker();
    $("submit-layer").disabled = true;
    enqueue({
      entity: assignment?.id ?? transcriptId, kind: "assignment", label: "Submitting",
      method: "POST", url: `${api}/transcripts/${transcriptId}/submit`, body: null,
      onOk: (json) => {
        assignment = { ...assignment, ...(json ?? {}), state: "submitted", can_edit: false };
        showLayerState();
        toast("Your coding is submitted.");
        reloadWanted = true;
      },
      onReject: () => showLayerState(),
    });
  });

  const help = $("help-overlay");
  let helpReturn = null;
  function toggleHelp(open = help.hidden) {
    if (open) {
      helpReturn = document.activeElement;
      help.hidden = false;
      help.querySelector(".help-close").focus();
    } else {
      help.hidden = true;
      helpReturn?.focus?.();
    }
  }
  $("help-button").addEventListener("click", () => toggleHelp(true));
  help.querySelector(".help-close").addEventListener("click", () => toggleHelp(false));
  help.addEventListener("click", (e) => {
    if (e.target === help) toggleHelp(false);
  });
  help.addEventListener("keydown", (e) => {
    if (e.key === "Tab") {
      // Keep focus inside the overlay while it is open.
      e.preventDefault();
      help.querySelector(".help-close").focus();
    }
  });
  $("undo").addEventListener("click", undo);
  $("redo").addEventListener("click", redo);

  document.addEventListener("keydown", (e) => {
    if (e.defaultPrevented) return;
    const ctrl = e.ctrlKey || e.metaKey;
    if (e.key === "Escape" && !help.hidden) {
      e.preventDefault();
      toggleHelp(false);
      return;
    }
    if (e.key === "Escape" && !pickerEl.hidden) {
      closePicker({ restoreFocus: true });
      return;
    }
    if (isTyping(e.target)) return;
    if (ctrl && !e.altKey && (e.key === "z" || e.key === "Z")) {
      e.preventDefault();
      if (e.shiftKey) redo();
      else undo();
      return;
    }
    if (ctrl && !e.altKey && (e.key === "y" || e.key === "Y")) {
      e.preventDefault();
      redo();
      return;
    }
    if (ctrl || e.altKey) return;
    if (e.key === "?") {
      e.preventDefault();
      toggleHelp();
    } else if (e.key === "t") {
      e.preventDefault();
      textRoot.focus();
    } else if (e.key === "/") {
      e.preventDefault();
      $("code-search").focus();
    } else if (e.key === "l") {
      e.preventDefault();
      (list.querySelector('.code-item[tabindex="0"]') ?? list.querySelector(".code-item"))?.focus();
    }
  });

  window.addEventListener("beforeunload", (e) => {
    flushNudge();
    if (document.activeElement === panelMemo) saveMemo();
    if (queue.length) {
      e.preventDefault();
      e.returnValue = "";
    }
  });

  let resizeFrame = 0;
  window.addEventListener("resize", () => {
    cancelAnimationFrame(resizeFrame);
    resizeFrame = requestAnimationFrame(() => {
      placeCaret();
      placeHandles();
      if (!pickerEl.hidden) positionPicker();
    });
  });

  // ----- live updates ---------------------------------------------------------

  function connectLive() {
    if (!data.events_url || typeof EventSource === "undefined") return;
    const source = new EventSource(data.events_url);
    let wasDown = false;
    source.onmessage = (message) => {
      let event;
      try {
        event = JSON.parse(message.data);
      } catch {
        return;
      }
      onLiveEvent(event);
    };
    source.onopen = () => {
      $("live-state").textContent = "";
      if (wasDown) scheduleReload();
      wasDown = false;
    };
    source.onerror = () => {
      wasDown = true;
      if (source.readyState === EventSource.CLOSED) {
        // The browser gave up (e.g. the session ended): start again later and
        // reload then, since a new connection cannot ask for what it missed.
        $("live-state").textContent = "Live updates paused";
        setTimeout(() => {
          connectLive();
          scheduleReload();
        }, 15000);
      } else {
        $("live-state").textContent = "Reconnecting…";
      }
    };
  }

  function onLiveEvent(event) {
    const kind = String(event.kind ?? "");
    const forMe = event.coder_id === null || event.coder_id === undefined || event.coder_id === user.id;
    let relevant;
    if (kind.startsWith("code.")) relevant = forMe;
    else relevant = event.transcript_id === transcriptId && forMe;
    if (!relevant) return;
    if (event.entity_id && kind !== "assignment.updated" && isEcho(event.entity_id)) return;
    scheduleReload();
  }

  // ----- start ----------------------------------------------------------------

  loadText(data.transcript);
  loadLayer(data);
  buildSkeleton();
  showLayerState();
  showSaveState();
  showUndoState();
  renderText();
  renderSidebar();
  renderPanel();
  replayStored();
  connectLive();
  textRoot.dataset.ready = "true";

  // For measurements from a test page: how long the last render of the text took.
  globalThis.concordCoding = {
    renderMs: () => lastRenderMs,
    frameMs: () => lastFrameMs,
    rerenderAll: () => {
      lineKeys.fill(null);
      renderText();
      return lastRenderMs;
    },
  };
}

if (typeof document !== "undefined") start();
