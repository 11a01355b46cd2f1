// The coding page's layout rules, with no DOM: which lines a coding shows on,
// how overlapping codings share the margin, how a line is cut into highlight
// segments, how the code tree and the picker order codes. Tested in
// tests/js/coding.test.mjs.

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
 * any other name containing it, then codes whose definition contains it; ties
 * go to the most recently used. With nothing typed: every code, the most
 * recently used first.
 */
export function rankCodes(codes, query, recent = []) {
  const q = query.trim().toLocaleLowerCase();
  const recency = new Map(recent.map((id, i) => [id, i]));
  const scored = [];
  for (const code of codes) {
    const name = code.name.toLocaleLowerCase();
    let score;
    if (q === "") score = 0;
    else if (name === q) score = 0;
    else if (name.startsWith(q)) score = 1;
    else if (name.split(/[\s\-_/]+/u).some((w) => w.startsWith(q))) score = 2;
    else if (name.includes(q)) score = 3;
    else if (definitionMatches(code, q)) score = 4;
    else continue;
    scored.push({ code, score, recent: recency.get(code.id) ?? Infinity });
  }
  scored.sort((a, b) => a.score - b.score || a.recent - b.recent || a.code.name.localeCompare(b.code.name));
  return scored.map((s) => s.code);
}

/** The code's definition contains `q` (lower case). */
export function definitionMatches(code, q) {
  return q !== "" && (code.definition ?? "").toLocaleLowerCase().includes(q);
}

/** A short piece of `text` around the first `q` (lower case), for showing why it matched. */
export function snippetAround(text, q, max = 60) {
  const at = Math.max(0, text.toLocaleLowerCase().indexOf(q));
  let from = Math.max(0, at - 20);
  // Never start inside an emoji (a surrogate pair).
  if (from > 0 && /[\udc00-\udfff]/u.test(text[from])) from--;
  return `${from > 0 ? "…" : ""}${clip(text.slice(from), max)}`;
}

/** The recently used codes with `id` first, at most 20. */
export function withRecent(recent, id) {
  return [id, ...recent.filter((c) => c !== id)].slice(0, 20);
}

/** The recently used codes kept in `storage` (a list of ids; nothing when unreadable). */
export function loadRecent(storage, key) {
  try {
    const stored = JSON.parse(storage?.getItem(key) ?? "[]");
    return Array.isArray(stored) ? stored.filter((id) => typeof id === "string").slice(0, 20) : [];
  } catch {
    return [];
  }
}

export function saveRecent(storage, key, recent) {
  try {
    storage?.setItem(key, JSON.stringify(recent));
  } catch {
    // Storage full or disabled: the order is only a convenience.
  }
}

/** The colours the server gives new codes, in its order; a new code takes the first one unused. */
export const PALETTE = [
  "#e69f00", "#56b4e9", "#009e73", "#f0e442", "#0072b2", "#d55e00", "#cc79a7", "#332288",
  "#117733", "#88ccee", "#ddcc77", "#cc6677", "#aa4499", "#882255", "#44aa99", "#999933",
];

/** As the server's `next_color`: the palette colour the fewest codes have, the earliest on a tie. */
export function nextColor(codes) {
  const counts = PALETTE.map((p) => codes.filter((c) => c.color.toLowerCase() === p).length);
  const least = Math.min(...counts);
  return PALETTE[counts.indexOf(least)];
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

/** The fields of `record` named in `keys` (those it has). */
export function pick(record, keys) {
  const out = {};
  for (const k of keys) if (k in record) out[k] = record[k];
  return out;
}

/** Where the text of line `i` starts: after its speaker's label, if it has one. */
export function textStart(lines, labelEnds, i) {
  const turn = labelEnds.get(i);
  return turn ? Math.max(lines[i].start, Math.min(turn.labelEnd, lines[i].end)) : lines[i].start;
}

/**
 * A selection [start, end) kept to the text of turns: a start on a line
 * break or in a speaker's label moves forward to the text, an end just after
 * a line break or in a label moves back to the end of the line before. Null
 * when nothing is left. `labelEnds` maps the index of a turn's first line to
 * `{labelEnd}`.
 */
export function clipToTurnText(lines, labelEnds, start, end) {
  if (!lines.length) return start < end ? [start, end] : null;
  let i = lineAt(lines, start);
  // A start on a line break, or on an empty line, belongs to the next line's text.
  while (i + 1 < lines.length && start >= lines[i].end) {
    i++;
    start = Math.max(start, lines[i].start);
  }
  start = Math.max(start, textStart(lines, labelEnds, i));
  let j = lineAt(lines, end);
  while (j > 0 && end <= textStart(lines, labelEnds, j)) {
    j--;
    end = Math.min(end, lines[j].end);
  }
  return start < end ? [start, end] : null;
}

/** The turn around line `i`: its first and last line. */
export function turnLines(lines, labelEnds, i) {
  let first = i;
  while (first > 0 && !labelEnds.has(first)) first--;
  let last = i;
  while (last + 1 < lines.length && !labelEnds.has(last + 1)) last++;
  return [first, last];
}

/** The word-like runs of `text` as [start, end) UTF-16 indices. */
export function wordsIn(text) {
  const out = [];
  if (typeof Intl !== "undefined" && Intl.Segmenter) {
    for (const part of new Intl.Segmenter(undefined, { granularity: "word" }).segment(text)) {
      if (part.isWordLike) out.push([part.index, part.index + part.segment.length]);
    }
    return out;
  }
  for (const m of text.matchAll(/[\p{L}\p{N}\p{M}'’_-]+/gu)) out.push([m.index, m.index + m[0].length]);
  return out;
}

/**
 * Where a word nudge moves one boundary of a coding [start, end), all in one
 * unit (the caller's): the start goes between word starts, the end between
 * word ends, so each nudge is undone by the opposite one; past the last word
 * the end may reach `limit[1]`, the end of the turn's text (without trailing
 * white space). `words` are the turn's words, `limit` its text. Null when the
 * boundary cannot move (the edge of the turn, or nothing would be left).
 */
export function nudgeTarget(words, limit, start, end, which, forward) {
  if (which === "start") {
    if (forward) {
      const next = words.find(([s]) => s > start);
      return next && next[0] < end ? next[0] : null;
    }
    const before = words.filter(([s]) => s < start && s >= limit[0]);
    return before.length ? before[before.length - 1][0] : null;
  }
  if (forward) {
    const next = words.find(([, e]) => e > end && e <= limit[1]);
    if (next) return next[1];
    return limit[1] > end ? limit[1] : null;
  }
  const before = words.filter(([, e]) => e < end && e > start);
  return before.length ? before[before.length - 1][1] : null;
}
