// The Exports page's progress line and file names.
import { test } from "node:test";
import assert from "node:assert/strict";
import { fileName, progressText, sizeText } from "../../static/js/export-model.js";

test("the file name comes from the attachment header, else the fallback", () => {
  assert.equal(
    fileName('attachment; filename="pain-codebook-2026-12-04.docx"', "codebook.docx"),
    "pain-codebook-2026-12-04.docx",
  );
  assert.equal(fileName(null, "codebook.docx"), "codebook.docx");
  assert.equal(fileName("inline", "x.csv"), "x.csv");
});

test("sizes are read in B, KB and MB", () => {
  assert.equal(sizeText(0), "0 B");
  assert.equal(sizeText(1023), "1023 B");
  assert.equal(sizeText(1536), "1.5 KB");
  assert.equal(sizeText(5 * 1024 * 1024), "5.0 MB");
});

test("progress says what has arrived, with the share when the size is known", () => {
  assert.equal(progressText("a.csv", 0, 0), "a.csv: being written…");
  assert.equal(progressText("a.csv", 2048, 0), "a.csv: 2.0 KB received");
  assert.equal(progressText("a.csv", 512, 2048), "a.csv: 512 B of 2.0 KB (25 %)");
  assert.equal(progressText("a.csv", 4096, 2048), "a.csv: 4.0 KB of 2.0 KB (100 %)");
});
