// The agreement table: click a heading to sort, type to filter codes; colour
// swatches come from data attributes (the page allows no inline styles).
for (const swatch of document.querySelectorAll(".swatch[data-color]")) {
  swatch.style.backgroundColor = swatch.dataset.color;
}

const table = document.getElementById("agreement-table");
const filter = document.getElementById("table-filter");

if (table) {
  const body = table.tBodies[0];
  const rows = () => Array.from(body.querySelectorAll("tr.code-row"));
  table.querySelectorAll("th").forEach((th, column) => {
    th.tabIndex = 0;
    let ascending = false;
    const sort = () => {
      ascending = !ascending;
      const numeric = th.dataset.sort === "number";
      const key = (tr) => {
        const cell = tr.cells[column];
        if (!numeric) return cell.textContent.trim().toLocaleLowerCase();
        const value = cell.dataset.sort;
        return value === "" ? Number.NEGATIVE_INFINITY : Number(value);
      };
      const sorted = rows().sort((a, b) => {
        const x = key(a);
        const y = key(b);
        const order = x < y ? -1 : x > y ? 1 : 0;
        return ascending ? order : -order;
      });
      // The pooled row stays on top.
      for (const tr of sorted) body.append(tr);
      table.querySelectorAll("th").forEach((h) => h.removeAttribute("aria-sort"));
      th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    };
    th.addEventListener("click", sort);
    th.addEventListener("keydown", (e) => {
      if (e.key === "Enter" || e.key === " ") {
        e.preventDefault();
        sort();
      }
    });
  });
  filter?.addEventListener("input", () => {
    const query = filter.value.trim().toLocaleLowerCase();
    for (const tr of rows()) {
      tr.hidden = query !== "" && !tr.cells[0].textContent.toLocaleLowerCase().includes(query);
    }
  });
}
