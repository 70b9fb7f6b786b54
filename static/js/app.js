// Small glue on top of htmx. Pages work without it; it only explains failed htmx requests,
// which htmx otherwise ignores (it swaps no 4xx/5xx but a form's 400 or 409, see base_bare.html,
// and a request that never reached the server leaves the page as it was, silently).
(function () {
  "use strict";

  // What to do next. A part of a page that holds unsaved edits (the journey editor, marked
  // data-keeps-edits) still has them all: reloading would lose them, so it says to try again.
  function explain(text, event) {
    var messages = document.getElementById("messages");
    if (!messages) { return; }
    var elt = event && event.detail && event.detail.elt;
    var keeps = elt && elt.closest && elt.closest("[data-keeps-edits]");
    var note = document.createElement("p");
    note.className = "message message-error";
    note.textContent = text + (keeps
      ? " Your unsaved edits are still on this page: try again, and save once it answers."
      : " Reload the page to see the current state.");
    messages.replaceChildren(note);
  }

  document.addEventListener("htmx:responseError", function (event) {
    var xhr = event.detail.xhr;
    if (xhr.status === 403 && xhr.responseText.indexOf('data-error="csrf"') !== -1) {
      // The CSRF check failed: the session changed (logged out or in elsewhere) since this page
      // loaded, so its form token is stale. It is not about permissions.
      explain("This page is out of date: you logged in or out since it was loaded.");
      return;
    }
    var reasons = {
      403: "You are no longer allowed to do that here.",
      404: "That item no longer exists.",
    };
    explain(reasons[xhr.status] || "That did not work.", event);
  });

  // An invitation link's field selects its whole text when focused, ready to copy (a script
  // here, not an inline handler: the Content-Security-Policy refuses those).
  document.addEventListener("focusin", function (event) {
    if (event.target instanceof HTMLInputElement && event.target.classList.contains("link-field")) {
      event.target.select();
    }
  });

  document.addEventListener("htmx:sendError", function (event) {
    explain("Could not reach Reqflo; check your connection.", event);
  });

  // Marks the page ready once htmx has processed it (htmx's own DOMContentLoaded handler was
  // added first, by the script before this one): a control used before that would do nothing.
  // Browser tests wait for this mark before they touch a page.
  document.addEventListener("DOMContentLoaded", function () {
    document.documentElement.setAttribute("data-ready", "");
  });
})();
