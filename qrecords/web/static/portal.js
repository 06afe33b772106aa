// Table rows of a form: add (from the table's <template>) and remove. No inline script: the
// Content-Security-Policy allows scripts from this portal only.
document.addEventListener("click", function (event) {
  var add = event.target.closest("[data-add-row]");
  if (add) {
    var id = add.getAttribute("data-add-row");
    var template = document.querySelector('template[data-row-for="' + id + '"]');
    var body = document.querySelector('table[data-table="' + id + '"] tbody');
    var next = Number(body.getAttribute("data-next") || body.rows.length);
    body.insertAdjacentHTML("beforeend", template.innerHTML.replace(/__ROW__/g, String(next)));
    body.setAttribute("data-next", String(next + 1));
    var first = body.rows[body.rows.length - 1].querySelector("input, select, textarea");
    if (first) { first.focus(); }
    return;
  }
  var remove = event.target.closest(".remove-row");
  if (remove) {
    remove.closest("tr").remove();
  }
});
