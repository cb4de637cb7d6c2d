// SoukCheck: progressive enhancements. Every page works without this file.
// For inspectors it also keeps the app working without network: the service worker, the
// queue of inspections waiting to send (IndexedDB) and its counter, sending it (answers first,
// then each photo alone), photos shrunk on the phone. The offline views are in offline.js.
(function () {
  "use strict";
  var doc = document;

  // A fresh client-made id for each new inspection (the server already put one in for no-JS).
  function freshIds() {
    doc.querySelectorAll("input[data-client-uuid]").forEach(function (input) {
      if (window.crypto && crypto.randomUUID) input.value = crypto.randomUUID();
    });
  }

  // A wide table that scrolls sideways must be reachable with the keyboard to be scrolled.
  function scrollableRegions() {
    doc.querySelectorAll(".scroll").forEach(function (box) {
      if (box.scrollWidth <= box.clientWidth || box.hasAttribute("tabindex")) return;
      var section = box.closest("section, details, main");
      var heading = section && section.querySelector("h1, h2, h3, summary, caption");
      box.setAttribute("tabindex", "0");
      box.setAttribute("role", "region");
      if (heading) box.setAttribute("aria-label", heading.textContent.trim());
    });
  }
  doc.addEventListener("DOMContentLoaded", scrollableRegions);

  // The coordinator's menu scrolls sideways on a phone: show where the page is in it.
  doc.addEventListener("DOMContentLoaded", function () {
    var current = doc.querySelector(".bar .menu [aria-current]");
    if (current && current.parentNode.scrollWidth > current.parentNode.clientWidth) {
      current.scrollIntoView({ block: "nearest", inline: "center" });
    }
  });
  doc.addEventListener("htmx:afterSettle", scrollableRegions);

  var outbox = doc.getElementById("outbox");
  if (!outbox || !window.indexedDB || !window.Promise || !window.fetch) {
    doc.addEventListener("DOMContentLoaded", freshIds);
    return;
  }
  var config = JSON.parse(outbox.getAttribute("data-app"));
  var forms = JSON.parse(outbox.getAttribute("data-forms"));
  var lang = doc.documentElement.lang || "en";

  function fmt(text, params) {
    return String(text).replace(/%\((\w+)\)s/g, function (all, name) {
      return params && name in params ? params[name] : all;
    });
  }
  function plural(choices, n) {
    var category = window.Intl && Intl.PluralRules ? new Intl.PluralRules(lang).select(n) : "other";
    return fmt(choices[category] || choices.other || choices.one, { num: n });
  }

  // --- What the phone keeps: IndexedDB -----------------------------------------------------
  // inspections: {id, user, stall: {id, code}, version, mode: "mirror" | "local",
  //   state: "draft" | "queued" | "sent" | "refused", answers: {item: {result, comment}},
  //   server: {item: [thumbnail url]}, started, submitted, answersSent, error}
  //   "mirror": a copy of an inspection the server renders (so nothing is lost if the network
  //   drops); "local": the phone owns it until the server has everything.
  // photos: {id: inspection/item/sha256, inspection, item, sha256, blob}
  // checklists: {id, key, version, definition} — the versions local inspections were made with.
  var opening = null;
  function database() {
    if (!opening) {
      opening = new Promise(function (resolve, reject) {
        var request = indexedDB.open("soukcheck", 1);
        request.onupgradeneeded = function () {
          var db = request.result;
          db.createObjectStore("inspections", { keyPath: "id" });
          db.createObjectStore("photos", { keyPath: "id" }).createIndex("inspection", "inspection");
          db.createObjectStore("checklists", { keyPath: "id" });
        };
        request.onsuccess = function () {
          resolve(request.result);
        };
        request.onerror = function () {
          reject(request.error);
        };
      });
    }
    return opening;
  }
  function run(name, mode, work) {
    return database().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(name, mode);
        var result;
        var request = work(tx.objectStore(name));
        if (request) {
          request.onsuccess = function () {
            result = request.result;
          };
        }
        tx.oncomplete = function () {
          resolve(result);
        };
        tx.onerror = tx.onabort = function () {
          reject(tx.error);
        };
      });
    });
  }
  var store = {
    get: function (name, key) {
      return run(name, "readonly", function (os) {
        return os.get(key);
      });
    },
    put: function (name, value) {
      return run(name, "readwrite", function (os) {
        return os.put(value);
      });
    },
    remove: function (name, key) {
      return run(name, "readwrite", function (os) {
        return os.delete(key);
      });
    },
    all: function (name) {
      return run(name, "readonly", function (os) {
        return os.getAll();
      });
    },
    photosOf: function (id) {
      return run("photos", "readonly", function (os) {
        return os.index("inspection").getAll(id);
      });
    },
    // Read, change and write one inspection in one transaction (two tabs never interleave).
    update: function (id, change) {
      var out;
      return run("inspections", "readwrite", function (os) {
        var request = os.get(id);
        request.onsuccess = function () {
          out = change(request.result);
          if (out) os.put(out);
        };
      }).then(function () {
        return out;
      });
    },
  };
  function mine(record) {
    return record && record.user === config.user;
  }

  // --- Photos: shrunk on the phone, named by their SHA-256 -----------------------------------
  function hex(buffer) {
    return Array.prototype.map
      .call(new Uint8Array(buffer), function (b) {
        return ("0" + b.toString(16)).slice(-2);
      })
      .join("");
  }
  function shrink(file) {
    return createImageBitmap(file, { imageOrientation: "from-image" })
      .then(
        function (bitmap) {
          var scale = Math.min(1, 1600 / Math.max(bitmap.width, bitmap.height));
          var canvas = doc.createElement("canvas");
          canvas.width = Math.round(bitmap.width * scale);
          canvas.height = Math.round(bitmap.height * scale);
          var context = canvas.getContext("2d");
          context.imageSmoothingQuality = "high";
          context.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
          if (bitmap.close) bitmap.close();
          return new Promise(function (resolve) {
            canvas.toBlob(resolve, "image/jpeg", 0.8);
          });
        },
        function (error) {
          // HEIC and the like: this browser cannot draw it, the server can convert it.
          if (/hei[cf]/i.test(file.type + file.name)) return file;
          throw error;
        }
      )
      .then(function (blob) {
        return blob.arrayBuffer().then(function (bytes) {
          return crypto.subtle.digest("SHA-256", bytes).then(function (digest) {
            return { blob: blob, sha256: hex(digest) };
          });
        });
      });
  }

  // --- Sending the queue ---------------------------------------------------------------------
  function call(method, url, body, type) {
    var headers = { Accept: "application/json" };
    if (type) headers["Content-Type"] = type;
    return fetch(url, {
      method: method,
      body: body,
      headers: headers,
      credentials: "same-origin",
      cache: "no-store",
      redirect: "error",
    }).then(
      function (response) {
        return response.json().then(
          function (data) {
            if (response.ok) return data;
            throw { status: response.status, code: data.error, message: data.message };
          },
          function () {
            throw { status: response.status, network: response.status >= 500 };
          }
        );
      },
      function () {
        throw { network: true };
      }
    );
  }
  function retryLater(error) {
    return error.network || error.status >= 500 || error.status === 429 || error.status === 408;
  }

  // Answers first (once the server has them, only their status is asked again), then each
  // missing photo alone. "sent" only when the server says it has the answers and every photo.
  function sendOne(record) {
    var url = config.api + "/" + record.id;
    return store.photosOf(record.id).then(function (photos) {
      var first = record.answersSent
        ? call("GET", url)
        : call(
            "PUT",
            url,
            JSON.stringify({
              stall_id: record.stall.id,
              checklist_version_id: record.version,
              answers: record.answers,
              photos: photos.map(function (p) {
                return { item: p.item, sha256: p.sha256 };
              }),
              started_at: record.started,
              submitted_at: record.submitted,
            }),
            "application/json"
          );
      return first.then(function (status) {
        return store
          .update(record.id, function (r) {
            if (r) r.answersSent = true;
            return r;
          })
          .then(function () {
            return sendPhotos(record, photos, status);
          });
      });
    });
  }
  function sendPhotos(record, photos, status) {
    var failed = null;
    var chain = Promise.resolve(status);
    status.photos.missing.forEach(function (wanted) {
      var photo = photos.find(function (p) {
        return p.item === wanted.item && p.sha256 === wanted.sha256;
      });
      if (!photo) return;
      chain = chain.then(function (last) {
        var url =
          config.api + "/" + record.id + "/photos/" + encodeURIComponent(photo.item) + "/" + photo.sha256;
        return call("PUT", url, photo.blob, "image/jpeg").catch(function (error) {
          // This photo alone is tried again later; the others still go now.
          if (!retryLater(error) && error.code !== "hash_mismatch") throw error;
          failed = error;
          return last;
        });
      });
    });
    return chain.then(function (last) {
      if (failed) throw failed;
      if (!last.complete) throw { network: true };
      return store
        .update(record.id, function (r) {
          if (!r) return null;
          r.state = "sent";
          r.result = last.result_url;
          r.sentAt = new Date().toISOString();
          return r;
        })
        .then(function () {
          return Promise.all(
            photos.map(function (p) {
              return store.remove("photos", p.id);
            })
          );
        });
    });
  }

  var sending = null;
  var backoff = 15000;
  var timer = null;
  function sync() {
    if (sending) return sending;
    var work = function () {
      return store.all("inspections").then(function (records) {
        var queued = records.filter(function (r) {
          return mine(r) && r.state === "queued";
        });
        if (queued.length) showCount(null);
        return queued.reduce(function (chain, record) {
          return chain.then(function (stop) {
            if (stop) return stop;
            return sendOne(record).then(
              function () {
                return null;
              },
              function (error) {
                if (retryLater(error)) return "later";
                if (error.status === 401) return "login";
                return store.update(record.id, function (r) {
                  if (!r) return null;
                  r.state = "refused";
                  r.error = error.message || "";
                  return r;
                });
              }
            );
          });
        }, Promise.resolve(null));
      });
    };
    // Two tabs never send at once (the server would still keep one inspection if they did).
    var locked = navigator.locks
      ? navigator.locks.request("soukcheck-sync", work)
      : work();
    sending = locked
      .then(function (stop) {
        clearTimeout(timer);
        if (stop === "later") {
          timer = setTimeout(sync, backoff);
          backoff = Math.min(backoff * 2, 300000);
        } else {
          backoff = 15000;
        }
        outbox.toggleAttribute("data-login", stop === "login");
      })
      .catch(function () {})
      .then(function () {
        sending = null;
        doc.dispatchEvent(new CustomEvent("soukcheck:queue"));
        return count();
      });
    return sending;
  }

  // --- The counter: "n waiting to send" --------------------------------------------------------
  function count() {
    return store.all("inspections").then(function (records) {
      var waiting = 0;
      var refused = 0;
      records.forEach(function (r) {
        if (!mine(r)) return;
        if (r.state === "queued") waiting += 1;
        if (r.state === "refused") refused += 1;
      });
      showCount(waiting, refused);
      return waiting;
    });
  }
  // The header holds a short form ("↑ 2") so it fits a 360 px phone on two lines; the whole
  // sentence is what screen readers hear and what a long press shows.
  function showCount(waiting, refused) {
    var short = outbox.querySelector("[aria-hidden]");
    var text = outbox.querySelector("[aria-live]");
    if (waiting === null) {
      text.textContent = forms.sending;
      short.textContent = "↑\u00a0…";
      outbox.title = forms.sending;
      outbox.hidden = false;
      return;
    }
    outbox.setAttribute("data-count", waiting);
    var parts = [];
    if (waiting) parts.push(plural(forms.waiting, waiting));
    if (refused) parts.push(plural(forms.refused, refused));
    // The session ended: nothing is lost, but it takes a login to send it.
    if (waiting && outbox.hasAttribute("data-login")) parts.push(forms.login);
    outbox.href = waiting && outbox.hasAttribute("data-login") ? config.login : config.home + "#on-phone";
    text.textContent = parts.join(" · ");
    outbox.title = text.textContent;
    var marks = [];
    if (waiting) marks.push("↑\u00a0" + waiting);
    if (refused) marks.push("!\u00a0" + refused);
    if (waiting && outbox.hasAttribute("data-login")) marks.push(forms.login);
    short.textContent = marks.join(" · ");
    outbox.hidden = !parts.length;
    outbox.classList.toggle("refused", !!refused);
  }

  // --- Keeping the shell and the region's stalls for offline use --------------------------------
  var DATA = "soukcheck-data";
  // The shell changes with a new version of the app or another language: fetched again then
  // (or twice a day), not at every opening. A worker being installed fetches it itself.
  function shellIsStale() {
    var kept = {};
    try {
      kept = JSON.parse(localStorage.getItem("soukcheck-shell")) || {};
    } catch (error) {}
    var wanted = { app: config.offline, lang: lang, user: config.user };
    var stale =
      kept.app !== wanted.app ||
      kept.lang !== wanted.lang ||
      kept.user !== wanted.user ||
      Date.now() - (kept.at || 0) > 12 * 3600 * 1000;
    return stale ? wanted : null;
  }
  function keepShell(cache) {
    var wanted = shellIsStale();
    if (!wanted || !navigator.serviceWorker || !navigator.serviceWorker.controller) return null;
    return fetch(config.shell, { credentials: "same-origin" }).then(function (response) {
      if (!response.ok || response.redirected) return;
      return cache.put(config.shell, response).then(function () {
        wanted.at = Date.now();
        localStorage.setItem("soukcheck-shell", JSON.stringify(wanted));
      });
    });
  }
  function keepForOffline() {
    if (!window.caches) return Promise.resolve();
    return caches
      .open(DATA)
      .then(function (cache) {
        return Promise.all([
          keepShell(cache),
          fetch(config.bundle, { credentials: "same-origin" }).then(function (response) {
            if (!response.ok || response.redirected) return;
            return cache.put(config.bundle, response.clone()).then(function () {
              return response.json().then(function (bundle) {
                if (bundle.checklist) return store.put("checklists", bundle.checklist);
              });
            });
          }),
        ]);
      })
      .catch(function () {});
  }

  // --- The server's checklist page: a copy on the phone, shrunk photos, a way out offline -------
  var page = doc.getElementById("checklist");
  var offlineScript = null;
  // The words of the offline views, from the kept shell when this page has none.
  function loadStrings() {
    if (SoukCheck.strings.result) return Promise.resolve();
    var kept = window.caches ? caches.match(config.shell, { ignoreVary: true }) : Promise.resolve();
    return kept
      .then(function (response) {
        return response || fetch(config.shell, { credentials: "same-origin" });
      })
      .then(function (response) {
        return response.text();
      })
      .then(function (html) {
        var found = new DOMParser().parseFromString(html, "text/html").getElementById("strings");
        if (found) SoukCheck.strings = JSON.parse(found.textContent);
      })
      .catch(function () {});
  }
  function loadOffline() {
    if (window.SoukCheckOffline) return Promise.resolve(window.SoukCheckOffline);
    if (!offlineScript) {
      offlineScript = loadStrings().then(function () {
        return new Promise(function (resolve, reject) {
        var script = doc.createElement("script");
        script.src = config.offline;
        script.onload = function () {
          resolve(window.SoukCheckOffline);
        };
          script.onerror = reject;
          doc.head.appendChild(script);
        });
      });
    }
    return offlineScript;
  }

  function readPage(form) {
    var answers = {};
    var server = {};
    form.querySelectorAll("fieldset.item").forEach(function (fieldset) {
      var key = fieldset.id.slice(5);
      var checked = fieldset.querySelector("input[type=radio]:checked");
      var comment = fieldset.querySelector("textarea");
      if (checked || (comment && comment.value)) {
        answers[key] = { result: checked ? checked.value : "", comment: comment ? comment.value : "" };
      }
      var thumbs = fieldset.querySelectorAll(".photo-row img");
      if (thumbs.length) {
        server[key] = Array.prototype.map.call(thumbs, function (img) {
          return img.getAttribute("src");
        });
      }
    });
    return { answers: answers, server: server };
  }
  function mirror(form, local) {
    var data = form.dataset;
    var read = readPage(form);
    return store.update(data.inspection, function (record) {
      if (record && record.mode === "local") return null; // the phone owns it now
      return {
        id: data.inspection,
        user: config.user,
        stall: { id: +data.stall, code: data.stallCode },
        version: +data.version,
        mode: local ? "local" : "mirror",
        state: "draft",
        answers: read.answers,
        server: read.server,
        started: data.started,
        updated: Date.now(),
      };
    });
  }
  // No network while on the server's page: the phone takes over this inspection.
  function goLocal(form) {
    return mirror(form, true).then(function () {
      return loadOffline().then(function (offline) {
        return offline.route();
      });
    });
  }
  function csrfToken() {
    try {
      return JSON.parse(doc.body.getAttribute("hx-headers"))["X-CSRFToken"];
    } catch (error) {
      return "";
    }
  }
  function sendPagePhoto(form, input) {
    var key = input.name.slice(2);
    var fieldset = input.closest("fieldset");
    var url = input.getAttribute("hx-post");
    var note = fieldset.querySelector(".saved");
    note.textContent = SoukCheck.strings.shrinking || "…";
    return shrink(input.files[0]).then(
      function (photo) {
        var body = new FormData();
        body.append(input.name, photo.blob, "photo.jpg");
        return fetch(url, {
          method: "POST",
          body: body,
          credentials: "same-origin",
          headers: { "HX-Request": "true", "X-CSRFToken": csrfToken() },
        }).then(
          function (response) {
            return response.text().then(function (html) {
              if (window.htmx && htmx.swap) htmx.swap(fieldset, html, { swapStyle: "outerHTML" });
              else fieldset.outerHTML = html;
              return mirror(form);
            });
          },
          function () {
            var id = form.dataset.inspection + "/" + key + "/" + photo.sha256;
            return store
              .put("photos", {
                id: id,
                inspection: form.dataset.inspection,
                item: key,
                sha256: photo.sha256,
                blob: photo.blob,
              })
              .then(function () {
                return goLocal(form);
              });
          }
        );
      },
      function () {
        note.textContent = "";
        input.value = "";
      }
    );
  }
  function enhanceChecklist(form) {
    // A form the service worker kept when it could not be sent: the phone carries on.
    var kept = config.scopeInspections + form.dataset.inspection + "/form";
    var check = window.caches ? caches.match(kept) : Promise.resolve(null);
    check.then(function (response) {
      return store.get("inspections", form.dataset.inspection).then(function (record) {
        if (response || (record && record.mode === "local")) return goLocal(form);
        return mirror(form);
      });
    });
    form.addEventListener("change", function () {
      mirror(form);
    });
    doc.body.addEventListener("htmx:afterSwap", function () {
      mirror(form);
    });
    doc.body.addEventListener("htmx:sendError", function () {
      goLocal(form);
    });
    // Photos go shrunk: htmx would send the camera's full-size file, so it does not see them.
    doc.addEventListener(
      "change",
      function (event) {
        var input = event.target;
        if (input.type !== "file" || !form.contains(input) || !input.files.length) return;
        event.stopPropagation();
        sendPagePhoto(form, input);
      },
      true
    );
  }

  // --- "No network": shown while the phone has none, on every inspector page -----------------
  function networkNote() {
    var note = doc.getElementById("offline-note");
    if (!note) {
      var main = doc.getElementById("main");
      if (!main) return;
      note = doc.createElement("p");
      note.id = "offline-note";
      note.className = "flash warning";
      note.setAttribute("role", "status");
      note.textContent = forms.offline;
      main.prepend(note);
    }
    note.hidden = navigator.onLine;
  }

  // --- Start ---------------------------------------------------------------------------------
  var SoukCheck = (window.SoukCheck = {
    config: config,
    store: store,
    shrink: shrink,
    sync: sync,
    count: count,
    fmt: fmt,
    plural: plural,
    keepForOffline: keepForOffline,
    networkNote: networkNote,
    strings: {},
  });

  function start() {
    freshIds();
    var strings = doc.getElementById("strings");
    if (strings) SoukCheck.strings = JSON.parse(strings.textContent);
    if ("serviceWorker" in navigator) {
      navigator.serviceWorker.register(config.sw).catch(function () {});
    }
    if (navigator.storage && navigator.storage.persist) {
      navigator.storage.persisted().then(function (persisted) {
        if (!persisted) navigator.storage.persist();
      });
    }
    var done = doc.querySelector("[data-inspection-done]");
    if (done) store.remove("inspections", done.getAttribute("data-inspection-done"));
    // Copies of server drafts left unfinished for a week are the server's business alone.
    store.all("inspections").then(function (records) {
      records.forEach(function (r) {
        if (r.mode === "mirror" && r.updated < Date.now() - 7 * 86400000) {
          store.remove("inspections", r.id);
        }
      });
    });
    if (page) enhanceChecklist(page);
    // The banner follows the network both ways while the page stays open.
    networkNote();
    window.addEventListener("offline", networkNote);
    window.addEventListener("online", networkNote);
    count().then(function (waiting) {
      if (waiting) sync();
    });
    // The network may come back while an attempt made without it is still failing: send again
    // once that attempt ends, rather than after its backoff.
    window.addEventListener("online", function () {
      (sending || Promise.resolve()).then(function () {
        clearTimeout(timer);
        backoff = 15000;
        sync();
      });
    });
    doc.addEventListener("visibilitychange", function () {
      if (doc.visibilityState === "visible") sync();
    });
    // The start of the app (finding a stall): keep today's stalls and checklist for offline.
    if (doc.querySelector("form[role=search]") && navigator.onLine) {
      var later = window.requestIdleCallback || setTimeout;
      later(keepForOffline);
    }
    // Inspections kept on the phone are listed where the walk starts.
    if (doc.getElementById("on-phone")) {
      store.all("inspections").then(function (records) {
        if (records.some(function (r) {
          return mine(r) && r.mode === "local";
        })) {
          loadOffline().then(function (offline) {
            offline.listOnPhone();
          });
        }
      });
    }
  }
  if (doc.readyState === "loading") doc.addEventListener("DOMContentLoaded", start);
  else start();
})();
