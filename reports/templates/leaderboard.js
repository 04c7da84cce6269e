// Sort any table.sortable by a click on its column header; filter the problem lists.
"use strict";

function sortValue(row, column, numeric) {
  const raw = row.cells[column].dataset.value;
  if (!numeric) return raw || "";
  return raw === undefined || raw === "" ? null : Number(raw);
}

function sortTable(table, header) {
  const headers = Array.from(header.parentNode.children);
  const column = headers.indexOf(header);
  const numeric = header.dataset.type === "number";
  const current = header.getAttribute("aria-sort");
  // Scores sort best first on the first click, names alphabetically.
  const ascending = current === "none" ? !numeric : current === "descending";
  headers.forEach(h => h.setAttribute("aria-sort", "none"));
  header.setAttribute("aria-sort", ascending ? "ascending" : "descending");
  const body = table.tBodies[0];
  const rows = Array.from(body.rows);
  rows.sort((a, b) => {
    const x = sortValue(a, column, numeric), y = sortValue(b, column, numeric);
    if (x === null || y === null) return (x === null) - (y === null);   // blanks last
    const order = numeric ? x - y : x.localeCompare(y);
    return ascending ? order : -order;
  });
  rows.forEach(row => body.appendChild(row));
}

document.querySelectorAll("table.sortable").forEach(table => {
  table.querySelectorAll("thead th").forEach(header => {
    header.addEventListener("click", () => sortTable(table, header));
  });
});

document.querySelectorAll("section.task").forEach(section => {
  const box = section.querySelector(".problem-filter");
  const failingOnly = section.querySelector(".failing-only");
  const shown = section.querySelector(".shown");
  const problems = Array.from(section.querySelectorAll("details.problem"));
  function apply() {
    const query = box.value.trim().toLowerCase();
    let visible = 0;
    problems.forEach(p => {
      const match = p.dataset.problemId.toLowerCase().includes(query)
        && (!failingOnly.checked || p.dataset.failing === "1");
      p.hidden = !match;
      visible += match;
    });
    shown.textContent = visible + " of " + problems.length + " problems";
  }
  box.addEventListener("input", apply);
  failingOnly.addEventListener("change", apply);
});
