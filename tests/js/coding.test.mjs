// The coding page's layout rules, without a browser: which lines a coding
// shows on, how overlapping codings share the margin, how a line is cut into
// highlight segments, and how the code tree and the picker order codes.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  clip,
  clipToTurnText,
  assignLanes,
  codeTree,
  formatTime,
  lineAt,
  loadRecent,
  lineSpan,
  newId,
  nextColor,
  nudgeTarget,
  PALETTE,
  rankCodes,
  saveRecent,
  segmentLine,
  snippetAround,
  subtree,
  turnLines,
  withRecent,
  wordsIn,
} from "../../static/js/coding/layout.js";
import { describeProblem } from "../../static/js/common.js";

// "ab\n\ncde\nf": line 1 [0,2), line 2 empty [3,3), line 3 [4,7), line 4 [8,9).
const lines = [
  { start: 0, end: 2 },
  { start: 3, end: 3 },
  { start: 4, end: 7 },
  { start: 8, end: 9 },
];

test("a position belongs to the line it is on; a newline to the line it ends", () => {
  assert.equal(lineAt(lines, 0), 0);
  assert.equal(lineAt(lines, 2), 0); // the "\n" after "ab"
  assert.equal(lineAt(lines, 3), 1);
  assert.equal(lineAt(lines, 4), 2);
  assert.equal(lineAt(lines, 9), 3);
  assert.equal(lineAt([], 0), -1);
});

test("a coding shows on the lines its characters are on", () => {
  assert.deepEqual(lineSpan(lines, 0, 2), [0, 0]);
  assert.deepEqual(lineSpan(lines, 1, 6), [0, 2]);
  // Ending just after a newline does not reach into the next line.
  assert.deepEqual(lineSpan(lines, 4, 8), [2, 2]);
  // Starting on a newline starts, visibly, on the next line.
  assert.deepEqual(lineSpan(lines, 2, 6), [1, 2]);
  assert.deepEqual(lineSpan(lines, 8, 9), [3, 3]);
});

test("overlapping codings get different lanes, and later ones reuse freed lanes", () => {
  const { lanes, count } = assignLanes([
    { id: "a", first: 0, last: 5 },
    { id: "b", first: 2, last: 3 },
    { id: "c", first: 4, last: 8 },
    { id: "d", first: 6, last: 7 },
  ]);
  assert.equal(lanes.get("a"), 0);
  assert.equal(lanes.get("b"), 1);
  assert.equal(lanes.get("c"), 1); // b has ended by line 4
  assert.equal(lanes.get("d"), 0); // a has ended by line 6
  assert.equal(count, 2);
});

test("a coding keeps its lane when it is still free, so an edit moves no other stripe", () => {
  const before = assignLanes([
    { id: "a", first: 0, last: 2 },
    { id: "b", first: 1, last: 4 },
    { id: "c", first: 5, last: 6 },
  ]);
  assert.equal(before.lanes.get("c"), 0);
  // "a" is deleted: greedy assignment alone would move "b" to lane 0.
  const after = assignLanes([
    { id: "b", first: 1, last: 4 },
    { id: "c", first: 5, last: 6 },
  ], before.lanes);
  assert.equal(after.lanes.get("b"), before.lanes.get("b"));
  assert.equal(after.lanes.get("c"), 0);
  // A lane taken by someone else is given up.
  const clash = assignLanes([
    { id: "x", first: 0, last: 3 },
    { id: "y", first: 1, last: 2 },
  ], new Map([["x", 0], ["y", 0]]));
  assert.notEqual(clash.lanes.get("x"), clash.lanes.get("y"));
});

test("a line is cut at every boundary, with the codings over each piece outermost first", () => {
  const pieces = [
    { id: "long", start: 0, end: 20 },
    { id: "inner", start: 5, end: 10 },
    { id: "cross", start: 8, end: 30 },
  ];
  const segs = segmentLine(0, 25, pieces);
  assert.deepEqual(segs.map((s) => [s.start, s.end]), [[0, 5], [5, 8], [8, 10], [10, 20], [20, 25]]);
  assert.deepEqual(segs.map((s) => s.ids), [
    ["long"],
    ["long", "inner"],
    ["cross", "long", "inner"], // "cross" (22 long) encloses "long" (20) where both are
    ["cross", "long"],
    ["cross"],
  ]);
});

