// Approval inbox: "all on this page" ticks every row; the button shows how many are ticked.
(function () {
  "use strict";
  var form = document.getElementById("batch-form");
  if (!form) return;
  var all = document.getElementById("select-all");
  var picked = form.querySelector(".picked");
  function boxes() {
    return Array.prototype.slice.call(document.querySelectorAll('input[name=ids][form="batch-form"], input[name=pick][form="batch-form"]'));
  }
  function update() {
    var list = boxes();
    var n = list.filter(function (b) { return b.checked; }).length;
    if (picked) picked.textContent = n ? "(" + n + ")" : "";
    if (all) {
      all.checked = n > 0 && n === list.length;
      all.indeterminate = n > 0 && n < list.length;
    }
  }
  if (all) {
    all.addEventListener("change", function () {
      boxes().forEach(function (b) { b.checked = all.checked; });
      update();
    });
  }
  document.addEventListener("change", function (event) {
    if (event.target && (event.target.name === "ids" || event.target.name === "pick")) update();
  });
  update();
})();
