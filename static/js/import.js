// Uploads the chosen files one at a time, with a progress bar and the result
// for each. Without JavaScript the form posts them all at once instead.
const form = document.getElementById("transcript-import-form");
const results = document.getElementById("import-results");
const csrf = document.querySelector('meta[name="csrf-token"]').content;

function row(name) {
  const tr = document.createElement("tr");
  const file = document.createElement("td");
  file.textContent = name;
  const result = document.createElement("td");
  const bar = document.createElement("progress");
  bar.max = 100;
  bar.value = 0;
  result.append(bar);
  tr.append(file, result);
  results.tBodies[0].append(tr);
  return { tr, result, bar };
}

function upload(file, fields, view) {
  return new Promise((resolve) => {
    const body = new FormData();
    for (const [k, v] of fields) body.append(k, v);
    body.append("files", file, file.name);
    const xhr = new XMLHttpRequest();
    xhr.open("POST", form.dataset.api);
    xhr.setRequestHeader("X-CSRF-Token", csrf);
    xhr.upload.addEventListener("progress", (e) => {
      if (e.lengthComputable) view.bar.value = Math.round((e.loaded / e.total) * 100);
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

function showOutcome(view, outcome) {
  view.result.textContent = "";
  if (outcome.error) {
    view.tr.className = "failed";
    const span = document.createElement("span");
    span.className = "field-error";
    span.textContent = outcome.error;
    view.result.append(span);
    return;
  }
  view.tr.className = "ok";
  const link = document.createElement("a");
  link.href = `${form.dataset.project}/transcripts/${outcome.transcript_id}`;
  link.textContent = "transcript";
  const participant = outcome.participant_label ? `, participant ${outcome.participant_label}` : "";
  view.result.append("Imported as ", link, `, ${outcome.word_count} words${participant}.`);
  for (const warning of outcome.warnings) {
    const note = document.createElement("div");
    note.className = "muted";
    note.textContent = warning;
    view.result.append(note);
  }
}

form?.addEventListener("submit", async (event) => {
  event.preventDefault();
  const input = form.querySelector('input[type="file"]');
  const fields = [
    ["participant_id", form.elements.participant_id.value],
    ["encoding", form.elements.encoding.value],
  ];
  results.hidden = false;
  results.tBodies[0].textContent = "";
  const button = form.querySelector('button[type="submit"]');
  button.disabled = true;
  const views = Array.from(input.files).map((file) => [file, row(file.name)]);
  for (const [file, view] of views) {
    showOutcome(view, await upload(file, fields, view));
  }
  button.disabled = false;
  input.value = "";
});
