/* The one-tap punch button of 我的考勤.
 * Asks the browser for the position, POSTs it to the JSON API with the session and the
 * CSRF token, and shows the answer. A field punch (外勤) needs a photo: then the
 * multipart form below the button is shown and submitted as a normal page request.
 * All messages come translated from the page (#punch-texts). No external code.
 */
(function () {
  "use strict";

  var card = document.getElementById("punch");
  var button = document.getElementById("punch-button");
  if (!card || !button) return;
  var statusLine = document.getElementById("punch-status");
  var clock = document.getElementById("punch-clock");
  var photoForm = document.getElementById("punch-photo");
  var texts = JSON.parse(document.getElementById("punch-texts").textContent);
  var zone = card.getAttribute("data-tz") || undefined;
  var apiUrl = card.getAttribute("data-api");
  var busy = false;

  function formatTime(date, seconds) {
    var options = { hour: "2-digit", minute: "2-digit", hour12: false, timeZone: zone };
    if (seconds) options.second = "2-digit";
    try {
      return new Intl.DateTimeFormat("en-GB", options).format(date);
    } catch (e) {
      return date.toTimeString().slice(0, seconds ? 8 : 5);
    }
  }

  function tick() {
    if (clock) clock.textContent = formatTime(new Date(), true);
  }
  tick();
  window.setInterval(tick, 1000);

  function show(text, kind) {
    statusLine.textContent = text || "";
    statusLine.className = "punch-status" + (kind ? " is-" + kind : "");
  }

  function withTime(template, time) {
    return String(template).replace("%(time)s", time);
  }

  function csrfToken() {
    var headers = document.body.getAttribute("hx-headers");
    if (headers) {
      try {
        var token = JSON.parse(headers)["X-CSRFToken"];
        if (token) return token;
      } catch (e) { /* fall through */ }
    }
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    if (input && input.value) return input.value;
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function channel() {
    return window.matchMedia && window.matchMedia("(pointer: coarse)").matches ? "mobile" : "web";
  }

  // Resolves with {coords} or {error: denied|timeout|unavailable|unsupported|insecure}.
  function locate() {
    return new Promise(function (resolve) {
      if (window.isSecureContext === false) return resolve({ error: "insecure" });
      if (!("geolocation" in navigator)) return resolve({ error: "unsupported" });
      navigator.geolocation.getCurrentPosition(
        function (position) { resolve({ coords: position.coords }); },
        function (error) {
          var code = error && error.code;
          resolve({ error: code === 1 ? "denied" : code === 3 ? "timeout" : "unavailable" });
        },
        { enableHighAccuracy: true, timeout: 15000, maximumAge: 30000 }
      );
    });
  }

  function refreshPage() {
    if (!window.htmx) return;
    window.htmx.ajax("GET", window.location.pathname, { target: "#today", swap: "outerHTML" });
    window.htmx.ajax("GET", window.location.pathname + window.location.search,
      { target: "#calendar", swap: "outerHTML" });
  }

  function askForPhoto(payload, message) {
    if (!photoForm) return show(message, "error");
    ["latitude", "longitude", "accuracy_m", "channel"].forEach(function (name) {
      var input = photoForm.querySelector("input[name=" + name + "]");
      if (input) input.value = payload[name] === undefined ? "" : payload[name];
    });
    photoForm.hidden = false;
    show(message || texts.photo, "warn");
    var file = photoForm.querySelector("input[type=file]");
    if (file) file.focus();
  }

  // 极速打卡: after a quick punch, a few seconds to undo it (the server allows 10 s).
  var undoLine = document.getElementById("punch-undo-line");
  var undoButton = document.getElementById("punch-undo");
  var undoTimer = null;
  function hideUndo() {
    if (undoTimer) window.clearInterval(undoTimer);
    undoTimer = null;
    if (undoLine) undoLine.hidden = true;
  }
  function offerUndo(punchId) {
    if (!undoLine || !undoButton || !punchId) return;
    var left = 10;
    function label() { undoButton.textContent = withSeconds(texts.undo, left); }
    label();
    undoLine.hidden = false;
    undoButton.onclick = function () {
      hideUndo();
      fetch(apiUrl.replace(/\/$/, "") + "/" + punchId + "/undo", {
        method: "POST",
        credentials: "same-origin",
        headers: { "Accept": "application/json", "X-CSRFToken": csrfToken() },
      }).then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (body) {
          if (response.ok) {
            show(texts.undone, "info");
            refreshPage();
          } else {
            show(body.message || texts.failed, "error");
          }
        });
      }).catch(function () { show(texts.network, "error"); });
    };
    undoTimer = window.setInterval(function () {
      left -= 1;
      if (left <= 0) return hideUndo();
      label();
    }, 1000);
  }
  function withSeconds(template, seconds) {
    return String(template).replace("%(seconds)s", String(seconds));
  }

  function handle(response, located, payload) {
    var body = response.body || {};
    if (response.status === 200 || response.status === 201) {
      var punch = body.punch || {};
      var time = punch.at ? formatTime(new Date(punch.at), false) : "";
      if (body.duplicate) {
        show(withTime(texts.duplicate, time), "info");
      } else {
        show(withTime(punch.field_punch ? texts.field_recorded : texts.recorded, time), "ok");
        if (payload.quick) offerUndo(punch.id);
        refreshPage();
      }
      return;
    }
    var code = body.code || "";
    if (payload.quick) {
      // The app did not punch by itself (outside the areas, no check-in due …): the
      // button is there for a punch the person asks for.
      show(body.message || "", "info");
      return;
    }
    if (code === "location_required" && located.error) {
      show(texts[located.error] || body.message, "error");
    } else if (code === "photo_required") {
      askForPhoto(payload, body.message);
    } else {
      show(body.message || texts.failed, "error");
    }
  }

  // Offline (or a copy of the page kept on this device) the button cannot punch, and says
  // why: a punch's time is the server's, so nothing is queued to be sent later.
  function offline() {
    return navigator.onLine === false || document.body.hasAttribute("data-offline-copy");
  }
  function followConnection() {
    if (busy) return;
    if (offline()) {
      button.disabled = true;
      show(texts.offline, "warn");
    } else if (button.disabled) {
      button.disabled = false;
      show("", "");
    }
  }
  followConnection();
  window.addEventListener("offline", followConnection);
  window.addEventListener("online", followConnection);

  function punchNow(quick) {
    if (busy) return;
    if (offline()) return followConnection();
    hideUndo();
    busy = true;
    button.disabled = true;
    if (photoForm) photoForm.hidden = true;
    show(texts.locating, "busy");
    locate()
      .then(function (located) {
        var payload = { channel: channel() };
        if (quick) payload.quick = true;
        if (located.coords) {
          payload.latitude = located.coords.latitude;
          payload.longitude = located.coords.longitude;
          if (isFinite(located.coords.accuracy)) {
            payload.accuracy_m = Math.min(100000, Math.round(located.coords.accuracy));
          }
        }
        show(texts.sending, "busy");
        return fetch(apiUrl, {
          method: "POST",
          credentials: "same-origin",
          headers: {
            "Content-Type": "application/json",
            "Accept": "application/json",
            "X-CSRFToken": csrfToken(),
          },
          body: JSON.stringify(payload),
        }).then(function (response) {
          return response.json()
            .catch(function () { return {}; })
            .then(function (body) {
              handle({ status: response.status, body: body }, located, payload);
            });
        });
      })
      .catch(function () { show(texts.network, "error"); })
      .then(function () {
        busy = false;
        button.disabled = false;
        if (offline()) followConnection();
      });
  }

  button.addEventListener("click", function () { punchNow(false); });
  if (card.getAttribute("data-quick") === "1" && !offline()) punchNow(true);
})();
