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