test("a line without codings is one segment, and extra cuts (a speaker label) split it", () => {
  assert.deepEqual(segmentLine(10, 30, []), [{ start: 10, end: 30, ids: [] }]);
  assert.deepEqual(segmentLine(10, 30, [], [23]).map((s) => [s.start, s.end]), [[10, 23], [23, 30]]);
  // Cuts outside the line and codings of other lines are ignored.
  assert.deepEqual(segmentLine(10, 30, [{ id: "x", start: 0, end: 5 }], [5, 40]), [{ start: 10, end: 30, ids: [] }]);
});

test("codings running past the line are clipped to it", () => {
  const segs = segmentLine(10, 20, [{ id: "x", start: 5, end: 15 }, { id: "y", start: 18, end: 40 }]);
  assert.deepEqual(segs, [
    { start: 10, end: 15, ids: ["x"] },
    { start: 15, end: 18, ids: [] },
    { start: 18, end: 20, ids: ["y"] },
  ]);
});

test("the code tree nests by parent, sorts by name, and survives orphans and cycles", () => {
  const codes = [
    { id: "1", name: "trust", parent_id: null },
    { id: "2", name: "Barriers", parent_id: null },
    { id: "3", name: "cost", parent_id: "2" },
    { id: "4", name: "access", parent_id: "2" },
    { id: "5", name: "orphan", parent_id: "gone" },
    { id: "6", name: "loop a", parent_id: "7" },
    { id: "7", name: "loop b", parent_id: "6" },
  ];
  const tree = codeTree(codes);
  assert.deepEqual(
    tree.filter((t) => !t.code.name.startsWith("loop")).map((t) => `${t.depth}:${t.code.name}`),
    ["0:Barriers", "1:access", "1:cost", "0:orphan", "0:trust"],
  );
  assert.equal(tree.length, codes.length, "codes in a cycle are still listed");
  assert.equal(tree.find((t) => t.code.id === "2").hasChildren, true);
  assert.deepEqual([...subtree(codes, "2")].sort(), ["2", "3", "4"]);
});

test("the picker ranks the exact name, then prefixes, then word starts, then the rest", () => {
  const codes = [
    { id: "a", name: "Risk of infection" },
    { id: "b", name: "infection" },
    { id: "c", name: "Infection control" },
    { id: "d", name: "disinfection" },
    { id: "e", name: "trust" },
  ];
  assert.deepEqual(rankCodes(codes, "infection").map((c) => c.id), ["b", "c", "a", "d"]);
  assert.deepEqual(rankCodes(codes, "  INF ").map((c) => c.id), ["b", "c", "a", "d"]);
  assert.deepEqual(rankCodes(codes, "zzz"), []);
  // With nothing typed: every code, the most recently used first.
  assert.deepEqual(rankCodes(codes, "", ["e", "d"]).map((c) => c.id).slice(0, 2), ["e", "d"]);
  assert.equal(rankCodes(codes, "").length, 5);
});

test("new codes take the first palette colour not yet used", () => {
  assert.equal(nextColor([]), PALETTE[0]);
  assert.equal(nextColor([{ color: PALETTE[0].toUpperCase() }, { color: PALETTE[2] }]), PALETTE[1]);
  assert.ok(PALETTE.includes(nextColor(PALETTE.map((color) => ({ color })))));
});

test("problem+json bodies become one sentence for the coder", () => {
  assert.equal(
    describeProblem({ status: 422, title: "Invalid input", errors: { name: ["already used"], color: ["Use a colour like #1f77b4."] } }, "x"),
    "already used Use a colour like #1f77b4.",
  );
  assert.equal(describeProblem({ status: 403, title: "Forbidden", detail: "You have submitted this transcript." }, "x"), "You have submitted this transcript.");
  assert.equal(describeProblem(null, "fallback"), "fallback");
});

test("client ids are version 4 UUIDs", () => {
  const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
  assert.match(newId(), uuid);
  assert.notEqual(newId(), newId());
});

test("turn times read as minutes and seconds, with hours when needed", () => {
  assert.equal(formatTime(65_000), "01:05");
  assert.equal(formatTime(3_725_000), "1:02:05");
  assert.equal(formatTime(0), "00:00");
});

test("quotes are clipped by code points, never through an emoji", () => {
  assert.equal(clip("short", 10), "short");
  assert.equal(clip("👋👋👋👋", 2), "👋👋…");
  assert.equal(clip("ab👋cd", 3), "ab👋…");
});

