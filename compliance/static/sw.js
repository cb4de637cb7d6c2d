/* SoukCheck service worker. Served as /sw.js, after a first line that sets self.SOUKCHECK:
   the versioned files to keep, the shell page, the scope of the inspector's pages.

   - Our CSS, JavaScript and icons come from the cache (their names carry their content hash).
   - A page under /inspect/ that cannot be loaded (no network) is answered with the shell,
     where app.js and offline.js draw what the phone keeps.
   - A form that cannot be sent (starting or submitting an inspection with no network) is
     turned into an inspection kept on the phone, sent later from the queue. */
"use strict";

var CFG = self.SOUKCHECK;
var STATIC = "soukcheck-static-" + CFG.version;
var DATA = "soukcheck-data"; // the shell and the region's bundle; the pages refresh them
var NAVIGATION_TIMEOUT = 15000; // lie-fi: a page that does not come is as good as offline

self.addEventListener("install", function (event) {
  event.waitUntil(
    caches
      .open(STATIC)
      .then(function (cache) {
        return cache.addAll(CFG.precache);
      })
      .then(keepShell)
      .then(function () {
        return self.skipWaiting();
      })
  );
});

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches
      .keys()
      .then(function (names) {
        return Promise.all(
          names
            .filter(function (name) {
              return name.indexOf("soukcheck-static-") === 0 && name !== STATIC;
            })
            .map(function (name) {
              return caches.delete(name);
            })
        );
      })
      .then(function () {
        return self.clients.claim();
      })
  );
});

function keepShell() {
  return fetch(CFG.shell, { credentials: "same-origin", cache: "no-store" })
    .then(function (response) {
      // Not logged in: the shell is a redirect to the login page, not worth keeping.
      if (response.ok && !response.redirected) {
        return caches.open(DATA).then(function (cache) {
          return cache.put(CFG.shell, response);
        });
      }
    })
    .catch(function () {});
}

function shell(status) {
  return caches.match(CFG.shell, { ignoreVary: true, ignoreSearch: true }).then(function (kept) {
    if (kept) return kept;
    return new Response(
      '<!doctype html><meta charset="utf-8"><meta name="viewport" content="width=device-width">' +
        "<title>SoukCheck</title><p>SoukCheck: no network. / لا توجد شبكة. / Pas de réseau.</p>",
      { status: status || 503, headers: { "Content-Type": "text/html; charset=utf-8" } }
    );
  });
}

function withTimeout(request) {
  var controller = new AbortController();
  var timer = setTimeout(function () {
    controller.abort();
  }, NAVIGATION_TIMEOUT);
  return fetch(request, { signal: controller.signal }).then(
    function (response) {
      clearTimeout(timer);
      return response;
    },
    function (error) {
      clearTimeout(timer);
      throw error;
    }
  );
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.method === "GET" && CFG.precache.indexOf(url.pathname + url.search) >= 0) {
    event.respondWith(
      caches.match(request, { ignoreVary: true }).then(function (kept) {
        return kept || fetch(request);
      })
    );
    return;
  }
  if (request.mode !== "navigate" || url.pathname.indexOf(CFG.scope) !== 0) return;
  if (request.method === "GET") {
    event.respondWith(
      withTimeout(request).catch(function () {
        return shell();
      })
    );
  } else if (request.method === "POST") {
    var copy = request.clone();
    event.respondWith(
      fetch(request).catch(function () {
        return keepForm(url, copy);
      })
    );
  }
});

// A form that could not be sent: what it said is kept, and the phone goes on without network.
function keepForm(url, request) {
  var start = url.pathname.match(/\/stalls\/(\d+)\/start$/);
  var submit = url.pathname.match(/\/inspections\/([0-9a-f-]{36})\/submit$/);
  if (!start && !submit) return shell();
  return request.formData().then(function (form) {
    if (start) {
      var id = form.get("inspection_id");
      if (!/^[0-9a-f-]{36}$/.test(id || "")) return shell();
      return Response.redirect(CFG.scope + "inspections/" + id + "?stall=" + start[1], 303);
    }
    var answers = {};
    form.forEach(function (value, name) {
      if (typeof value !== "string") return;
      var kind = name.slice(0, 2);
      var key = name.slice(2);
      if (kind !== "r-" && kind !== "c-") return;
      answers[key] = answers[key] || { result: "", comment: "" };
      answers[key][kind === "r-" ? "result" : "comment"] = value;
    });
    var id = submit[1];
    var action = form.get("action") === "save" ? "save" : "submit";
    return caches
      .open(DATA)
      .then(function (cache) {
        return cache.put(
          CFG.scope + "inspections/" + id + "/form",
          new Response(JSON.stringify({ answers: answers, action: action }), {
            headers: { "Content-Type": "application/json" },
          })
        );
      })
      .then(function () {
        return Response.redirect(CFG.scope + "inspections/" + id + "#" + action, 303);
      });
  });
}
