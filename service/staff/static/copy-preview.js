// Live preview of the banner copy: posts the form to the server's preview endpoint as you type
// and swaps in the rendered banner. Without JavaScript the form still saves, and the
// "Preview in a new tab" button shows the same fragment.
(function () {
  "use strict";
  var form = document.getElementById("copy-form");
  var target = document.getElementById("preview");
  if (!form || !target || !window.fetch) return;
  var url = form.getAttribute("data-preview");
  var timer = null;
  var seq = 0;
  function refresh() {
    var mine = ++seq;
    fetch(url, { method: "POST", body: new FormData(form), credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) { if (mine === seq) target.innerHTML = html; })
      .catch(function () { /* keep the last preview */ });
  }
  form.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(refresh, 200);
  });
})();
