/* "Notifications on this device" (the inbox): switch Web Push on or off for this browser.
 * The server's public key, the addresses and every text come from the card's data-*
 * attributes (translated on the server); no external code (docs/pwa.md "Web Push"). */
(function () {
  "use strict";

  var card = document.getElementById("push-card");
  if (!card) return;
  var state = card.querySelector("[data-push-state]");
  var onButton = card.querySelector("[data-push-on]");
  var offButton = card.querySelector("[data-push-off]");
  var csrf = card.querySelector("input[name=csrfmiddlewaretoken]");

  function say(name) {
    state.textContent = card.getAttribute("data-text-" + name) || "";
    state.setAttribute("data-state", name);
  }

  function show(on) {
    onButton.hidden = on;
    offButton.hidden = !on;
  }

  function keyBytes(text) {
    var padded = (text + "===".slice((text.length + 3) % 4)).replace(/-/g, "+").replace(/_/g, "/");
    var raw = window.atob(padded);
    var out = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
    return out;
  }

  function post(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf ? csrf.value : "" },
      body: JSON.stringify(body),
    }).then(function (response) {
      if (!response.ok) throw new Error("HTTP " + response.status);
      return response;
    });
  }

  var supported = "serviceWorker" in navigator && "PushManager" in window && "Notification" in window;
  if (!supported) {
    say("unsupported");
    onButton.hidden = true;
    offButton.hidden = true;
    return;
  }

  function registration() {
    return navigator.serviceWorker.register("/sw.js", { scope: "/" }).then(function () {
      return navigator.serviceWorker.ready;
    });
  }

  function refresh() {
    if (Notification.permission === "denied") {
      say("denied");
      show(false);
      onButton.disabled = true;
      return Promise.resolve();
    }
    return registration().then(function (reg) {
      return reg.pushManager.getSubscription();
    }).then(function (subscription) {
      say(subscription ? "on" : "off");
      show(!!subscription);
    });
  }

  onButton.addEventListener("click", function () {
    onButton.disabled = true;
    say("asking");
    Notification.requestPermission().then(function (permission) {
      if (permission !== "granted") {
        say(permission === "denied" ? "denied" : "refused");
        onButton.disabled = permission === "denied";
        return null;
      }
      return registration().then(function (reg) {
        return reg.pushManager.subscribe({
          userVisibleOnly: true,
          applicationServerKey: keyBytes(card.getAttribute("data-key")),
        });
      }).then(function (subscription) {
        return post(card.getAttribute("data-subscribe"), subscription.toJSON());
      }).then(function () {
        try { window.localStorage.setItem("ztk-push-owner", card.getAttribute("data-owner") || ""); } catch (e) { /* private mode */ }
        say("on");
        show(true);
        onButton.disabled = false;
      });
    }).catch(function () {
      say("error");
      onButton.disabled = false;
    });
  });

  offButton.addEventListener("click", function () {
    offButton.disabled = true;
    registration().then(function (reg) {
      return reg.pushManager.getSubscription();
    }).then(function (subscription) {
      if (!subscription) return null;
      var endpoint = subscription.endpoint;
      return subscription.unsubscribe().then(function () {
        return post(card.getAttribute("data-unsubscribe"), { endpoint: endpoint });
      });
    }).then(function () {
      say("off");
      show(false);
    }).catch(function () {
      say("error");
    }).then(function () {
      offButton.disabled = false;
    });
  });

  refresh().catch(function () { say("error"); });
})();
