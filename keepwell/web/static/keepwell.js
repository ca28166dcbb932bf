// Keepwell's own few lines of script: say so when an htmx request fails, instead of
// leaving the page unchanged. (Everything works without it: forms post normally.)
document.addEventListener("htmx:responseError", function (event) {
  var xhr = event.detail.xhr;
  if (xhr.status === 422) return; // a refused form: its reason is shown beside the form
  var box = document.getElementById("page-error");
  if (!box) return;
  var reason = "";
  try {
    var doc = new DOMParser().parseFromString(xhr.responseText, "text/html");
    var alert = doc.querySelector("main [role=alert]");
    reason = alert ? alert.textContent : "";
  } catch (e) { reason = ""; }
  box.textContent = "That did not work (" + xhr.status + ")" + (reason ? ": " + reason : ".");
  box.hidden = false;
  box.focus();
});
document.addEventListener("htmx:sendError", function () {
  var box = document.getElementById("page-error");
  if (!box) return;
  box.textContent = "The desk did not answer: check the connection and try again.";
  box.hidden = false;
});
// What the pages once wrote inline in hx-on attributes (the Content-Security-Policy runs
// no inline script and no eval): a form marked data-reset-after empties itself and its
// message after htmx sent it successfully; a data-close-slot button closes the action
// slot it sits in.
document.addEventListener("htmx:afterRequest", function (event) {
  var form = event.detail.elt;
  if (!event.detail.successful || !form || !form.matches || !form.matches("form[data-reset-after]")) return;
  form.reset();
  var live = form.querySelector("[aria-live]");
  if (live) live.replaceChildren();
});
document.addEventListener("click", function (event) {
  var button = event.target.closest ? event.target.closest("[data-close-slot]") : null;
  if (!button) return;
  var slot = button.closest(".slot");
  if (slot) slot.replaceChildren();
});
