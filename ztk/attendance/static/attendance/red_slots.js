// The month view's red slots: the button says how many are ticked and waits for one.
// Without JavaScript the form works as it is (the batch page says when none was chosen).
(function () {
  "use strict";
  function update() {
    var form = document.getElementById("red-form");
    if (!form) return;
    var n = form.querySelectorAll("input.red-pick:checked").length;
    var button = document.getElementById("red-submit");
    if (!button) return;
    var picked = button.querySelector(".picked");
    if (picked) picked.textContent = n ? "(" + n + ")" : "";
    button.disabled = n === 0;
  }
  document.addEventListener("change", function (event) {
    if (event.target && event.target.classList && event.target.classList.contains("red-pick")) update();
  });
  document.addEventListener("htmx:afterSwap", update);
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", update);
  else update();
})();
