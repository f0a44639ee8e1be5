/* The installable app: register the service worker (served at /sw.js, see ztk/web/pwa.py),
 * tell it who is signed in so that one person's kept pages are never shown to another, and
 * say when the page is offline or is a copy kept on this device. No external code. */
(function () {
  "use strict";

  var banner = document.getElementById("offline-banner");
  var ownerMeta = document.querySelector('meta[name="ztk-owner"]');
  var owner = ownerMeta ? ownerMeta.getAttribute("content") || "" : "";
  var savedAt = document.body ? document.body.getAttribute("data-offline-copy") : null;

  function localTime(iso) {
    var when = new Date(iso);
    if (isNaN(when.getTime())) return "";
    try {
      return new Intl.DateTimeFormat(document.documentElement.lang || undefined, {
        month: "numeric", day: "numeric", hour: "2-digit", minute: "2-digit", hour12: false,
      }).format(when);
    } catch (e) {
      return when.toLocaleString();
    }
  }

  function showState() {
    if (!banner) return;
    if (savedAt !== null) {
      banner.textContent = String(banner.getAttribute("data-copy")).replace("{time}", localTime(savedAt));
      banner.hidden = false;
    } else if (navigator.onLine === false) {
      banner.textContent = banner.getAttribute("data-offline");
      banner.hidden = false;
    } else {
      banner.hidden = true;
    }
  }
  showState();
  window.addEventListener("offline", showState);
  window.addEventListener("online", showState);

  // Web Push belongs to the person who switched it on here (push.js remembers who): when
  // someone else signs in on this device, the subscription is dropped, so the previous
  // person's messages stop arriving (their push service then answers "gone" and the server
  // forgets it). Signing out alone keeps it.
  function forgetOthersPush(registration) {
    var stored = null;
    try { stored = window.localStorage.getItem("ztk-push-owner"); } catch (e) { return; }
    if (!owner || !stored || stored === owner || !registration.pushManager) return;
    registration.pushManager.getSubscription().then(function (subscription) {
      return subscription ? subscription.unsubscribe() : null;
    }).then(function () {
      window.localStorage.removeItem("ztk-push-owner");
    }).catch(function () { /* nothing to drop */ });
  }

  if (!("serviceWorker" in navigator) || savedAt !== null) return;
  navigator.serviceWorker.register("/sw.js", { scope: "/" }).then(function () {
    return navigator.serviceWorker.ready;
  }).then(function (registration) {
    var worker = registration.active;
    if (worker) worker.postMessage({ type: "owner", owner: owner });
    forgetOthersPush(registration);
  }).catch(function () { /* no worker: the site works as before, only not offline */ });
})();
