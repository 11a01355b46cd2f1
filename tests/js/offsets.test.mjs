// Code points (the server's unit) against UTF-16 units (the browser's), with
// the characters that make them differ: emoji, flags, ZWJ sequences, accents
// and combining marks.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  OffsetMap,
  codePointLength,
  snapSelection,
  snapToGrapheme,
  wordStep,
} from "../../static/js/offsets.js";

// What Rust's `chars()` sees: one entry per code point.
const chars = (text) => Array.from(text);

function assertRoundTrips(text) {
  const map = new OffsetMap(text);
  const cps = chars(text);
  assert.equal(map.length, cps.length, "length in code points");
  assert.equal(codePointLength(text), cps.length);
  for (let cp = 0; cp <= cps.length; cp++) {
    const u16 = cps.slice(0, cp).join("").length;
    assert.equal(map.toU16(cp), u16, `toU16(${cp}) in ${JSON.stringify(text)}`);
    assert.equal(map.toCp(u16), cp, `toCp(${u16}) in ${JSON.stringify(text)}`);
  }
}

test("plain ASCII converts as the identity", () => {
  const map = new OffsetMap("Interviewer: How are you?");
  assert.equal(map.length, 25);
  assert.equal(map.toU16(13), 13);
  assert.equal(map.toCp(13), 13);
  assert.equal(map.pairU16.length, 0);
});

test("an emoji is one code point and two UTF-16 units", () => {
  const text = "Hi 👋 there";
  const map = new OffsetMap(text);
  assert.equal(text.length, 11);
  assert.equal(map.length, 10);
  assert.equal(map.toU16(3), 3); // the emoji starts here in both units
  assert.equal(map.toU16(4), 5); // after it, UTF-16 is one ahead
  assert.equal(map.toCp(5), 4);
  assert.equal(map.slice(3, 4), "👋");
  assert.equal(map.slice(5, 10), "there");
  assertRoundTrips(text);
});

test("an index between the halves of a surrogate pair goes to either side of it", () => {
  const map = new OffsetMap("a👋b");
  assert.equal(map.toCp(2), 1);
  assert.equal(map.toCp(2, "after"), 2);
  assert.equal(map.toCp(1, "after"), 1);
  assert.equal(map.toCp(3, "after"), 2);
});

test("accents precomposed by NFC are one code point each", () => {
  const text = "Ça a été très dur, São Paulo, Müller";
  assert.equal(text, text.normalize("NFC"));
  const map = new OffsetMap(text);
  assert.equal(map.length, text.length);
  assert.equal(map.slice(5, 8), "été");
  assertRoundTrips(text);
});

test("combining marks that NFC keeps are code points of their own", () => {
  // q + combining dot below + combining dot above has no precomposed form;
  // Vietnamese "ệ" composes to one code point.
  const text = "q\u0323\u0307 and Việt";
  const nfc = text.normalize("NFC");
  assert.equal(chars(nfc)[0], "q");
  assert.equal(chars(nfc)[1], "\u0323");
  const map = new OffsetMap(nfc);
  assert.equal(map.length, chars(nfc).length);
  assert.equal(map.slice(0, 3), "q\u0323\u0307");
  assertRoundTrips(nfc);
});

test("flags and ZWJ sequences are several code points, each astral one two units", () => {
  const flag = "🇵🇹"; // two regional indicators
  const family = "👩‍👩‍👧"; // woman ZWJ woman ZWJ girl
  const text = `${flag} ${family} ok`;
  const map = new OffsetMap(text);
  assert.equal(chars(flag).length, 2);
  assert.equal(chars(family).length, 5);
  assert.equal(map.length, 2 + 1 + 5 + 3);
  assert.equal(map.toU16(3), 5);
  assert.equal(map.toU16(8), 4 + 1 + 8); // ZWJ is in the BMP: 2+1+2+1+2 units
  assert.equal(map.slice(8, 11), " ok");
  assertRoundTrips(text);
});

test("conversions clamp out-of-range positions to the text", () => {
  const map = new OffsetMap("👋👋");
  assert.equal(map.toU16(-3), 0);
  assert.equal(map.toU16(99), 4);
  assert.equal(map.toCp(-1), 0);
  assert.equal(map.toCp(99), 2);
});

