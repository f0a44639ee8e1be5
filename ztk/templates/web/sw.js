{% autoescape off %}/* ZTK Attendance service worker {{ version }} — rendered by ztk.web.pwa (see docs/pwa.md).
 *
 * Static files: cache first (their URLs change with every release).
 * Pages: network first. A copy of 我的考勤 and of the attendance pages is kept and shown,
 * marked as an offline copy, only when the network cannot be reached. Nothing else is
 * kept: not the API, not attachments or photos, not HR pages. A punch is never queued.
 * The copies belong to one person: when another person signs in on the device (pwa.js
 * tells the worker who is signed in), or on sign-out, they are deleted.
 */
"use strict";

var VERSION = "{{ version }}";
var SHELL_CACHE = "ztk-shell-" + VERSION;
var PAGES_CACHE = "ztk-pages";
var OFFLINE_URL = "{{ offline_url|escapejs }}";
var STATIC_PREFIX = "{{ static_prefix|escapejs }}";
var SHELL = [{% for url in shell %}"{{ url|escapejs }}"{% if not forloop.last %}, {% endif %}{% endfor %}];
var KEPT_PAGES = [/^\/$/, /^\/attendance\/$/, /^\/attendance\/day\/[0-9-]+\/$/];
var OWNER = "/__ztk_owner__";
var ICON = "{{ icon_url|escapejs }}";
var INBOX_URL = "{{ inbox_url|escapejs }}";

self.addEventListener("install", function (event) {
  event.waitUntil(
    caches.open(SHELL_CACHE)
      .then(function (cache) { return cache.addAll(SHELL); })
      .then(function () { return self.skipWaiting(); })
  );
});

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches.keys().then(function (names) {
      return Promise.all(names.filter(function (name) {
        return name.indexOf("ztk-shell-") === 0 && name !== SHELL_CACHE;
      }).map(function (name) { return caches.delete(name); }));
    }).then(function () { return self.clients.claim(); })
  );
});

function forgetPages() {
  return caches.delete(PAGES_CACHE);
}

// pwa.js says who is signed in ("" when no one): when that is not the person the copies
// were kept for (signed out, or someone else signed in), they are deleted.
self.addEventListener("message", function (event) {
  var data = event.data || {};
  if (data.type !== "owner") return;
  var owner = String(data.owner || "");
  event.waitUntil(
    caches.open(PAGES_CACHE).then(function (cache) {
      return cache.match(OWNER);
    }).then(function (stored) {
      return stored ? stored.text() : null;
    }).then(function (previous) {
      if (previous !== null && previous !== owner) return forgetPages();
      return null;
    })
  );
});

function kept(url) {
  return KEPT_PAGES.some(function (pattern) { return pattern.test(url.pathname); });
}

function markedCopy(response) {
  var saved = response.headers.get("X-ZTK-Saved-At") || "";
  return response.text().then(function (html) {
    var body = html.replace("<body ", '<body data-offline-copy="' + saved + '" ');
    return new Response(body, {
      status: 200,
      headers: { "Content-Type": "text/html; charset=utf-8" },
    });
  });
}

// A page names who it was made for (<meta name="ztk-owner">); copies are kept for one
// person at a time, and a page of someone else replaces them all.
function keepCopy(url, response) {
  return response.text().then(function (html) {
    var found = /<meta name="ztk-owner" content="([^"]*)">/.exec(html);
    var owner = found ? found[1] : "";
    if (!owner) return null;
    return caches.open(PAGES_CACHE).then(function (cache) {
      return cache.match(OWNER).then(function (stored) {
        return stored ? stored.text() : null;
      }).then(function (previous) {
        if (previous === owner) return cache;
        return forgetPages().then(function () {
          return caches.open(PAGES_CACHE).then(function (fresh) {
            return fresh.put(OWNER, new Response(owner)).then(function () { return fresh; });
          });
        });
      }).then(function (target) {
        return target.put(url, new Response(html, {
          headers: {
            "Content-Type": "text/html; charset=utf-8",
            "X-ZTK-Saved-At": new Date().toISOString(),
          },
        }));
      });
    });
  });
}

function page(event) {
  var request = event.request;
  var url = new URL(request.url);
  return fetch(request).then(function (response) {
    var cacheable = response.ok && response.type === "basic" && !response.redirected &&
      kept(url) && (response.headers.get("Content-Type") || "").indexOf("text/html") === 0;
    if (cacheable) event.waitUntil(keepCopy(request.url, response.clone()));
    return response;
  }, function () {
    return caches.open(PAGES_CACHE).then(function (cache) {
      return cache.match(request.url);
    }).then(function (copy) {
      if (copy) return markedCopy(copy);
      return caches.match(OFFLINE_URL);
    });
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") return;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname.indexOf(STATIC_PREFIX) === 0) {
    event.respondWith(
      caches.match(request).then(function (hit) {
        return hit || fetch(request).then(function (response) {
          if (response.ok && response.type === "basic") {
            var copy = response.clone();
            caches.open(SHELL_CACHE).then(function (cache) { cache.put(request, copy); });
          }
          return response;
        });
      })
    );
    return;
  }
  if (request.mode === "navigate") {
    event.respondWith(page(event));
  }
});

// Web Push (docs/pwa.md): the server sends {title, body, url, tag, lang}, encrypted for
// this device; the worker shows it, and a tap opens its link (the notification's page,
// which marks it read) in a window of the app.
self.addEventListener("push", function (event) {
  var data = {};
  if (event.data) {
    try { data = event.data.json(); } catch (e) { data = { body: event.data.text() }; }
  }
  var options = {
    body: String(data.body || ""),
    icon: ICON,
    badge: ICON,
    data: { url: String(data.url || INBOX_URL) },
  };
  if (data.tag) options.tag = String(data.tag);
  if (data.lang) options.lang = String(data.lang);
  event.waitUntil(self.registration.showNotification(String(data.title || "ZTK"), options));
});

self.addEventListener("notificationclick", function (event) {
  event.notification.close();
  var link = (event.notification.data && event.notification.data.url) || INBOX_URL;
  var target = new URL(link, self.location.origin);
  if (target.origin !== self.location.origin) target = new URL(INBOX_URL, self.location.origin);
  event.waitUntil(
    self.clients.matchAll({ type: "window", includeUncontrolled: true }).then(function (windows) {
      for (var i = 0; i < windows.length; i++) {
        var client = windows[i];
        if ("navigate" in client && new URL(client.url).origin === self.location.origin) {
          return client.navigate(target.href).then(function (opened) {
            return (opened || client).focus();
          });
        }
      }
      return self.clients.openWindow(target.href);
    })
  );
});
{% endautoescape %}