// "A: one two\nB: three four.\nfive": turns start on lines 0 and 1 (labels
// "A: " and "B: "); line 2 goes on with B's turn.
const turnText = "A: one two\nB: three four.\nfive";
const turnLinesOf = [{ start: 0, end: 10 }, { start: 11, end: 25 }, { start: 26, end: 30 }];
const labels = new Map([[0, { labelEnd: 3 }], [1, { labelEnd: 14 }]]);

test("a selection keeps to the text of turns: no line break, no label at either end", () => {
  // From the end of A's line into B's label: nothing left.
  assert.equal(clipToTurnText(turnLinesOf, labels, 10, 12), null);
  // ... and on into B's first word: just that word.
  assert.deepEqual(clipToTurnText(turnLinesOf, labels, 10, 19), [14, 19]);
  // Ending right after a line break or inside the next label ends at the line before.
  assert.deepEqual(clipToTurnText(turnLinesOf, labels, 7, 11), [7, 10]);
  assert.deepEqual(clipToTurnText(turnLinesOf, labels, 7, 13), [7, 10]);
  // A selection over several turns keeps the labels inside it.
  assert.deepEqual(clipToTurnText(turnLinesOf, labels, 0, 30), [3, 30]);
  // A line of a turn without a label of its own starts at its first character.
  assert.deepEqual(clipToTurnText(turnLinesOf, labels, 25, 30), [26, 30]);
  assert.deepEqual(clipToTurnText(turnLinesOf, labels, 3, 6), [3, 6]);
  // Empty lines are stepped over.
  const blank = [{ start: 0, end: 2 }, { start: 3, end: 3 }, { start: 4, end: 7 }];
  assert.deepEqual(clipToTurnText(blank, new Map(), 2, 6), [4, 6]);
  assert.deepEqual(clipToTurnText(blank, new Map(), 1, 4), [1, 2]);
});

test("a turn runs from its labelled line to the line before the next label", () => {
  assert.deepEqual(turnLines(turnLinesOf, labels, 0), [0, 0]);
  assert.deepEqual(turnLines(turnLinesOf, labels, 2), [1, 2]);
  assert.deepEqual(turnLines(turnLinesOf, labels, 1), [1, 2]);
  assert.deepEqual(turnLines([{ start: 0, end: 3 }], new Map(), 0), [0, 0]);
});

test("word nudges move starts between word starts and ends between word ends, within the turn", () => {
  const text = "The pain was worse at night.";
  const words = wordsIn(text);
  assert.deepEqual(words.map(([s, e]) => text.slice(s, e)), ["The", "pain", "was", "worse", "at", "night"]);
  const limit = [0, text.length];
  const at = (w) => text.indexOf(w);
  const endOf = (w) => text.indexOf(w) + w.length;
  const [s, e] = [at("pain"), endOf("night")];
  // Past the last word the end reaches the end of the turn's text, then stops.
  assert.equal(nudgeTarget(words, limit, s, e, "end", true), text.length);
  assert.equal(nudgeTarget(words, limit, s, text.length, "end", true), null);
  assert.equal(nudgeTarget(words, limit, s, text.length, "end", false), e);
  assert.equal(nudgeTarget(words, limit, s, e, "end", false), endOf("at"));
  assert.equal(nudgeTarget(words, limit, s, endOf("at"), "end", true), e);
  assert.equal(nudgeTarget(words, limit, s, e, "start", true), at("was"));
  assert.equal(nudgeTarget(words, limit, at("was"), e, "start", false), s);
  assert.equal(nudgeTarget(words, limit, s, e, "start", false), 0);
  assert.equal(nudgeTarget(words, limit, 0, e, "start", false), null, "not before the turn's text");
  // Nothing may be left empty.
  assert.equal(nudgeTarget(words, limit, s, endOf("pain"), "end", false), null);
  assert.equal(nudgeTarget(words, limit, s, endOf("pain"), "start", true), null);
  // A start inside a word moves to that word's start.
  assert.equal(nudgeTarget(words, limit, at("pain") + 2, e, "start", false), s);
  // Every nudge is undone by the opposite one.
  for (let a = 0; a < words.length; a++) {
    for (let b = a; b < words.length; b++) {
      const [start, end] = [words[a][0], words[b][1]];
      const later = nudgeTarget(words, limit, start, end, "end", true);
      if (later !== null) assert.equal(nudgeTarget(words, limit, start, later, "end", false), end);
      const earlier = nudgeTarget(words, limit, start, end, "start", false);
      if (earlier !== null) assert.equal(nudgeTarget(words, limit, earlier, end, "start", true), start);
    }
  }
});

