// The maintenance page's "Back to the form": the browser's own back, so the form comes
// back with what was typed in it (a plain link would open it empty). Without a history to
// go back to, the link's address (the form's page) is followed.
(function () {
  "use strict";
  var link = document.querySelector("[data-history-back]");
  if (!link) return;
  link.addEventListener("click", function (event) {
    if (window.history.length > 1) {
      event.preventDefault();
      window.history.back();
    }
  });
})();
