// Find in the transcript: marks every line that contains the query and moves
// through them with Enter (Shift+Enter backwards).
const input = document.getElementById("find");
const count = document.getElementById("find-count");
const lines = Array.from(document.querySelectorAll("#transcript .line"));
const texts = lines.map((line) => line.querySelector(".text").textContent.toLocaleLowerCase());
let hits = [];
let current = -1;

function show(index) {
  lines.forEach((line) => line.classList.remove("current"));
  if (hits.length === 0) return;
  current = (index + hits.length) % hits.length;
  const line = lines[hits[current]];
  line.classList.add("current");
  line.scrollIntoView({ block: "center" });
  count.textContent = `${current + 1} of ${hits.length} lines`;
}

input?.addEventListener("input", () => {
  const query = input.value.trim().toLocaleLowerCase();
  hits = [];
  lines.forEach((line, i) => {
    const match = query !== "" && texts[i].includes(query);
    line.classList.toggle("match", match);
    if (match) hits.push(i);
  });
  current = -1;
  count.textContent = query === "" ? "" : hits.length === 0 ? "no match" : `${hits.length} lines`;
});

input?.addEventListener("keydown", (event) => {
  if (event.key === "Enter") {
    event.preventDefault();
    show(current + (event.shiftKey ? -1 : 1));
  }
});

// Code colours of the layer shown: the page's CSP allows no inline styles.
for (const el of document.querySelectorAll("[data-color]")) {
  el.style.setProperty("--code", el.dataset.color);
}
