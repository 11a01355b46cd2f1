// Previews each chosen file (its first lines as they will be stored, the
// speakers found, headers, footers, comments and what is not kept), lets the
// importer change the encoding or drop speakers, then uploads the files one
// at a time, with a progress bar and the result for each. Without JavaScript
// the form imports them all at once instead.
import { el } from "./common.js";
import { importBlocker, importEncoding, requestFields, speakerList } from "./import-model.js";

const form = document.getElementById("transcript-import-form");
const results = document.getElementById("import-results");
const actions = document.getElementById("import-actions");
const importAll = document.getElementById("import-all");
const csrf = document.querySelector('meta[name="csrf-token"]').content;
const encodingMenu = document.getElementById("encoding-choices");

function row(name) {
  const tr = document.createElement("tr");
  const file = el("td", "file", name);
  const result = document.createElement("td");
  const bar = document.createElement("progress");
  bar.max = 100;
  bar.value = 0;
  result.append(bar);
  tr.append(file, result);
  results.tBodies[0].append(tr);
  return { tr, result, bar };
}

function post(url, file, fields, view) {
  return new Promise((resolve) => {
    const body = new FormData();
    for (const [k, v] of fields) body.append(k, v);
    body.append("files", file, file.name);
    const xhr = new XMLHttpRequest();
    xhr.open("POST", url);
    xhr.setRequestHeader("X-CSRF-Token", csrf);
    xhr.upload.addEventListener("progress", (e) => {
      if (e.lengthComputable && view.bar) view.bar.value = Math.round((e.loaded / e.total) * 100);
    });
    xhr.addEventListener("load", () => {
      let outcome;
      try {
        const json = JSON.parse(xhr.responseText);
        outcome = json.files ? json.files[0] : { error: json.detail || `Error ${xhr.status}` };
      } catch {
        outcome = { error: `Error ${xhr.status}` };
      }
      resolve(outcome);
    });
    xhr.addEventListener("error", () => resolve({ error: "The upload failed; check the connection and try again." }));
    xhr.send(body);
  });
}

function list(className, items) {
  const ul = el("ul", className);
  for (const item of items) ul.append(el("li", "", item));
  return ul;
}

function section(title, content) {
  const div = el("div", "preview-section");
  div.append(el("h4", "", title), content);
  return div;
}

/** The preview of one file, with its controls. */
function showPreview(entry) {
  const { view, preview } = entry;
  view.result.textContent = "";
  view.bar = null;
  const blocker = importBlocker(preview);
  if (preview.error && !preview.first_lines.length) {
    view.tr.className = "failed";
    view.result.append(el("span", "field-error", preview.error));
    return;
  }
  view.tr.className = blocker ? "preview blocked" : "preview";
  const box = el("div", "import-preview");
  const plural = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;
  const summary = `${plural(preview.line_count, "line")}, ${plural(preview.word_count, "word")}` +
    (preview.participant_label ? `, participant ${preview.participant_label}` : "") + ".";
  box.append(el("p", "summary", summary));
  if (preview.encoding) {
    const label = el("label", "encoding", "Encoding ");
    const select = encodingMenu.cloneNode(true);
    select.removeAttribute("id");
    select.name = "preview-encoding";
    select.querySelector('option[value="auto"]')?.remove();
    select.value = preview.encoding;
    select.addEventListener("change", () => {
      entry.encoding = select.value;
      refresh(entry);
    });
    label.append(select);
    box.append(label);
  }
  const lines = el("pre", "first-lines");
  lines.textContent = preview.first_lines.join("\n");
  box.append(section(`First ${preview.first_lines.length} of ${preview.line_count} lines`, lines));
  const speakers = speakerList(preview);
  if (speakers.length) {
    const ul = el("ul", "speakers");
    for (const speaker of speakers) {
      const li = document.createElement("li");
      const label = el("label", "check");
      const tick = document.createElement("input");
      tick.type = "checkbox";
      tick.checked = speaker.kept;
      tick.value = speaker.name;
      tick.addEventListener("change", () => {
        if (tick.checked) entry.notSpeakers.delete(speaker.name);
        else entry.notSpeakers.add(speaker.name);
        refresh(entry);
      });
      const count = speaker.kept ? ` (${speaker.turns} turn${speaker.turns === 1 ? "" : "s"})` : " (kept as text)";
      label.append(tick, ` ${speaker.name}${count}`);
      li.append(label);
      ul.append(li);
    }
    box.append(section("Speakers found (untick a name that is not a speaker)", ul));
  }
  if (preview.headers.length) box.append(section("Headers", list("headers", preview.headers)));
  if (preview.footers.length) box.append(section("Footers", list("footers", preview.footers)));
  if (preview.comments.length) {
    const items = preview.comments.map((c) =>
      `${c.author ? `${c.author}: ` : ""}${c.text}` +
      (c.quote ? ` (on “${c.quote}”${c.line ? `, line ${c.line}` : ""})` : ""));
    box.append(section("Comments (kept as notes on the transcript, not as codings)", list("comments", items)));
  }
  if (preview.warnings.length) box.append(section("Notes", list("warnings muted", preview.warnings)));
  if (preview.not_kept.length) box.append(section("Not kept", list("not-kept muted", preview.not_kept)));
  if (blocker) box.append(el("p", "field-error", blocker));
  view.result.append(box);
}

