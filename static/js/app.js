// Small glue on top of htmx. Pages work without it; it only explains failed htmx requests,
// which htmx otherwise ignores (it swaps no 4xx/5xx but a form's 400 or 409, see base_bare.html,
// and a request that never reached the server leaves the page as it was, silently).
(function () {
  "use strict";

  function explain(text) {
    var messages = document.getElementById("messages");
    if (!messages) { return; }
    var note = document.createElement("p");
    note.className = "message message-error";
    note.textContent = text + " Reload the page to see the current state.";
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
    explain(reasons[xhr.status] || "That did not work.");
  });

  // An invitation link's field selects its whole text when focused, ready to copy (a script
  // here, not an inline handler: the Content-Security-Policy refuses those).
  document.addEventListener("focusin", function (event) {
    if (event.target instanceof HTMLInputElement && event.target.classList.contains("link-field")) {
      event.target.select();
    }
  });

  document.addEventListener("htmx:sendError", function () {
    explain("Could not reach Reqflo; check your connection.");
  });

  // Marks the page ready once htmx has processed it (htmx's own DOMContentLoaded handler was
  // added first, by the script before this one): a control used before that would do nothing.
  // Browser tests wait for this mark before they touch a page.
  document.addEventListener("DOMContentLoaded", function () {
    document.documentElement.setAttribute("data-ready", "");
  });
})();
