// The roster grid (/settings/schedules/roster/): a click on a day opens the "set one day"
// form in a dialog instead of reloading the page. Without this file the day's link opens
// the same form on the page (?cell=…), so nothing depends on it.
(function () {
  "use strict";
  var grid = document.getElementById("roster-grid");
  var dialog = document.getElementById("set-cell");
  // Back from saving a day (#row-<no> and data-focus): bring that day into view.
  if (grid && grid.dataset.focus && location.hash.indexOf("#row-") === 0) {
    var row = document.getElementById(location.hash.slice(1));
    var saved = row && row.querySelector('td[data-day="' + grid.dataset.focus + '"]');
    if (saved) {
      saved.classList.add("saved");
      var box = grid.parentElement;
      box.scrollLeft = Math.max(0, saved.offsetLeft - box.clientWidth / 2);
    }
  }
  if (!grid || !dialog || typeof dialog.showModal !== "function") return;
  var form = dialog.querySelector("form");
  var who = document.getElementById("set-cell-who");
  var select = document.getElementById("set-cell-value");
  grid.addEventListener("click", function (event) {
    var link = event.target.closest("a[data-value]");
    if (!link) return;
    var cell = link.closest("td[data-day]");
    var row = link.closest("tr[data-employee]");
    if (!cell || !row) return;
    event.preventDefault();
    form.elements.employee.value = row.dataset.employee;
    form.elements.day.value = cell.dataset.day;
    who.textContent = row.dataset.name + " (" + row.dataset.employee + ") · " + cell.dataset.day;
    select.value = link.dataset.value;
    if (dialog.open) dialog.close();
    dialog.showModal();
    select.focus();
  });
  var cancel = dialog.querySelector("[data-close]");
  if (cancel) {
    cancel.addEventListener("click", function (event) {
      if (!dialog.open) return;
      event.preventDefault();
      dialog.close();
    });
  }
})();