test("random mixes of every kind of character round-trip", () => {
  const pieces = ["a", " ", "\n", "é", "e\u0301", "👋", "🇵🇹", "👩‍👩‍👧", "𝔸", "中", "ß", "\u0308"];
  let seed = 7;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648);
  for (let round = 0; round < 200; round++) {
    let text = "";
    const n = next() % 30;
    for (let i = 0; i < n; i++) text += pieces[next() % pieces.length];
    assertRoundTrips(text);
  }
});

test("a long text converts quickly", () => {
  const text = "Das ist gut 👍 wirklich. ".repeat(10000);
  const started = performance.now();
  const map = new OffsetMap(text);
  let total = 0;
  for (let cp = 0; cp < map.length; cp += 97) total += map.toCp(map.toU16(cp));
  assert.ok(total > 0);
  // A generous bound: this is about quadratic mistakes, not tuning.
  assert.ok(performance.now() - started < 2000);
});

test("grapheme snapping keeps emoji, flags and combining sequences whole", () => {
  const text = "x🇵🇹y e\u0301z 👩‍👩‍👧!";
  // Inside the flag (after its first regional indicator).
  assert.equal(snapToGrapheme(text, 3, "start"), 1);
  assert.equal(snapToGrapheme(text, 3, "end"), 5);
  // Between "e" and its combining acute accent.
  const e = text.indexOf("e\u0301");
  assert.equal(snapToGrapheme(text, e + 1, "start"), e);
  assert.equal(snapToGrapheme(text, e + 1, "end"), e + 2);
  // Inside the ZWJ family.
  const fam = text.indexOf("👩");
  assert.equal(snapToGrapheme(text, fam + 3, "end"), fam + "👩‍👩‍👧".length);
  // Boundaries stay put.
  assert.equal(snapToGrapheme(text, 0, "start"), 0);
  assert.equal(snapToGrapheme(text, 1, "end"), 1);
});

test("a selection snaps out to whole words and drops surrounding spaces", () => {
  const text = "Interviewer: the risk of infection was high";
  // "e risk of infec" → "the risk of infection"
  const start = text.indexOf("e risk");
  const end = text.indexOf("tion");
  assert.deepEqual(snapSelection(text, start, end), [text.indexOf("the"), text.indexOf(" was")]);
  // Spaces around an exact word are dropped, the word is kept.
  const s2 = text.indexOf(" risk");
  assert.deepEqual(snapSelection(text, s2, s2 + 6), [s2 + 1, s2 + 5]);
  // Backwards selections work too.
  assert.deepEqual(snapSelection(text, end, start), [text.indexOf("the"), text.indexOf(" was")]);
  // Only white space selected: nothing to code.
  assert.equal(snapSelection(text, s2, s2 + 1), null);
});

test("without word snapping a selection keeps its characters but not half a grapheme", () => {
  const text = "risk 🇵🇹 infection";
  const flag = text.indexOf("🇵🇹");
  assert.deepEqual(snapSelection(text, 1, 3, { words: false }), [1, 3]);
  assert.deepEqual(snapSelection(text, flag + 2, flag + 4, { words: false }), [flag, flag + 4]);
  assert.deepEqual(snapSelection(text, 1, 3), [0, 4]);
});

test("word snapping handles accents, combining marks and emoji inside words", () => {
  const text = "très bien, cafe\u0301 👋 olá";
  const cafe = text.indexOf("cafe");
  // Cutting between "e" and its combining accent still codes the whole word.
  assert.deepEqual(snapSelection(text, cafe + 1, cafe + 4), [cafe, cafe + 5]);
  const tres = text.indexOf("rè");
  assert.deepEqual(snapSelection(text, tres, tres + 1), [0, 4]);
  const ola = text.indexOf("lá");
  const [s, e] = snapSelection(text, ola, ola + 1);
  assert.equal(text.slice(s, e), "olá");
});

test("word steps move to the next word end and the previous word start, across lines", () => {
  const text = "one two\n\nthree, four";
  assert.equal(wordStep(text, 0, true), 3);
  assert.equal(wordStep(text, 3, true), 7);
  assert.equal(wordStep(text, 7, true), text.indexOf(","));
  assert.equal(wordStep(text, text.length, true), text.length);
  assert.equal(wordStep(text, text.length, false), text.indexOf("four"));
  assert.equal(wordStep(text, text.indexOf("three"), false), 4);
  assert.equal(wordStep(text, 2, false), 0);
  assert.equal(wordStep(text, 0, false), 0);
});
