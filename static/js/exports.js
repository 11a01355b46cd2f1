// The Exports page: each download is fetched as it streams, with a progress
// bar of the bytes that have arrived, then saved under the server's file name.
import { fileName, progressText, sizeText } from "./export-model.js";

const status = document.getElementById("export-status");
const bar = document.getElementById("export-progress");
const message = document.getElementById("export-message");

function show(state, text) {
  status.hidden = false;
  status.dataset.state = state;
  message.textContent = text;
}

async function run(url, fallback) {
  bar.removeAttribute("value");
  bar.removeAttribute("max");
  show("running", progressText(fallback, 0, 0));
  let response;
  try {
    response = await fetch(url, { credentials: "same-origin" });
  } catch (error) {
    show("failed", `The export could not be started: ${error.message}`);
    return;
  }
  if (!response.ok) {
    const text = (await response.text()).replace(/<[^>]*>/g, " ").replace(/\s+/g, " ").trim();
    show("failed", `Refused (${response.status}): ${text.slice(0, 300)}`);
    return;
  }
  const name = fileName(response.headers.get("content-disposition"), fallback);
  const total = Number(response.headers.get("content-length")) || 0;
  const reader = response.body.getReader();
  const chunks = [];
  let received = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      received += value.length;
      if (total > 0) {
        bar.max = total;
        bar.value = received;
      }
      show("running", progressText(name, received, total));
    }
  } catch {
    show("failed", `${name} ended short: the server could not finish it. Nothing was saved.`);
    return;
  }
  const blob = new Blob(chunks, { type: response.headers.get("content-type") || "" });
  const link = document.createElement("a");
  link.href = URL.createObjectURL(blob);
  link.download = name;
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 60_000);
  bar.max = 1;
  bar.value = 1;
  show("finished", `Finished: ${name} (${sizeText(received)})`);
}

const fallbackName = (url) => new URL(url, location.href).pathname.split("/").pop();

for (const link of document.querySelectorAll("#exports a.download")) {
  link.addEventListener("click", (event) => {
    event.preventDefault();
    run(link.href, fallbackName(link.href));
  });
}

for (const form of document.querySelectorAll("#exports form")) {
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const url = new URL(form.action, location.href);
    for (const [key, value] of new FormData(form)) url.searchParams.append(key, value);
    run(url.href, fallbackName(url.href));
  });
}
