/* The punch area form: "use my current position" and the live picture of the area.
 * The position comes from navigator.geolocation (the browser asks the user); a refusal,
 * a timeout or a browser without it leaves a clear message and the typed coordinates.
 * Messages come translated from the page (#locate-texts). No external code, no map tiles.
 */
(function () {
  "use strict";

  var form = document.getElementById("fence-form");
  if (!form) return;
  var texts = JSON.parse(document.getElementById("locate-texts").textContent);
  var button = document.getElementById("locate");
  var statusLine = document.getElementById("locate-status");
  var lat = document.getElementById("f-lat");
  var lon = document.getElementById("f-lon");
  var radius = document.getElementById("f-radius");
  var active = form.querySelector("input[name=active]");
  var picArea = document.getElementById("fence-pic-area");
  var picRadius = document.getElementById("fence-pic-radius");
  var picCoords = document.getElementById("fence-pic-coords");

  function show(text, kind) {
    statusLine.textContent = text || "";
    statusLine.className = "locate-status small" + (kind ? " is-" + kind : "");
  }

  function redraw() {
    if (picRadius) picRadius.textContent = (radius.value || "?") + " m";
    if (picArea) picArea.setAttribute("class", "area" + (active && !active.checked ? " off" : ""));
    if (picCoords && lat.value && lon.value) picCoords.textContent = lat.value + ", " + lon.value;
  }
  [lat, lon, radius, active].forEach(function (input) {
    if (input) input.addEventListener("input", redraw);
  });
  if (active) active.addEventListener("change", redraw);

  if (!button) return;
  if (!("geolocation" in navigator)) {
    show(texts.unsupported, "error");
    return;
  }
  button.hidden = false;

  button.addEventListener("click", function () {
    button.disabled = true;
    show(texts.asking, "");
    navigator.geolocation.getCurrentPosition(
      function (position) {
        button.disabled = false;
        lat.value = position.coords.latitude.toFixed(6);
        lon.value = position.coords.longitude.toFixed(6);
        redraw();
        var metres = Math.round(position.coords.accuracy || 0);
        show(String(texts.found).replace("%(m)s", metres), "ok");
      },
      function (error) {
        button.disabled = false;
        var text = texts.unavailable;
        if (error && error.code === 1) text = texts.denied;
        else if (error && error.code === 3) text = texts.timeout;
        show(text, "error");
      },
      { enableHighAccuracy: true, timeout: 15000, maximumAge: 0 }
    );
  });
})();
