// Which live events a page that keeps its parts current listens to.
import { test } from "node:test";
import assert from "node:assert/strict";
import { matches } from "../../static/js/live_parts.js";

test("a kind matches itself exactly, and a prefix ending in a dot matches what is under it", () => {
  const kinds = ["memo.changed", "consensus."];
  assert.equal(matches(kinds, "memo.changed"), true);
  assert.equal(matches(kinds, "memo.changed.more"), false);
  assert.equal(matches(kinds, "memo"), false);
  assert.equal(matches(kinds, "consensus.code.merged"), true);
  assert.equal(matches(kinds, "consensus"), false);
  assert.equal(matches(kinds, "debriefing.changed"), false);
  assert.equal(matches([], "memo.changed"), false);
});
