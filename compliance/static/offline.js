// SoukCheck offline views: what an inspector sees when the page comes from the phone, not the
// server. Drawn from what app.js keeps (the region's stalls, the checklist, the inspections on
// the phone) with the same markup and classes as the server's pages. Loaded by the shell page
// (the service worker's answer when there is no network), or by app.js when the network drops
// on the server's checklist page. Every word comes from the page (#strings), translated.
(function () {
  "use strict";
  var doc = document;
  var S = window.SoukCheck;
  var config = S.config;
  var store = S.store;
  var fmt = S.fmt;
  var lang = doc.documentElement.lang || "en";
  var UUID = "([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})";

  function t(name) {
    return S.strings[name] || name;
  }
  // el("p.hint", {attr: value}, child, ...): children are nodes or text, never HTML.
  function el(spec, attrs) {
    var parts = spec.split(/(?=[.#])/);
    var node = doc.createElement(parts[0]);
    parts.slice(1).forEach(function (part) {
      if (part[0] === ".") node.classList.add(part.slice(1));
      else node.id = part.slice(1);
    });
    Object.keys(attrs || {}).forEach(function (name) {
      var value = attrs[name];
      if (value === false || value === null || value === undefined) return;
      if (name.slice(0, 2) === "on") node.addEventListener(name.slice(2), value);
      else if (value === true) node.setAttribute(name, "");
      else node.setAttribute(name, value);
    });
    for (var i = 2; i < arguments.length; i++) add(node, arguments[i]);
    return node;
  }
  function add(node, child) {
    if (child === null || child === undefined || child === false) return;
    if (Array.isArray(child)) child.forEach(add.bind(null, node));
    else node.appendChild(typeof child === "object" ? child : doc.createTextNode(child));
  }
  // Replace a node's children (arrays flattened, null skipped: not so with replaceChildren).
  function fill(node) {
    node.replaceChildren();
    add(node, Array.prototype.slice.call(arguments, 1));
    return node;
  }
  function pick(wording) {
    if (!wording) return "";
    return wording[lang] || wording.fr || wording.en || wording.ar || "";
  }
  function day(iso) {
    if (!iso) return "";
    try {
      // A calendar day (no time zone to move it by), in the server's style: dates.py.
      return new Intl.DateTimeFormat(config.dateLocale || lang, { dateStyle: "long", timeZone: "UTC" })
        .format(new Date(iso + "T00:00:00Z"));
    } catch (error) {
      return iso;
    }
  }
  function percent(score) {
    return score === null || score === undefined ? "—" : Math.round(score * 100) + "\u00a0%";
  }

  // --- What the phone keeps ------------------------------------------------------------------
  var bundle = null;
  function loadBundle() {
    if (bundle) return Promise.resolve(bundle);
    var kept = window.caches ? caches.match(config.bundle, { ignoreVary: true }) : Promise.resolve();
    return kept
      .then(function (response) {
        if (response) return response.json();
        return fetch(config.bundle, { credentials: "same-origin" }).then(function (r) {
          return r.ok && !r.redirected ? r.json() : null;
        });
      })
      .catch(function () {
        return null;
      })
      .then(function (data) {
        bundle = data;
        return data;
      });
  }
  function stallOf(data, id) {
    return data && data.stalls.find(function (s) {
      return s.id === id;
    });
  }
  function checklistFor(versionId) {
    return store.get("checklists", versionId).then(function (kept) {
      if (kept) return kept;
      return loadBundle().then(function (data) {
        return data && data.checklist && data.checklist.id === versionId ? data.checklist : null;
      });
    });
  }
  function items(definition) {
    var all = [];
    definition.sections.forEach(function (section) {
      section.items.forEach(function (item) {
        all.push(item);
      });
    });
    return all;
  }

  // Folding as the server's search does: no accents, case, Arabic diacritics or letter variants.
  var LETTERS = { "أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ة": "ه", "ؤ": "و", "ئ": "ي" };
  function fold(text) {
    return (text || "")
      .replace(/[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640]/g, "")
      .replace(/[أإآٱىةؤئ]/g, function (c) {
        return LETTERS[c];
      })
      .normalize("NFKD")
      .replace(/\p{M}/gu, "")
      .toLowerCase()
      .replace(/[-']/g, " ")
      .replace(/\s+/g, " ")
      .trim();
  }

  // --- Views ---------------------------------------------------------------------------------
  function main() {
    return doc.getElementById("view") || doc.getElementById("main");
  }
  function show(title) {
    var view = main();
    fill(view, Array.prototype.slice.call(arguments, 1));
    doc.title = title + " · SoukCheck";
    S.networkNote(); // a view drawn over the server's page may have replaced the banner
    var fix = doc.querySelector(".langs input[name=next]");
    if (fix) fix.value = location.pathname + location.search;
  }

  function searchView() {
    var query = new URLSearchParams(location.search).get("q") || "";
    var input = el("input#q", {
      type: "search",
      name: "q",
      value: query,
      autocomplete: "off",
      inputmode: "search",
      placeholder: t("searchHint"),
      enterkeyhint: "search",
    });
    var results = el("div#results", { "aria-live": "polite" });
    var form = el(
      "form.searchbar",
      { role: "search", method: "get", action: config.home },
      el("label", { for: "q" }, t("searchLabel")),
      el("div.searchrow", {}, input, el("button.primary", { type: "submit" }, t("search")))
    );
    function find() {
      loadBundle().then(function (data) {
        fill(results, searchResults(data, input.value.trim()));
      });
    }
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var query = input.value.trim();
      history.replaceState(null, "", config.home + "?q=" + encodeURIComponent(query));
      // An exact stall code or card number opens that stall, as the server does.
      loadBundle().then(function (data) {
        var exact = (data ? data.stalls : []).filter(function (s) {
          return s.code.toUpperCase() === query.toUpperCase() || (s.artisan && s.artisan.nia === query);
        });
        if (exact.length === 1) location.assign(config.home + "stalls/" + exact[0].id);
        else find();
      });
    });
    input.addEventListener("input", find);
    show(
      t("find"),
      el("h1", {}, t("find")),
      config.round ? el("p", {}, el("a.button", { href: config.round }, t("myRound"))) : null,
      form,
      results,
      el("section#on-phone")
    );
    if (query) find();
    listOnPhone();
  }
  function searchResults(data, query) {
    if (!data) return el("p.flash.warning", {}, t("noBundle"));
    if (!query) return doc.createDocumentFragment();
    var code = query.toUpperCase();
    var folded = fold(query);
    var found = data.stalls
      .filter(function (s) {
        return s.code.toUpperCase().indexOf(code) === 0 || (folded && s.search.indexOf(folded) >= 0);
      })
      .slice(0, 30);
    if (!found.length) return el("p", {}, fmt(t("noMatch"), { query: query }));
    return el(
      "div",
      {},
      el("p.muted", {}, S.plural(S.strings.found, found.length)),
      el(
        "ul.plain.rows",
        {},
        found.map(function (s) {
          return el(
            "li",
            {},
            el(
              "a",
              { href: config.home + "stalls/" + s.id },
              el(
                "span",
                {},
                el("strong", {}, s.code),
                s.artisan
                  ? [
                      " · ",
                      el("span", { lang: "ar", dir: "rtl" }, s.artisan.ar),
                      " · ",
                      el("span", { lang: "fr", dir: "ltr" }, s.artisan.latin),
                    ]
                  : null
              ),
              el("small", {}, s.venue)
            )
          );
        })
      )
    );
  }

  function stallView(id) {
    return loadBundle().then(function (data) {
      var stall = stallOf(data, id);
      if (!stall) return notKept();
      var checklist = data.checklist && data.checklist.definition;
      var itemText = {};
      if (checklist) {
        items(checklist).forEach(function (item) {
          itemText[item.key] = pick(item.text);
        });
      }
      var a = stall.artisan;
      var title = fmt(t("stall"), { code: stall.code });
      show(
        title,
        el("h1", {}, title),
        el(
          "section.card",
          {},
          el(
            "dl.facts",
            {},
            a
              ? [
                  el("dt", {}, t("artisan")),
                  el(
                    "dd",
                    {},
                    el("span", { lang: "ar", dir: "rtl" }, a.ar),
                    el("br"),
                    el("span", { lang: "fr", dir: "ltr" }, a.latin)
                  ),
                  el("dt", {}, t("card")),
                  el("dd", { dir: "ltr" }, a.nia),
                  el("dt", {}, t("craftLabel")),
                  el(
                    "dd",
                    {},
                    (S.strings.craft[a.craft] || a.craft) +
                      " · " +
                      (S.strings.category[a.category] || a.category)
                  ),
                ]
              : null,
            el("dt", {}, t("place")),
            el("dd", {}, stall.venue + " — " + stall.location)
          )
        ),
        el(
          "button.primary.wide.start",
          {
            type: "button",
            "data-start": true,
            disabled: !data.checklist,
            onclick: function () {
              startLocal(crypto.randomUUID(), stall, data.checklist).then(function (record) {
                location.assign(config.home + "inspections/" + record.id);
              });
            },
          },
          t("start")
        ),
        el(
          "section.card",
          {},
          el("h2", {}, t("latest")),
          stall.latest
            ? el(
                "p",
                {},
                el("span.badge.v-" + stall.latest.verdict, {}, S.strings.verdict[stall.latest.verdict]),
                " " + percent(stall.latest.score) + " · " + day(stall.latest.day)
              )
            : el("p", {}, t("never"))
        ),
        stall.actions.length
          ? el(
              "section.card",
              {},
              el("h2", {}, t("actions")),
              el(
                "ul",
                {},
                stall.actions.map(function (action) {
                  return el(
                    "li",
                    {},
                    (itemText[action.item] || action.item) + " — " + fmt(t("due"), { date: day(action.due) }),
                    action.fixed ? [" · ", el("strong", {}, t("fixReported"))] : null
                  );
                })
              )
            )
          : null
      );
    });
  }

  function startLocal(id, stall, checklist) {
    return store.put("checklists", checklist).then(function () {
      return store.update(id, function (existing) {
        if (existing) return null;
        return {
          id: id,
          user: config.user,
          stall: { id: stall.id, code: stall.code },
          version: checklist.id,
          mode: "local",
          state: "draft",
          answers: {},
          server: {},
          started: new Date().toISOString(),
          updated: Date.now(),
        };
      }).then(function () {
        return store.get("inspections", id);
      });
    });
  }

  function notKept() {
    show(
      "SoukCheck",
      el("section.card.narrow", {}, el("p", {}, t("notKept")), el("p", {}, el("a", { href: config.home }, t("find"))))
    );
  }

  // --- An inspection kept on the phone ---------------------------------------------------------
  function inspectionView(id) {
    var wanted = new URLSearchParams(location.search).get("stall");
    var keptForm = config.scopeInspections + id + "/form";
    return store
      .get("inspections", id)
      .then(function (record) {
        if (record || !wanted) return record;
        // Started while the network was down: the service worker sent us here.
        return loadBundle().then(function (data) {
          var stall = stallOf(data, +wanted);
          if (!stall || !data.checklist) return null;
          return startLocal(id, stall, data.checklist).then(function (made) {
            history.replaceState(null, "", config.home + "inspections/" + id);
            return made;
          });
        });
      })
      .then(function (record) {
        if (!record || record.user !== config.user) return notKept();
        // A form the service worker could not send: its answers win, the phone carries on.
        var check = window.caches ? caches.match(keptForm) : Promise.resolve(null);
        return check
          .then(function (response) {
            if (!response) return record;
            return response.json().then(function (form) {
              return store
                .update(id, function (r) {
                  Object.keys(form.answers).forEach(function (key) {
                    if (form.answers[key].result || form.answers[key].comment) r.answers[key] = form.answers[key];
                  });
                  r.mode = "local";
                  return r;
                })
                .then(function (merged) {
                  return caches
                    .open("soukcheck-data")
                    .then(function (cache) {
                      return cache.delete(keptForm);
                    })
                    .then(function () {
                      return merged;
                    });
                });
            });
          })
          .then(function (current) {
            if (current.mode !== "local") {
              return store.update(id, function (r) {
                r.mode = "local";
                return r;
              });
            }
            return current;
          })
          .then(function (current) {
            if (current.state !== "draft") return statusView(current);
            return checklistFor(current.version).then(function (checklist) {
              if (!checklist) return notKept();
              return checklistView(current, checklist.definition);
            });
          });
      });
  }

  function checklistView(record, definition) {
    var all = items(definition);
    var local = {};
    var progress = el("div#progress.progress", { role: "status" });
    var problems = el("div");
    var form = el("form#local-checklist", { novalidate: true });
    var title = fmt(t("inspectionOf"), { code: record.stall.code });

    function save(change) {
      return store.update(record.id, function (r) {
        if (!r || r.state !== "draft") return null;
        change(r);
        r.updated = Date.now();
        record = r;
        return r;
      });
    }
    function drawProgress() {
      var answered = all.filter(function (item) {
        var a = record.answers[item.key];
        return a && a.result;
      }).length;
      var text = fmt(t("answered"), { answered: answered, total: all.length });
      if (answered < all.length) text += " · " + S.plural(S.strings.left, all.length - answered);
      fill(
        progress,
        el("span", {}, text),
        el("meter", { min: 0, max: all.length, value: answered, "aria-hidden": "true" })
      );
    }
    function photoRow(item) {
      var row = el("div.photo-row");
      function draw() {
        var server = record.server[item.key] || [];
        var mine = local[item.key] || [];
        var n = 0;
        var input = el("input", { type: "file", name: "p-" + item.key, accept: "image/*", capture: "environment" });
        input.addEventListener("change", function () {
          if (!input.files.length) return;
          row.querySelector(".saved-photo").textContent = t("shrinking");
          S.shrink(input.files[0]).then(
            function (photo) {
              var entry = {
                id: record.id + "/" + item.key + "/" + photo.sha256,
                inspection: record.id,
                item: item.key,
                sha256: photo.sha256,
                blob: photo.blob,
              };
              return store.put("photos", entry).then(function () {
                return loadPhotos().then(draw);
              });
            },
            function () {
              row.querySelector(".saved-photo").textContent = t("photoFailed");
              input.value = "";
            }
          );
        });
        var rule = item.photo === "always" ? " (" + t("required") + ")" : item.photo === "on_fail" ? " (" + t("requiredIfFailed") + ")" : "";
        fill(
          row,
          server.map(function (src) {
            n += 1;
            return el("img", { src: src, alt: fmt(t("photoN"), { n: n }) + " · " + t("onServer"), width: 88, height: 88 });
          }),
          mine.map(function (photo) {
            n += 1;
            return [
              el("img", { src: URL.createObjectURL(photo.blob), alt: fmt(t("photoN"), { n: n }), width: 88, height: 88 }),
              el(
                "button.link",
                {
                  type: "button",
                  onclick: function () {
                    store.remove("photos", photo.id).then(loadPhotos).then(draw);
                  },
                },
                t("remove")
              ),
            ];
          }),
          el("label.button.filebtn", {}, "📷 " + t("photo") + rule, input),
          el("span.saved-photo.hint", { "aria-live": "polite" })
        );
      }
      row.draw = draw;
      return row;
    }
    function loadPhotos() {
      return store.photosOf(record.id).then(function (photos) {
        local = {};
        photos.forEach(function (p) {
          (local[p.item] = local[p.item] || []).push(p);
        });
      });
    }
    function itemView(item) {
      var key = item.key;
      var answer = record.answers[key] || {};
      var saved = el("p.saved", { "aria-live": "polite" });
      var choices = el(
        "div.choices",
        {},
        ["pass", "fail", "na"]
          .filter(function (v) {
            return v !== "na" || item.na_allowed;
          })
          .map(function (value) {
            return el(
              "label.r-" + value,
              {},
              el("input", { type: "radio", name: "r-" + key, value: value, checked: answer.result === value }),
              el("span", {}, S.strings.result[value])
            );
          })
      );
      choices.addEventListener("change", function (event) {
        var value = event.target.value;
        save(function (r) {
          r.answers[key] = { result: value, comment: (r.answers[key] || {}).comment || "" };
        }).then(function () {
          saved.textContent = t("savedLocal");
          drawProgress();
        });
      });
      var textarea = el("textarea#c-" + key, { name: "c-" + key, rows: 2, maxlength: 2000 });
      textarea.value = answer.comment || "";
      textarea.addEventListener("change", function () {
        save(function (r) {
          r.answers[key] = { result: (r.answers[key] || {}).result || "", comment: textarea.value };
        }).then(function () {
          saved.textContent = t("savedLocal");
        });
      });
      var hint = pick(item.hint);
      var row = item.photo !== "never" ? photoRow(item) : null;
      var fieldset = el(
        "fieldset.item#item-" + key,
        {},
        el("legend", {}, pick(item.text)),
        item.critical ? el("p.critical", {}, t("critical")) : null,
        hint ? el("p.hint", {}, hint) : null,
        choices,
        el(
          "details.comment",
          { open: !!answer.comment },
          el("summary", {}, t("comment")),
          el("label.sr", { for: "c-" + key }, t("comment")),
          textarea
        ),
        row,
        el("p.error", { role: "alert" }),
        saved
      );
      fieldset.row = row;
      return fieldset;
    }
    function missing() {
      var found = [];
      var judged = 0;
      all.forEach(function (item) {
        var a = record.answers[item.key] || {};
        var photos = (record.server[item.key] || []).length + (local[item.key] || []).length;
        if (!a.result) found.push([item, "unanswered"]);
        else if (a.result === "na" && !item.na_allowed) found.push([item, "na_not_allowed"]);
        if (a.result === "pass" || a.result === "fail") judged += 1;
        if (!photos && (item.photo === "always" || (item.photo === "on_fail" && a.result === "fail"))) {
          found.push([item, "photo_required"]);
        }
      });
      return { found: found, judged: judged };
    }
    function submit(event) {
      if (event) event.preventDefault();
      var check = missing();
      form.querySelectorAll("fieldset.item").forEach(function (f) {
        f.classList.remove("missing");
        f.querySelector("p.error").textContent = "";
      });
      if (check.found.length) {
        check.found.forEach(function (pair) {
          var fieldset = doc.getElementById("item-" + pair[0].key);
          fieldset.classList.add("missing");
          fieldset.querySelector("p.error").textContent = S.strings.missing[pair[1]];
        });
        var box = el(
          "section#problems.flash.error",
          { role: "alert", tabindex: "-1" },
          el("p", {}, el("strong", {}, t("stillToDo"))),
          el(
            "ul",
            {},
            check.found.map(function (pair) {
              return el(
                "li",
                {},
                el("a", { href: "#item-" + pair[0].key }, pick(pair[0].text)),
                " — " + S.strings.missing[pair[1]]
              );
            })
          )
        );
        fill(problems, box);
        box.focus();
        return;
      }
      save(function (r) {
        r.state = "queued";
        r.submitted = new Date().toISOString();
      }).then(function (r) {
        statusView(r);
        window.scrollTo(0, 0);
        S.count();
        S.sync();
      });
    }
    form.addEventListener("submit", submit);
    var sections = definition.sections.map(function (section, index) {
      return [
        el("h2", {}, index + 1 + ". " + pick(section.title)),
        section.items.map(itemView),
      ];
    });
    add(form, sections);
    add(form, el("div.cols", {}, el("button.primary.wide", { type: "submit" }, t("submit"))));
    drawProgress();
    return loadBundle().then(function (data) {
      var stall = stallOf(data, record.stall.id);
      var artisan = stall && stall.artisan ? (lang === "ar" ? stall.artisan.ar : stall.artisan.latin) : "";
      show(
        title,
        el("h1", {}, title),
        el("p.muted", {}, pick(definition.title) + (artisan ? " · " + artisan : "")),
        el("p.hint", {}, t("localDraft")),
        progress,
        problems,
        form
      );
      return loadPhotos().then(function () {
        form.querySelectorAll("fieldset.item").forEach(function (f) {
          if (f.row) f.row.draw();
        });
        if (location.hash === "#submit") {
          history.replaceState(null, "", location.pathname);
          submit();
        }
      });
    });
  }

  function statusView(record) {
    var titles = { queued: "queuedTitle", sent: "sentTitle", refused: "refusedTitle" };
    var title = t(titles[record.state]);
    return store.photosOf(record.id).then(function (photos) {
      show(
        title,
        el("h1", {}, title),
        el(
          "section.card",
          { "data-state": record.state },
          el("p", {}, el("strong", {}, fmt(t("inspectionOf"), { code: record.stall.code }))),
          record.state === "queued" ? el("p", {}, t("queuedText")) : null,
          record.state === "queued" && photos.length
            ? el("p.muted", {}, S.plural(S.strings.photosWaiting, photos.length))
            : null,
          record.state === "sent" ? el("p", {}, t("sentText")) : null,
          record.state === "refused" ? el("p.error", { role: "alert" }, record.error || "") : null
        ),
        el(
          "p",
          {},
          record.state === "sent" && record.result
            ? [el("a.button", { href: record.result }, t("seeResult")), " "]
            : null,
          record.state === "refused"
            ? [
                el(
                  "button",
                  {
                    type: "button",
                    onclick: function () {
                      // Back to a draft: corrected, it is sent again as a whole.
                      store
                        .update(record.id, function (r) {
                          r.state = "draft";
                          r.answersSent = false;
                          r.error = "";
                          return r;
                        })
                        .then(function () {
                          S.count();
                          return route();
                        });
                    },
                  },
                  t("correct")
                ),
                " ",
              ]
            : null,
          el("a.button.primary", { href: config.home }, t("next"))
        )
      );
    });
  }

  // --- The inspections on this phone, listed where the walk starts ---------------------------------
  var STATES = { draft: "draft", queued: "waiting", refused: "refused", sent: "sentTitle" };
  function listOnPhone() {
    var box = doc.getElementById("on-phone");
    if (!box) return Promise.resolve();
    return store.all("inspections").then(function (records) {
      var week = Date.now() - 7 * 86400000;
      var shown = records
        .filter(function (r) {
          if (r.user !== config.user || r.mode !== "local") return false;
          if (r.state === "sent" && new Date(r.sentAt).getTime() < week) {
            store.remove("inspections", r.id);
            return false;
          }
          return true;
        })
        .sort(function (a, b) {
          return (b.updated || 0) - (a.updated || 0);
        })
        .slice(0, 20);
      if (!shown.length) return fill(box);
      fill(
        box,
        el("h2", {}, t("onPhone")),
        el(
          "ul.plain.rows",
          {},
          shown.map(function (r) {
            return el(
              "li",
              {},
              el(
                "a",
                { href: r.state === "sent" && r.result ? r.result : config.home + "inspections/" + r.id },
                el("span", {}, r.stall.code),
                el("small.state-" + r.state, {}, t(STATES[r.state]))
              )
            );
          })
        )
      );
    });
  }

  // --- Today's round, from the bundle: an inspection kept on the phone counts as done ------------
  function roundView() {
    return Promise.all([loadBundle(), store.all("inspections")]).then(function (got) {
      var data = got[0];
      var onPhone = {};
      (got[1] || []).forEach(function (r) {
        if (r.user === config.user && (r.state === "queued" || r.state === "sent")) onPhone[r.stall.id] = true;
      });
      var title = t("round");
      var search = el(
        "form.searchbar",
        { role: "search", method: "get", action: config.home },
        el("label", { for: "q" }, t("searchLabel")),
        el(
          "div.searchrow",
          {},
          el("input#q", { type: "search", name: "q", autocomplete: "off", placeholder: t("searchHint") }),
          el("button.primary", { type: "submit" }, t("search"))
        )
      );
      if (!data) return show(title, el("h1", {}, title), search, el("p.flash.warning", {}, t("noBundle")));
      var round = data.round || { venues: [] };
      function stallLink(s, done) {
        var state = s.due ? "due_again" : "never";
        return el(
          "li",
          {},
          el(
            "a",
            { href: config.home + "stalls/" + s.id },
            el("span", {}, done ? [el("span", { "aria-hidden": "true" }, "✓"), " "] : null,
              el("strong", { dir: "ltr" }, s.code), " · ", el("bdi", {}, s.location)),
            done
              ? null
              : el(
                  "small.st-" + state,
                  {},
                  el("span.tag", {}, el("span", { "aria-hidden": "true" }, s.due ? "↻" : "○"), " ",
                    t(s.due ? "dueAgain" : "neverInspected")),
                  s.why.length
                    ? [" ", el("span.why", {}, s.why.map(function (w) { return S.strings.reasons[w] || w; }).join(", "))]
                    : null
                )
          )
        );
      }
      var sections = round.venues.map(function (venue) {
        var todo = venue.todo.filter(function (s) { return !onPhone[s.id]; });
        var done = venue.done.concat(venue.todo.filter(function (s) { return onPhone[s.id]; }));
        var range = venue.from || venue.to
          ? [" ", el("small", {}, "· " + t("stallsRange") + " ", el("bdi", { dir: "ltr" }, (venue.from || "…") + "–" + (venue.to || "…")))]
          : null;
        return el(
          "section.card.round",
          { "data-venue": venue.id },
          el("h2", {}, el("bdi", {}, venue.name), range),
          el(
            "p.counter",
            { role: "status" },
            fmt(t("roundCounter"), { done: done.length, todo: todo.length }),
            el("meter", { min: 0, max: done.length + todo.length, value: done.length, "aria-hidden": "true" })
          ),
          todo.length
            ? el("ol.plain.rows.round-list", {}, todo.map(function (s) { return stallLink(s, false); }))
            : el("p", {}, t("nothingLeft")),
          done.length
            ? el(
                "details",
                {},
                el("summary", {}, t("doneToday") + " (" + done.length + ")"),
                el("ul.plain.rows.done-list", {}, done.map(function (s) { return stallLink(s, true); }))
              )
            : null
        );
      });
      show(
        title,
        el("h1", {}, title),
        el("p.subtitle.muted", {}, day(round.day)),
        search,
        el("div#round", {}, sections.length ? sections : el("p", {}, t("noRound")))
      );
    });
  }

  // --- Which view the address asks for ---------------------------------------------------------------
  function route() {
    var path = location.pathname;
    var home = config.home;
    var stall = path.match(new RegExp("^" + home + "stalls/(\\d+)$"));
    var inspection = path.match(new RegExp("^" + home + "inspections/" + UUID + "(/result)?$"));
    if (path === home || path === home.replace(/\/$/, "")) return Promise.resolve(searchView());
    if (config.round && path === config.round) return roundView();
    if (stall) return stallView(+stall[1]);
    if (inspection) return inspectionView(inspection[1]);
    return Promise.resolve(notKept());
  }

  doc.addEventListener("soukcheck:queue", function () {
    listOnPhone();
    // Drawn by this script (not the server's page): count what was just kept or sent as done.
    if (config.round && location.pathname === config.round && doc.querySelector("[data-shell]")) roundView();
    var state = doc.querySelector("[data-state]");
    var match = location.pathname.match(new RegExp(UUID));
    if (state && match) {
      store.get("inspections", match[1]).then(function (record) {
        if (record && record.state !== state.getAttribute("data-state")) statusView(record);
      });
    }
  });

  window.SoukCheckOffline = { route: route, listOnPhone: listOnPhone };
  if (doc.querySelector("[data-shell]")) route();
})();
