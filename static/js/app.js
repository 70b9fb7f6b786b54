// Small glue on top of htmx. Pages work without it; it only explains failed htmx requests,
// which htmx otherwise ignores (it does not swap 4xx/5xx responses).
document.addEventListener("htmx:responseError", (event) => {
  const messages = document.getElementById("messages");
  if (!messages) return;
  const status = event.detail.xhr.status;
  const reasons = {
    403: "You are no longer allowed to do that here.",
    404: "That item no longer exists.",
  };
  const note = document.createElement("p");
  note.className = "message message-error";
  note.textContent = `${reasons[status] || "That did not work."} Reload the page to see the current state.`;
  messages.replaceChildren(note);
});
