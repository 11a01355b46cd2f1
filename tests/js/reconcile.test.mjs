import { test } from "node:test";
import assert from "node:assert/strict";

import { KEYS, codeChoice, needsCode, nextOpen, overlapPercent, step } from "../../static/js/reconcile.js";

test("j and k step through the list and wrap", () => {
  assert.equal(step(3, -1, 1), 0);
  assert.equal(step(3, -1, -1), 2);
  assert.equal(step(3, 2, 1), 0);
  assert.equal(step(3, 0, -1), 2);
  assert.equal(step(0, -1, 1), -1);
});

test("after a decision the next open discrepancy is chosen", () => {
  const items = [{ resolved: true }, { resolved: false }, { resolved: true }, { resolved: false }];
  assert.equal(nextOpen(items, 1), 3);
  assert.equal(nextOpen(items, 3), 1);
  assert.equal(nextOpen([{ resolved: true }], 0), -1);
});

test("a union of two codes asks which code, of one code does not", () => {
  const side = (code) => ({ code_id: code, start: 0, end: 5 });
  const two = { discrepancy: { a: side("x"), b: side("y") } };
  const one = { discrepancy: { a: side("x"), b: side("x") } };
  assert.equal(needsCode(two, "union"), true);
  assert.equal(needsCode(two, "intersection"), true);
  assert.equal(needsCode(two, "accept_a"), false);
  assert.equal(needsCode(one, "union"), false);
});

test("a typed code name picks an agreed code or names a new one", () => {
  const codes = [{ id: "1", name: "Pump refills" }];
  assert.deepEqual(codeChoice(codes, " pump REFILLS "), { code_id: "1" });
  assert.deepEqual(codeChoice(codes, "Cost"), { new_code_name: "Cost" });
  assert.equal(codeChoice(codes, "  "), null);
});

test("every decision has one key", () => {
  const kinds = Object.values(KEYS);
  assert.equal(new Set(kinds).size, kinds.length);
  assert.ok(!("j" in KEYS) && !("k" in KEYS));
});

test("the exact overlap ratio is shown as a rounded percentage", () => {
  assert.equal(overlapPercent("21/25"), 84);
  assert.equal(overlapPercent("1"), 100);
  assert.equal(overlapPercent("1/3"), 33);
  assert.equal(overlapPercent(null), null);
  assert.equal(overlapPercent(undefined), null);
  assert.equal(overlapPercent("0/0"), null);
});
