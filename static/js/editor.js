// Journeys pages glue: reference suggestions after "{{", opening the step an issue links to, and
// asking before unsaved edits are left behind.
// (Form errors are swapped in place by the htmx config in base_bare.html, for every page.)
// Everything else is plain forms and htmx attributes; the page works without this file.
(function () {
  "use strict";
  var REF = /\{\{\s*([\w.\-\[\]]*)$/;
  var active = null;   // the field the suggestions are for
  var chosen = -1;     // the suggestion picked with the arrow keys, -1 for none

  function list() { return document.getElementById("suggestions"); }
  function items() { var box = list(); return box ? box.querySelectorAll("button[data-ref]") : []; }
  function open() { return items().length > 0; }

  function hide() {
    var box = list();
    if (box) { box.innerHTML = ""; }
    chosen = -1;
    if (active) {
      active.setAttribute("aria-expanded", "false");
      active.removeAttribute("aria-activedescendant");
    }
  }

  // Put the box right under the field being typed in (above it when the viewport has no room
  // below), inside the viewport's width. The box is absolutely placed in page coordinates.
  function place(field) {
    var box = list();
    if (!box || !field || !field.isConnected) { return; }
    var rect = field.getBoundingClientRect();
    var width = box.offsetWidth;
    var left = Math.max(4, Math.min(rect.left, document.documentElement.clientWidth - width - 4));
    var top = rect.bottom + 2;
    if (top + box.offsetHeight > window.innerHeight && rect.top - box.offsetHeight - 2 > 0) {
      top = rect.top - box.offsetHeight - 2;
    }
    box.style.left = (window.scrollX + left) + "px";
    box.style.top = (window.scrollY + top) + "px";
  }

  // Mark the picked suggestion (aria-activedescendant keeps focus, and the caret, in the field).
  function choose(index) {
    var buttons = items();
    if (!buttons.length || !active) { return; }
    chosen = (index + buttons.length) % buttons.length;
    buttons.forEach(function (button, i) {
      button.parentElement.setAttribute("aria-selected", i === chosen ? "true" : "false");
    });
    var item = buttons[chosen].parentElement;
    active.setAttribute("aria-activedescendant", item.id);
    item.scrollIntoView({ block: "nearest" });
  }

  var timer = null;

  function typedPrefix(field) {
    var before = field.value.slice(0, field.selectionStart || field.value.length);
    var match = before.match(REF);
    return match ? match[1] : null;
  }

  // Ask the server what is in scope for the field. The request comes from #suggest-source
  // (the form's fields included, `hx-sync="this:replace"`: a newer request replaces one in
  // flight, so the list always ends up matching what was typed last), never from the form: a
  // request from the form disables its buttons, and a button pressed meanwhile would wait
  // behind it and lose its `op`.
  function suggest(field) {
    var prefix = typedPrefix(field);
    var source = document.getElementById("suggest-source");
    if (prefix === null || !window.htmx || !source) { hide(); return; }
    var form = document.getElementById("editor-form");
    htmx.ajax("POST", form.dataset.suggestUrl, {
      source: source,
      target: "#suggestions",
      swap: "outerHTML",
      values: { suggest_field: field.name, prefix: prefix }
    });
  }

  // A box swapped in arrives without the old one's place (htmx does not settle `style`, see
  // base_bare.html): place it once the swap has settled.
  document.addEventListener("htmx:afterSettle", function (event) {
    if (!event.detail.elt || event.detail.elt.id !== "suggestions") { return; }
    chosen = -1;
    if (!active || !active.isConnected || document.activeElement !== active) { hide(); return; }
    active.setAttribute("aria-expanded", open() ? "true" : "false");
    active.removeAttribute("aria-activedescendant");
    place(active);
  });

  document.addEventListener("input", function (event) {
    var field = event.target;
    if (!field.matches || !field.matches("#editor-form [data-refs]")) { return; }
    if (typedPrefix(field) === null) { hide(); return; }
    active = field;
    field.setAttribute("aria-controls", "suggestions");
    field.setAttribute("aria-autocomplete", "list");
    clearTimeout(timer);
    timer = setTimeout(function () { suggest(field); }, 150);
  });

  // Put the chosen reference in place of what was typed after "{{".
  function insert(button) {
    var field = active;
    var caret = field.selectionStart || field.value.length;
    var before = field.value.slice(0, caret).replace(REF, "{{ " + button.dataset.ref + " }}");
    field.value = before + field.value.slice(caret);
    field.focus();
    field.setSelectionRange(before.length, before.length);
    field.dispatchEvent(new Event("change", { bubbles: true }));
    hide();
  }

  // A press on a suggestion keeps the focus in the field (so it stays the active one).
  document.addEventListener("mousedown", function (event) {
    if (event.target.closest && event.target.closest("#suggestions")) { event.preventDefault(); }
  });

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("#suggestions button[data-ref]");
    if (!button || !active) { return; }
    insert(button);
  });

  // Keyboard: down/up pick a suggestion, Enter takes it (instead of submitting the form), or
  // the first one, the best match, when none is picked; Escape or Tab closes the box (Tab
  // still moves on to the next field).
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") { hide(); return; }
    if (event.target !== active || !open()) { return; }
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      choose(chosen === -1 && event.key === "ArrowUp" ? -1 : chosen + (event.key === "ArrowDown" ? 1 : -1));
    } else if (event.key === "Enter") {
      event.preventDefault();
      insert(items()[chosen === -1 ? 0 : chosen]);
    } else if (event.key === "Tab") {
      hide();
    }
  });

  document.addEventListener("focusout", function (event) {
    if (event.target === active) { hide(); }
  });

  // Press an editor button that is not on the page (a step picked in the list, a drag, a value
  // picked in a response): the form posts with that `op`, as if the button were there.
  function press(op) {
    var form = document.getElementById("editor-form");
    if (!form || form.tagName !== "FORM") { return false; }
    var button = document.createElement("button");
    button.type = "submit";
    button.name = "op";
    button.value = op;
    button.hidden = true;
    form.appendChild(button);
    button.click();
    button.remove();
    return true;
  }

  // The step list: the page holds the form of one step, the one the server shows (the others
  // ride in steps-packed). Picking another posts the form (op select_step:N), so unsaved edits
  // go along; without JavaScript, or for a viewer, the links open ?step=N.
  var focusAfter = null;  // a field to focus once the step it is in arrives

  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest(".step-list a[data-step]");
    if (!link) { return; }
    var shown = document.getElementById("step-" + link.dataset.step);
    if (shown) { event.preventDefault(); shown.scrollIntoView({ block: "nearest" }); return; }
    if (press("select_step:" + link.dataset.step)) { event.preventDefault(); }
  });

  // The form's answer: the whole #editor, or, when the page stays in the form view, the step's
  // form (#step-details) with the other parts it changes out of band (docs/htmx.md).
  var ANSWERS = { "editor": true, "step-details": true };
  function isAnswer(elt) { return Boolean(elt && ANSWERS[elt.id]); }

  // The step list is no part of an answer: the page keeps it (its nodes, where it is scrolled),
  // and an answer carries the items that changed as hunks, <template data-at="AT"
  // data-remove="N"> holding the new items (reqflo/journeys/editor/step_list.py). Put them in
  // place from the last to the first (each AT counts in the list as it was), then give every
  // item the positional parts of its place: its index, its link and its number.
  function patchStepList() {
    var patch = document.getElementById("step-list-patch");
    if (!patch) { return; }
    patch.remove();
    var list = document.getElementById("step-list-items");
    if (!list) { return; }
    var items = list.children;
    var focused = -1;  // a keyboard user's place in the list, if its item is replaced
    for (var k = 0; k < items.length && focused === -1 && list.contains(document.activeElement); k++) {
      if (items[k].contains(document.activeElement)) { focused = k; }
    }
    var hunks = patch.content.children;
    for (var h = hunks.length - 1; h >= 0; h--) {
      var at = Number(hunks[h].dataset.at);
      var remove = Number(hunks[h].dataset.remove);
      if (remove > 0 && items[at]) {
        var range = document.createRange();
        range.setStartBefore(items[at]);
        range.setEndAfter(items[Math.min(at + remove, items.length) - 1]);
        range.deleteContents();
      }
      list.insertBefore(hunks[h].content, items[at] || null);
    }
    numberSteps(list);
    if (focused !== -1 && !list.contains(document.activeElement) && items[focused]) {
      items[focused].querySelector("a").focus({ preventScroll: true });
    }
  }

  function numberSteps(list) {
    var items = list.children;
    for (var k = 0; k < items.length; k++) {
      var link = items[k].querySelector("a[data-step]");
      var i = String(k);
      if (!link || link.dataset.step === i) { continue; }
      if (items[k].hasAttribute("data-step")) { items[k].dataset.step = i; }
      link.dataset.step = i;
      link.setAttribute("href", "?step=" + i);
      link.querySelector(".muted").textContent = (k + 1) + ".";
    }
  }
  document.addEventListener("htmx:afterSwap", patchStepList);

  document.addEventListener("htmx:afterSettle", function (event) {
    if (!isAnswer(event.detail.elt)) { return; }
    var field = focusAfter && document.getElementById(focusAfter);
    focusAfter = null;
    if (field) { field.focus(); field.classList.add("field-error"); }
  });

  // Drag a step in the list onto another to move it there; the ↑/↓ buttons do the same from
  // the keyboard. The move is an editor button like the others (op move_step:FROM:TO).
  var dragged = null;
  document.addEventListener("dragstart", function (event) {
    var item = event.target.closest && event.target.closest(".step-list li[draggable]");
    if (!item) { return; }
    dragged = item.dataset.step;
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", dragged);
  });
  document.addEventListener("dragover", function (event) {
    var item = event.target.closest && event.target.closest(".step-list li[draggable]");
    if (item && dragged !== null) { event.preventDefault(); }
  });
  document.addEventListener("drop", function (event) {
    var item = event.target.closest && event.target.closest(".step-list li[draggable]");
    if (!item || dragged === null || item.dataset.step === dragged) { return; }
    if (press("move_step:" + dragged + ":" + item.dataset.step)) { event.preventDefault(); }
    dragged = null;
  });
  document.addEventListener("dragend", function () { dragged = null; });

  // Errors when they help: the Run check runs as the user types, but a field being typed in,
  // or an empty field nobody has visited yet (a row just added), is not wrong yet. Its issue
  // waits until the user leaves the field or saves; a refused save shows every issue at once.
  // A row the user typed into and left is not new any more: its empty fields are wrong now
  // too (a header or query value with no name).
  var visited = new Set();  // ids of fields the user has left, or that a refused save named

  function waiting(item, field) {
    if (!item.closest("#run-check")) { return false; }
    if (field === document.activeElement) { return true; }
    return !visited.has(field.id) && !field.value && !rowTyped(field);
  }

  function rowTyped(field) {
    var row = field.closest(".pair-row, .grid-row, .rows tr");
    var typed = row ? row.querySelectorAll("input[type='text'][id], textarea[id]") : [];
    return Array.prototype.some.call(typed, function (other) {
      return other !== field && other.value !== "" && visited.has(other.id);
    });
  }

  // A note put under a field moves everything below it. Pressing a button (Save, Add header)
  // takes the focus from the field on the press, before the release: a note inserted then
  // would move the button away from under the pointer, and the click would land elsewhere,
  // lost. So whatever changes the layout (notes, a Run check answer, dropping a stale list)
  // waits while a pointer is down, and happens once its click has landed.
  var pressing = false;
  var afterPress = [];

  function whenStill(job) {
    if (pressing) { afterPress.push(job); } else { job(); }
  }
  var pressTimer = null;
  function pressed() {
    pressing = true;
    // A press whose release the page never hears (a select's own popup takes it) must not
    // hold the notes back for good.
    clearTimeout(pressTimer);
    pressTimer = setTimeout(released, 1500);
  }
  function released() {
    if (!pressing) { return; }
    pressing = false;
    clearTimeout(pressTimer);
    // The click follows the release in the same task: let it land on the unmoved page first.
    setTimeout(function () {
      if (pressing) { return; }  // pressed again already: the next release runs them
      var jobs = afterPress;
      afterPress = [];
      jobs.forEach(function (job) { job(); });
    }, 0);
  }
  document.addEventListener("pointerdown", pressed, true);
  document.addEventListener("mousedown", pressed, true);
  ["pointerup", "mouseup", "pointercancel", "dragend", "keydown"].forEach(function (name) {
    window.addEventListener(name, released, true);
  });
  // A value picked in a select's popup ends its press (a text field's change, fired as it
  // loses the focus to a press, does not).
  document.addEventListener("change", function (event) {
    if (event.target.tagName === "SELECT") { released(); }
  }, true);
  window.addEventListener("blur", released);

  document.addEventListener("focusout", function (event) {
    var field = event.target;
    if (!field.id || !field.closest || !field.closest("#editor-form")) { return; }
    visited.add(field.id);
    whenStill(showFieldMessages);
  });

  // Field ids carry row indexes (inputs-2-name, steps-1-assertions-3-expected): a button that
  // removes, moves or inserts a row renumbers the rows after it, so the marks move with their
  // rows (a removed row's marks go). `renumber(op)` returns how an index path maps, given the
  // op: null for ops that only append (add a row at the end) or change nothing.
  function removed(i) {
    return function (k) { return k === i ? null : (k > i ? k - 1 : k); };
  }
  function insertedAfter(i) {
    return function (k) { return k > i ? k + 1 : k; };
  }

  function renumber(op) {
    var parts = op.split(":");
    var name = parts[0];
    var a = Number(parts[1]);
    var b = Number(parts[2]);
    var rows = { remove_input: "inputs", remove_variable: "variables" }[name];
    if (rows) { return { pattern: new RegExp("^(" + rows + "-)(\\d+)(-.*)$"), map: removed(a) }; }
    var nested = { remove_assertion: "assertions", remove_output: "outputs" }[name];
    if (nested) {
      return { pattern: new RegExp("^(steps-" + a + "-" + nested + "-)(\\d+)(-.*)$"), map: removed(b) };
    }
    var steps = /^(steps-)(\d+)(-.*)$/;
    if (name === "remove_step") { return { pattern: steps, map: removed(a) }; }
    if (name === "duplicate_step") { return { pattern: steps, map: insertedAfter(a) }; }
    var from = a;
    var to = { move_up: a - 1, move_down: a + 1, move_step: b }[name];
    if (to === undefined || isNaN(to)) { return null; }
    return {
      pattern: steps,
      map: function (k) {
        if (k === from) { return to; }
        if (from < to && k > from && k <= to) { return k - 1; }
        if (from > to && k >= to && k < from) { return k + 1; }
        return k;
      }
    };
  }

  var pendingRenumber = null;  // worked out when a button is pressed, applied to its answer

  // The button pressed, to give the focus back after the swap: the op it posted, and the op
  // as it acts (a move_to posted is a move_step).
  var refocus = null;

  // A step's Position field and its Move button (op move_to:I) move it as a drag does: the
  // server reads the field; here it is the move_step:I:J that renumbers the marks.
  function movedTo(op) {
    var parts = op.split(":");
    var field = document.querySelector("[data-move-to='" + op + "']");
    if (parts[0] !== "move_to" || !field) { return op; }
    var position = parseInt(field.value, 10);
    if (isNaN(position)) { return "refresh"; }
    var count = parseInt(field.dataset.count, 10) || 1;
    return "move_step:" + parts[1] + ":" + (Math.min(Math.max(position, 1), count) - 1);
  }

  document.addEventListener("submit", function (event) {
    if (event.target.id !== "editor-form") { return; }
    var op = event.submitter ? movedTo(event.submitter.value) : "";
    pendingRenumber = op ? renumber(op) : null;
    refocus = event.submitter && event.submitter.name === "op"
      ? { posted: event.submitter.value, op: op } : null;
  }, true);

  // Enter in the Position field presses its Move button (not the form's first button).
  document.addEventListener("keydown", function (event) {
    var field = event.target;
    if (event.key !== "Enter" || !field.matches || !field.matches("[data-move-to]")) { return; }
    var button = field.parentElement.querySelector("button[value='" + field.dataset.moveTo + "']");
    if (button) { event.preventDefault(); button.click(); }
  });

  // The answer replaces the form, and the pressed button with it: the focus would fall to the
  // page (a keyboard user pressing ↓ twice would move nothing the second time). Give it back to
  // the same button, or for a move to the moved step's button (↑ at the top: its ↓).
  function buttonsFor(op) {
    var parts = op.split(":");
    var step = Number(parts[1]);
    if (parts[0] === "move_step") { return ["move_to:" + parts[2]]; }
    // Duplicate shows the copy (its buttons are step+1's); Remove shows the step that took the
    // removed one's place, or the one before it at the end.
    if (parts[0] === "duplicate_step") { return ["duplicate_step:" + (step + 1)]; }
    if (parts[0] === "remove_step") { return ["remove_step:" + step, "remove_step:" + (step - 1)]; }
    var to = { move_up: step - 1, move_down: step + 1 }[parts[0]];
    if (to === undefined || isNaN(to)) { return [op]; }
    var other = parts[0] === "move_up" ? "move_down" : "move_up";
    return [parts[0] + ":" + to, other + ":" + to];
  }
  document.addEventListener("htmx:afterSettle", function (event) {
    if (!isAnswer(event.detail.elt) || !refocus) { return; }
    // Only the answer to that press: a button pressed before the previous answer settled (a
    // step picked, then Remove at once) must not lose its refocus to the previous answer.
    var config = event.detail.requestConfig;
    var posted = config && config.formData ? config.formData.get("op") : null;
    if (posted !== refocus.posted) { return; }
    var op = refocus.op;
    refocus = null;
    if (document.activeElement && document.activeElement !== document.body) { return; }
    var form = document.getElementById("editor-form");
    var found = buttonsFor(op).map(function (value) {
      return form && form.querySelector("button[name='op'][value='" + value + "']:not([disabled])");
    }).filter(Boolean)[0];
    if (found) { found.focus({ preventScroll: true }); }
  });

  // Typing while a button's request is in flight is not lost. The answer carries each field as
  // it was posted; a field typed in since (the Name field clicked into right after Add header)
  // gets what it holds now back, once the answer is in, if the answer left it as posted.
  var typedSince = null;
  document.addEventListener("htmx:beforeSwap", function (event) {
    typedSince = null;
    var config = event.detail.requestConfig;
    var posted = config && config.formData;
    if (!isAnswer(event.detail.target) || !posted || !posted.get) { return; }
    var changed = [];
    event.detail.target.querySelectorAll("input[name], textarea[name]").forEach(function (field) {
      var sent = posted.get(field.name);
      if (field.type === "hidden" || field.type === "checkbox" || field.type === "radio") { return; }
      if (typeof sent === "string" && sent !== field.value) {
        changed.push({ name: field.name, sent: sent, value: field.value });
      }
    });
    typedSince = changed.length ? changed : null;
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    var changed = typedSince;
    typedSince = null;
    if (!changed || !isAnswer(event.detail.target)) { return; }
    var form = document.getElementById("editor-form");
    changed.forEach(function (typed) {
      var field = form && form.querySelector("[name='" + typed.name + "']");
      if (!field || field.value !== typed.sent) { return; }
      field.value = typed.value;
      field.dispatchEvent(new Event("input", { bubbles: true }));
    });
  });

  document.addEventListener("htmx:beforeSwap", function (event) {
    // Fired with the swap's target: the form's answer replaces #editor or #step-details.
    if (!pendingRenumber || !isAnswer(event.detail.target)) { return; }
    var rule = pendingRenumber;
    pendingRenumber = null;
    if (!event.detail.shouldSwap) { return; }
    var moved = new Set();
    visited.forEach(function (id) {
      var match = rule.pattern.exec(id);
      if (!match) { moved.add(id); return; }
      var index = rule.map(Number(match[2]));
      if (index !== null) { moved.add(match[1] + index + match[3]); }
    });
    visited = moved;
  });

  // Repeat each issue under the field it is about, so nobody has to map a path to a field;
  // the lists keep their links for pages without JavaScript. Redone after every swap, since
  // the Run check panel refreshes as the user types.
  function showFieldMessages() {
    document.querySelectorAll(".field-message").forEach(function (note) { note.remove(); });
    document.querySelectorAll(".step-list .has-error").forEach(function (link) {
      link.classList.remove("has-error");
    });
    document.querySelectorAll("[aria-invalid]").forEach(function (field) {
      field.classList.remove("field-error");
      field.removeAttribute("aria-invalid");
    });
    // Every step with an error, named as ranges by each list ("1-3 7"): a list of many
    // problems shows only a few dozen (reqflo/journeys/editor/problems.py). The step on
    // screen is marked below, from its own problems (a field not visited yet waits).
    var shown = document.querySelector("#step-details details.step");
    var links = document.querySelectorAll(".step-list a[data-step]");
    document.querySelectorAll("#save-problems .issues[data-problem-steps], #run-check .issues[data-problem-steps]")
      .forEach(function (list) {
        list.dataset.problemSteps.split(" ").forEach(function (part) {
          if (!part) { return; }
          var bounds = part.split("-").map(Number);
          for (var n = bounds[0]; n <= bounds[bounds.length - 1] && n < links.length; n++) {
            if (!shown || shown.id !== "step-" + n) { links[n].classList.add("has-error"); }
          }
        });
      });
    var noted = new Set();  // a problem listed twice (its line and its step's list) has one note
    document.querySelectorAll("#save-problems .issue[data-anchor], #run-check .issue[data-anchor]")
      .forEach(function (item) {
        item.hidden = false;
        var field = document.getElementById(item.dataset.anchor);
        var elsewhere = /^steps?-(\d+)(-|$)/.exec(item.dataset.anchor);
        if (!field && elsewhere) { return; }  // a step not on the page: marked above
        var key = item.dataset.anchor + "\n" + item.dataset.message;
        if (noted.has(key)) { return; }
        noted.add(key);
        // In the YAML view the list names lines; its links select them (below).
        if (!field || item.dataset.line || !field.matches("input, select, textarea")) { return; }
        if (waiting(item, field)) { item.hidden = true; return; }
        var warning = item.classList.contains("issue-warning");
        var note = document.createElement("p");
        note.className = "field-message field-message-" + (warning ? "warning" : "error");
        note.textContent = item.dataset.message;
        if (!warning) {
          field.setAttribute("aria-invalid", "true");
          field.classList.add("field-error");
        }
        // A checkbox's note goes after its label, which holds it.
        (field.closest("label.check") || field).insertAdjacentElement("afterend", note);
        var step = field.closest("details");
        if (step) { step.open = true; }
        var listed = step && document.querySelector(".step-list a[data-step='" + step.id.slice(5) + "']");
        if (listed && !warning) { listed.classList.add("has-error"); }
      });
    // Notes moved the fields: an open suggestions box goes back next to its field.
    if (active && open()) { place(active); }
  }
  document.addEventListener("DOMContentLoaded", showFieldMessages);
  document.addEventListener("htmx:afterSettle", function (event) {
    whenStill(function () { settled(event); });
  });
  function settled(event) {
    var config = event.detail.requestConfig;
    var fromForm = Boolean(config && config.elt && config.elt.id === "editor-form");
    // The form's answer settles its out-of-band parts too: once for the answer is enough.
    if (fromForm && !isAnswer(event.detail.elt)) { return; }
    // A fresh Run check covers what the last save refused (it reads the same fields), so
    // that save's list is stale now: drop it rather than show problems already fixed.
    if (event.detail.elt && event.detail.elt.id === "run-check" && !fromForm) {
      var stale = document.getElementById("save-problems");
      if (stale) { stale.remove(); }
    }
    showFieldMessages();
    // A refused save is answered at the top of the form, far from the Save button.
    var status = event.detail.xhr && event.detail.xhr.status;
    if (status === 400 || status === 409) {
      document.querySelectorAll("#save-problems .issue[data-anchor]").forEach(function (item) {
        visited.add(item.dataset.anchor);
      });
      var notice = document.getElementById("conflict") || document.getElementById("save-problems");
      if (notice) { notice.scrollIntoView({ block: "start" }); }
    }
  }

  // An issue link points at a field inside a step: open the step and focus the field.
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest(".issues a[href^='#']");
    if (!link) { return; }
    var anchor = link.getAttribute("href").slice(1);
    var target = document.getElementById(anchor);
    var elsewhere = /^steps?-(\d+)(-|$)/.exec(anchor);
    if (!target && elsewhere && press("select_step:" + elsewhere[1])) {
      // The field's step is not on the page: show it, then focus the field.
      event.preventDefault();
      focusAfter = anchor;
      return;
    }
    if (!target) { return; }
    target.classList.add("field-error");
    target.focus();
    var line = Number(link.closest(".issue").dataset.line || 0);
    if (line && target.setSelectionRange) {
      // Select the named line of the YAML and scroll the box so it shows.
      var lines = target.value.split("\n");
      var start = lines.slice(0, line - 1).join("\n").length + (line > 1 ? 1 : 0);
      target.setSelectionRange(start, start + (lines[line - 1] || "").length);
      var height = parseFloat(getComputedStyle(target).lineHeight) || 18;
      target.scrollTop = Math.max(0, (line - 5) * height);
      event.preventDefault();
    }
  });
  // Send: on a narrow screen the Send panel is far below the step (the side column goes under
  // the form): once the send is answered, bring the panel into view.
  var sendAsked = false;
  document.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail.elt;
    if (elt && elt.matches && elt.matches("button[name='send_step']")) { sendAsked = true; }
  });
  document.addEventListener("htmx:afterSettle", function (event) {
    if (!sendAsked || !event.detail.elt || event.detail.elt.id !== "send-panel") { return; }
    sendAsked = false;
    var rect = event.detail.elt.getBoundingClientRect();
    if (rect.top < 0 || rect.top > window.innerHeight - 80) {
      event.detail.elt.scrollIntoView({ block: "start" });
    }
  });

  // Send: a value clicked in the response becomes a check or an output of the sent step, in the
  // unsaved form (an editor button like the others: op pick_assertion:I or pick_output:I, with
  // the value's JSONPath and JSON). The response is the evidence, so secrets are masked there.
  // The menu is not put inside the response's box, which scrolls and would cut it off: it is
  // the body's last child, fixed next to the value and kept inside the viewport.
  var pickedFrom = null;  // the value the open menu is for

  function closePick(refocus) {
    var menu = document.getElementById("pick-menu");
    if (menu) { menu.remove(); }
    if (refocus && pickedFrom && pickedFrom.isConnected) { pickedFrom.focus(); }
    pickedFrom = null;
  }

  // Under the value (over it when the viewport has no room below), from its left edge, inside
  // the viewport; a value scrolled out of its box's view (or the page's) closes the menu.
  function placePick() {
    var menu = document.getElementById("pick-menu");
    if (!menu) { return; }
    var value = pickedFrom;
    var rect = value && value.isConnected ? value.getBoundingClientRect() : null;
    var clip = value && value.closest("pre");
    var seen = clip ? clip.getBoundingClientRect() : rect;
    var width = document.documentElement.clientWidth;
    var height = window.innerHeight;
    if (!rect || rect.bottom < Math.max(seen.top, 0) || rect.top > Math.min(seen.bottom, height) ||
        rect.right < Math.max(seen.left, 0) || rect.left > Math.min(seen.right, width)) {
      closePick(false);
      return;
    }
    var left = Math.max(4, Math.min(rect.left, width - menu.offsetWidth - 4));
    var top = rect.bottom + 2;
    if (top + menu.offsetHeight > height - 4) {
      top = Math.max(4, rect.top - menu.offsetHeight - 2);
    }
    menu.style.left = left + "px";
    menu.style.top = top + "px";
  }

  function pressPicked(op, path, value) {
    var form = document.getElementById("editor-form");
    var result = document.querySelector("#send-panel [data-sent-step]");
    if (!form || form.tagName !== "FORM" || !result) { return; }
    var link = document.querySelector(".step-list a[data-step-id='" + result.dataset.sentStep + "']");
    if (!link) { return; }
    [["pick_path", path], ["pick_value", value]].forEach(function (pair) {
      var input = form.querySelector("input[name='" + pair[0] + "']") || document.createElement("input");
      input.type = "hidden";
      input.name = pair[0];
      input.value = pair[1];
      form.appendChild(input);
    });
    press(op + ":" + link.dataset.step);
    closePick(false);
  }

  function openPick(value) {
    closePick(false);
    var menu = document.createElement("div");
    menu.id = "pick-menu";
    menu.className = "pick-menu";
    menu.setAttribute("role", "menu");
    menu.setAttribute("aria-label", "Use " + value.dataset.path);
    var title = document.createElement("p");
    title.className = "muted";
    title.textContent = value.dataset.path;
    menu.appendChild(title);
    [["pick_assertion", "Check it equals " + value.dataset.value], ["pick_output", "Keep it as an output"]]
      .forEach(function (choice) {
        var button = document.createElement("button");
        button.type = "button";
        button.className = "button-small";
        button.setAttribute("role", "menuitem");
        button.dataset.pick = choice[0];
        button.textContent = choice[1];
        menu.appendChild(button);
      });
    menu.dataset.path = value.dataset.path;
    menu.dataset.value = value.dataset.value;
    document.body.appendChild(menu);
    pickedFrom = value;
    placePick();
    var first = menu.querySelector("button");
    if (first) { first.focus({ preventScroll: true }); }
  }

  document.addEventListener("click", function (event) {
    var choice = event.target.closest && event.target.closest("#pick-menu button[data-pick]");
    if (choice) {
      var menu = choice.closest("#pick-menu");
      pressPicked(choice.dataset.pick, menu.dataset.path, menu.dataset.value);
      return;
    }
    var value = event.target.closest && event.target.closest("#send-panel .pick[data-path]");
    if (value) { openPick(value); return; }
    if (!(event.target.closest && event.target.closest("#pick-menu"))) { closePick(false); }
  });
  // Keyboard: Enter or Space on a value opens its menu; in the menu, the arrows move between its
  // items, Escape (or Tab) closes it and gives the focus back to the value.
  document.addEventListener("keydown", function (event) {
    var value = event.target.closest && event.target.closest("#send-panel .pick[data-path]");
    if (value && (event.key === "Enter" || event.key === " ")) { event.preventDefault(); openPick(value); return; }
    var menu = document.getElementById("pick-menu");
    if (!menu) { return; }
    var inside = menu.contains(event.target);
    if (event.key === "Escape" || (event.key === "Tab" && inside)) {
      if (inside) { event.preventDefault(); }
      closePick(inside);
      return;
    }
    if (inside && (event.key === "ArrowDown" || event.key === "ArrowUp")) {
      event.preventDefault();
      var buttons = Array.prototype.slice.call(menu.querySelectorAll("button"));
      var at = buttons.indexOf(document.activeElement);
      var next = (at + (event.key === "ArrowDown" ? 1 : -1) + buttons.length) % buttons.length;
      buttons[next].focus();
    }
  });
  window.addEventListener("scroll", placePick, true);
  window.addEventListener("resize", placePick);
  // A swap that replaced the panel (a new Send) took the value with it.
  document.addEventListener("htmx:afterSwap", function () {
    if (pickedFrom && !pickedFrom.isConnected) { closePick(false); }
  });

  // No edit is lost. Typing in the editor, or a button that changes it (add a step, remove a
  // row...), leaves unsaved changes until a save goes through; a save's answer shows the saved
  // version in place and signals it (reqflo:saved), and only that clears them. Until then
  // leaving asks first: the browser's own prompt when the page unloads, a confirm() for a link
  // or another form on the page. A refused save (400, 409) swaps the form back with every field.
  var LEAVE = "This journey has unsaved changes. Leave this page and lose them?";
  var VIEW_ONLY = /^(save|refresh|view_form|view_yaml|select_step:\d+)$/;
  var unsaved = false;
  var leaving = false;  // the user already agreed to leave, or a plain form post navigates

  function edited(event) {
    if (event.target.closest && event.target.closest("#editor-form")) { unsaved = true; }
  }
  document.addEventListener("input", edited);
  document.addEventListener("change", edited);

  function mayLeave() {
    if (!unsaved || leaving) { return true; }
    leaving = window.confirm(LEAVE);
    return leaving;
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[href]");
    if (!link || event.defaultPrevented || link.target === "_blank" || link.hasAttribute("download")) { return; }
    if (event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) { return; }
    if (link.getAttribute("href").charAt(0) === "#" || link.hasAttribute("data-discards")) { return; }
    if (!mayLeave()) { event.preventDefault(); }
  });

  // Capture phase: runs before htmx's own handler on the form, so a refusal stops it too.
  document.addEventListener("submit", function (event) {
    if (event.target.id === "editor-form") {
      var op = event.submitter ? event.submitter.value : "save";
      if (!VIEW_ONLY.test(op)) { unsaved = true; }
      return;
    }
    if (!mayLeave()) { event.preventDefault(); event.stopImmediatePropagation(); }
  }, true);

  // Bubble phase: a post htmx did not take over navigates (the server keeps what it shows).
  document.addEventListener("submit", function (event) {
    if (event.target.id === "editor-form" && !event.defaultPrevented) { leaving = true; }
  });

  // A save that went through (or found nothing to save) says so: its answer carries the
  // reqflo:saved event (HX-Trigger). Nothing else clears the unsaved edits: a refused save
  // (400), a conflict (409) or any other answer (the login page after the session ended)
  // keeps them, and leaving still asks first.
  document.addEventListener("reqflo:saved", function () { unsaved = false; });

  window.addEventListener("beforeunload", function (event) {
    if (unsaved && !leaving) {
      event.preventDefault();
      event.returnValue = "";
    }
  });
})();
