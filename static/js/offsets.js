// Positions in a transcript's canonical text.
//
// The server, the database and the JSON API count Unicode code points (Rust
// `char`s, DESIGN invariant 2); the DOM counts UTF-16 code units. Every
// conversion between the two goes through an `OffsetMap` built once per text,
// so the rest of the page never mixes the units. Selections are also snapped
// here: to grapheme clusters always (a coding must not split an emoji, a flag or
// a letter from its combining accent), and to whole words unless asked not to.

/** Number of code points in `text` (what Rust's `chars().count()` gives). */
export function codePointLength(text) {
  let n = text.length;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    // A well-formed pair is one code point; a lone surrogate counts as one,
    // as it does in Rust after lossy decoding.
    if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        n--;
        i++;
      }
    }
  }
  return n;
}

function isPairAt(text, u16) {
  const high = text.charCodeAt(u16);
  if (!(high >= 0xd800 && high <= 0xdbff) || u16 + 1 >= text.length) return false;
  const low = text.charCodeAt(u16 + 1);
  return low >= 0xdc00 && low <= 0xdfff;
}

/** Index of the first element of the sorted array `values` that is >= `x`. */
function lowerBound(values, x) {
  let lo = 0;
  let hi = values.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (values[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export class OffsetMap {
  constructor(text) {
    this.text = text;
    // Only characters outside the Basic Multilingual Plane take two units, so
    // remembering where they are is enough; most transcripts have none and
    // every conversion is then the identity.
    const pairU16 = [];
    const pairCp = [];
    for (let i = 0, cp = 0; i < text.length; i++, cp++) {
      if (isPairAt(text, i)) {
        pairU16.push(i);
        pairCp.push(cp);
        i++;
      }
    }
    this.pairU16 = Int32Array.from(pairU16);
    this.pairCp = Int32Array.from(pairCp);
    this.length = text.length - pairU16.length;
  }

  /** UTF-16 index of code point `cp` (clamped to the text). */
  toU16(cp) {
    const c = Math.max(0, Math.min(cp, this.length));
    return c + lowerBound(this.pairCp, c);
  }

  /**
   * Code point index of UTF-16 index `u16` (clamped to the text). An index
   * between the two halves of a surrogate pair goes to the pair's start, or
   * with `bias = "after"` past the pair.
   */
  toCp(u16, bias = "before") {
    const u = Math.max(0, Math.min(u16, this.text.length));
    const before = lowerBound(this.pairU16, u);
    const inside = before > 0 && this.pairU16[before - 1] === u - 1;
    // The pair that starts just before `u` is already counted in `before`.
    return u - before + (inside && bias === "after" ? 1 : 0);
  }

  /** The text of code points [start, end). */
  slice(start, end) {
    return this.text.slice(this.toU16(start), this.toU16(end));
  }
}

// One segmenter of each kind for the page's life: building them is the costly part.
let graphemes;
let words;
function segmenter(granularity) {
  if (typeof Intl === "undefined" || typeof Intl.Segmenter !== "function") return null;
  if (granularity === "grapheme") return (graphemes ??= new Intl.Segmenter(undefined, { granularity }));
  return (words ??= new Intl.Segmenter(undefined, { granularity }));
}

// Segmenting the whole transcript for one position would be wasteful, and
// neither graphemes nor words cross a line break, so look only at the
// surrounding line.
function lineAround(text, u16) {
  const from = text.lastIndexOf("\n", u16 - 1) + 1;
  let to = text.indexOf("\n", u16);
  if (to === -1) to = text.length;
  return [from, to];
}

/**
 * Moves UTF-16 index `u16` to a grapheme cluster boundary: backwards with
 * `dir = "start"`, forwards with `dir = "end"`.
 */
export function snapToGrapheme(text, u16, dir) {
  const u = Math.max(0, Math.min(u16, text.length));
  const [from, to] = lineAround(text, u);
  if (u <= from || u >= to) return u;
  const seg = segmenter("grapheme");
  if (!seg) {
    // Without Intl.Segmenter, at least never split a surrogate pair.
    return u > 0 && isPairAt(text, u - 1) ? (dir === "end" ? u + 1 : u - 1) : u;
  }
  const hit = seg.segment(text.slice(from, to)).containing(u - from);
  const start = from + hit.index;
  if (start === u) return u;
  return dir === "end" ? start + hit.segment.length : start;
}

const WHITESPACE = /\s/u;

function isSpaceBefore(text, u) {
  return u > 0 && WHITESPACE.test(text[u - 1]);
}

function isSpaceAt(text, u) {
  return u < text.length && WHITESPACE.test(text[u]);
}

/**
 * Snaps a selection [start, end) of UTF-16 indices. Leading and trailing white
 * space is dropped, and with `words` (the default) an end inside a word is
 * moved out to the word's edge, so a sloppy drag codes whole words. Returns
 * null when nothing but white space was selected.
 */
export function snapSelection(text, start, end, { words: snapWords = true } = {}) {
  let s = Math.max(0, Math.min(start, end, text.length));
  let e = Math.min(text.length, Math.max(start, end, 0));
  while (s < e && isSpaceAt(text, s)) s++;
  while (e > s && isSpaceBefore(text, e)) e--;
  if (s >= e) return null;
  s = snapToGrapheme(text, s, "start");
  e = snapToGrapheme(text, e, "end");
  if (!snapWords) return [s, e];
  const seg = segmenter("word");
  if (seg) {
    s = wordEdge(seg, text, s, "start");
    e = wordEdge(seg, text, e, "end");
  } else {
    const word = /[\p{L}\p{N}\p{M}'’_-]/u;
    while (s > 0 && word.test(text[s - 1]) && word.test(text[s])) s--;
    while (e < text.length && word.test(text[e]) && word.test(text[e - 1])) e++;
  }
  return [s, e];
}

function wordEdge(seg, text, u, dir) {
  const [from, to] = lineAround(text, u);
  if (u <= from || u >= to) return u;
  const hit = seg.segment(text.slice(from, to)).containing(u - from);
  const start = from + hit.index;
  if (start === u || !hit.isWordLike) return u;
  return dir === "end" ? start + hit.segment.length : start;
}

/**
 * The UTF-16 index one word away from `u16`, for keyboard moves and nudges:
 * forwards to the end of the next word, backwards to the start of the previous.
 */
export function wordStep(text, u16, forward) {
  const seg = segmenter("word");
  const wordChar = /[\p{L}\p{N}\p{M}]/u;
  let u = Math.max(0, Math.min(u16, text.length));
  if (!seg) {
    if (forward) {
      while (u < text.length && !wordChar.test(text[u])) u++;
      while (u < text.length && wordChar.test(text[u])) u++;
    } else {
      while (u > 0 && !wordChar.test(text[u - 1])) u--;
      while (u > 0 && wordChar.test(text[u - 1])) u--;
    }
    return u;
  }
  // Segments are looked up one line at a time; a word step may cross into the
  // next or previous line when the rest of this one has no word.
  while (forward ? u < text.length : u > 0) {
    const [from, to] = lineAround(text, forward ? u : u - 1);
    const parts = [...seg.segment(text.slice(from, to))];
    if (forward) {
      for (const part of parts) {
        const end = from + part.index + part.segment.length;
        if (part.isWordLike && end > u) return end;
      }
      u = to + 1;
    } else {
      for (let i = parts.length - 1; i >= 0; i--) {
        const start = from + parts[i].index;
        if (parts[i].isWordLike && start < u) return start;
      }
      u = from - 1;
    }
  }
  return Math.max(0, Math.min(u, text.length));
}
