// The import page's requests: fields sent, encoding chosen, speakers listed.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  importBlocker,
  importEncoding,
  requestFields,
  speakerList,
} from "../../static/js/import-model.js";

test("every dropped speaker is its own not_speaker field", () => {
  assert.deepEqual(
    requestFields({ participant: "none", encoding: "GBK", notSpeakers: ["Digo", "Nota"] }),
    [
      ["participant_id", "none"],
      ["encoding", "GBK"],
      ["not_speaker", "Digo"],
      ["not_speaker", "Nota"],
    ],
  );
  assert.deepEqual(requestFields({}), [["participant_id", "auto"], ["encoding", "auto"]]);
});

test("a guessed encoding the importer saw is the one imported", () => {
  const guessed = { encoding: "windows-1255", encoding_guessed: true };
  assert.equal(importEncoding(guessed, "auto"), "windows-1255");
  assert.equal(importEncoding(guessed, "ISO-8859-8"), "ISO-8859-8");
  assert.equal(importEncoding({}, "auto"), "auto", "a .docx has no encoding");
});

test("errors and duplicates block the import with a reason", () => {
  assert.equal(importBlocker({ error: "The file is empty." }), "The file is empty.");
  assert.match(importBlocker({ duplicate_of: "P01 interview" }), /'P01 interview'/);
  assert.equal(importBlocker({ first_lines: ["x"] }), null);
});

test("dropped speakers stay listed so they can be ticked again", () => {
  const list = speakerList({
    speakers: [{ name: "Ana", turns: 3 }],
    not_speakers: ["Digo", "ana"],
  });
  assert.deepEqual(list, [
    { name: "Ana", turns: 3, kept: true },
    { name: "Digo", turns: 0, kept: false },
  ]);
});
