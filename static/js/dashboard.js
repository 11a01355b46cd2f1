// Keeps the coding progress table current: on every live event about an
// assignment or a coding, the table's rows are refreshed from the API.
const section = document.getElementById("assignments");
const table = document.getElementById("assignment-list");

function percent(a) {
  if (a.lines_touched === null || a.lines_touched === undefined) return null;
  return a.lines_total === 0 ? 0 : Math.floor((a.lines_touched * 100) / a.lines_total);
}

async function refresh() {
  const response = await fetch(`${section.dataset.api}/assignments`, { headers: { Accept: "application/json" } });
  if (!response.ok) return;
  const assignments = await response.json();
  for (const a of assignments) {
    const row = table.querySelector(`tr[data-assignment-id="${a.id}"]`);
    if (!row) {
      // A new assignment: the page has no row for it yet.
      window.location.reload();
      return;
    }
    row.querySelector(".state").textContent = a.state.replace("_", " ");
    const p = percent(a);
    row.querySelector(".progress").textContent = p === null ? "hidden" : `${p}%`;
  }
}

let pending = null;
if (section && table && window.EventSource) {
  const events = new EventSource(`${section.dataset.api}/events`);
  events.addEventListener("message", (message) => {
    const event = JSON.parse(message.data);
    if (!event.kind.startsWith("assignment.") && !event.kind.startsWith("coding.")) return;
    clearTimeout(pending);
    pending = setTimeout(refresh, 200);
  });
}