test("words are found around emoji and accents", () => {
  const text = "Zoë 👋 café";
  assert.deepEqual(wordsIn(text).map(([s, e]) => text.slice(s, e)), ["Zoë", "café"]);
});

test("the picker also finds codes by their definition, after every match by name", () => {
  const codes = [
    { id: "a", name: "Night pain", definition: "Pain that wakes the patient" },
    { id: "b", name: "Sleep", definition: "Any talk of nights, insomnia or tiredness" },
    { id: "c", name: "Nightly routine", definition: "" },
    { id: "d", name: "Cost", definition: "Money spent on the pump" },
  ];
  assert.deepEqual(rankCodes(codes, "night").map((c) => c.id), ["a", "c", "b"]);
  assert.deepEqual(rankCodes(codes, "INSOMNIA").map((c) => c.id), ["b"]);
  assert.deepEqual(rankCodes(codes, "pump").map((c) => c.id), ["d"]);
  // A code without a definition is still found by name.
  assert.deepEqual(rankCodes([{ id: "x", name: "Trust" }], "tru").map((c) => c.id), ["x"]);
  assert.deepEqual(rankCodes([{ id: "x", name: "Trust" }], "pump"), []);
  // Among definition matches, the most recently used comes first.
  assert.deepEqual(rankCodes(codes, "ti", ["b"]).map((c) => c.id), ["c", "b", "a"]);
  assert.equal(snippetAround("Any talk about the nights, insomnia or tiredness", "insomnia"), "…k about the nights, insomnia or tiredness");
  assert.equal(snippetAround("Pain that wakes", "pain"), "Pain that wakes");
  assert.equal(snippetAround("👋".repeat(30) + " insomnia", "insomnia").startsWith("…👋"), true, "never half an emoji");
});

test("recently used codes come first in the picker, and are remembered for the next page", () => {
  const store = new Map();
  const storage = { getItem: (k) => store.get(k) ?? null, setItem: (k, v) => store.set(k, v) };
  const codes = [
    { id: "a", name: "Access" },
    { id: "b", name: "Barriers" },
    { id: "c", name: "Cost" },
  ];
  let recent = loadRecent(storage, "concord.recent.p.u");
  assert.deepEqual(recent, []);
  assert.deepEqual(rankCodes(codes, "", recent).map((c) => c.id), ["a", "b", "c"], "by name at first");
  recent = withRecent(recent, "c");
  recent = withRecent(recent, "b");
  recent = withRecent(recent, "c");
  saveRecent(storage, "concord.recent.p.u", recent);
  // The next page of the project reads them back.
  const next = loadRecent(storage, "concord.recent.p.u");
  assert.deepEqual(next, ["c", "b"]);
  assert.deepEqual(rankCodes(codes, "", next).map((c) => c.id), ["c", "b", "a"]);
  // At most 20 are kept; storage that is broken or holds something else gives none.
  let many = [];
  for (let i = 0; i < 30; i++) many = withRecent(many, `k${i}`);
  assert.equal(many.length, 20);
  assert.equal(many[0], "k29");
  store.set("concord.recent.p.u", "{oops");
  assert.deepEqual(loadRecent(storage, "concord.recent.p.u"), []);
  store.set("concord.recent.p.u", JSON.stringify({ a: 1 }));
  assert.deepEqual(loadRecent(storage, "concord.recent.p.u"), []);
  const broken = { getItem: () => { throw new Error("SecurityError"); }, setItem: () => { throw new Error("QuotaExceededError"); } };
  assert.deepEqual(loadRecent(broken, "k"), []);
  saveRecent(broken, "k", ["a"]);
});

test("the data block's packed codings unpack to the API's shape", async () => {
  const { unpackCodings } = await import("../../static/js/coding/packed.js");
  const packed = {
    code_ids: ["code-a", "code-b"],
    rows: [
      ["one", 1, 0, 5, 3],
      ["two", 0, 7, 9, 1, "a memo"],
    ],
  };
  assert.deepEqual(unpackCodings(packed, "t", "u"), [
    { id: "one", transcript_id: "t", coder_id: "u", code_id: "code-b", start: 0, end: 5, memo: "", version: 3 },
    { id: "two", transcript_id: "t", coder_id: "u", code_id: "code-a", start: 7, end: 9, memo: "a memo", version: 1 },
  ]);
  assert.deepEqual(unpackCodings({ code_ids: [], rows: [] }, "t", "u"), []);
});