async function refresh(entry) {
  entry.view.result.querySelector(".import-preview")?.classList.add("busy");
  entry.preview = await post(`${form.dataset.api}/preview`, entry.file, fields(entry), entry.view);
  showPreview(entry);
}

function fields(entry) {
  return requestFields({
    participant: form.elements.participant_id.value,
    encoding: importEncoding(entry.preview, entry.encoding),
    notSpeakers: [...entry.notSpeakers],
  });
}

function showOutcome(view, outcome) {
  view.result.textContent = "";
  if (outcome.error) {
    view.tr.className = "failed";
    view.result.append(el("span", "field-error", outcome.error));
    return;
  }
  view.tr.className = "ok";
  const link = el("a", "", "transcript");
  link.href = `${form.dataset.project}/transcripts/${outcome.transcript_id}`;
  const participant = outcome.participant_label ? `, participant ${outcome.participant_label}` : "";
  view.result.append("Imported as ", link, `, ${outcome.word_count} words${participant}.`);
  for (const warning of outcome.warnings) view.result.append(el("div", "muted", warning));
}

let entries = [];

if (form) {
  form.querySelector('button[type="submit"]').textContent = "Preview";
  document.getElementById("preview-help").hidden = false;
}

form?.addEventListener("submit", async (event) => {
  event.preventDefault();
  const input = form.querySelector('input[type="file"]');
  results.hidden = false;
  results.tBodies[0].textContent = "";
  actions.hidden = true;
  const button = form.querySelector('button[type="submit"]');
  button.disabled = true;
  const picked = form.elements.encoding.value;
  entries = Array.from(input.files).map((file) => ({
    file,
    view: row(file.name),
    encoding: picked,
    notSpeakers: new Set(),
    preview: null,
  }));
  for (const entry of entries) {
    entry.preview = await post(`${form.dataset.api}/preview`, entry.file, fields(entry), entry.view);
    showPreview(entry);
  }
  button.disabled = false;
  actions.hidden = !entries.some((e) => !importBlocker(e.preview));
});

importAll?.addEventListener("click", async () => {
  importAll.disabled = true;
  for (const entry of entries) {
    if (importBlocker(entry.preview)) continue;
    const bar = document.createElement("progress");
    bar.max = 100;
    entry.view.bar = bar;
    entry.view.result.prepend(bar);
    showOutcome(entry.view, await post(form.dataset.api, entry.file, fields(entry), entry.view));
  }
  entries = [];
  importAll.disabled = false;
  actions.hidden = true;
  form.querySelector('input[type="file"]').value = "";
});
