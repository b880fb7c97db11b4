/* The join page with JavaScript: the form starts Checkout through the public API and goes to Stripe; the
 * welcome page claims the checkout through the API and keeps the member token. Without JavaScript the
 * same forms post to the server, which does the same. */
(function () {
  "use strict";
  var STORAGE_KEY = "membership.member_token";  // where pages on this origin find the member token

  function fields(form) {
    var body = {};
    new FormData(form).forEach(function (value, name) {
      if (value !== "" && name !== "return_url" && name !== "article") body[name] = value;
    });
    var article = form.elements.namedItem("article");
    if (article && article.value) body.article_id = article.value;
    return body;
  }

  function showError(text) {
    var box = document.getElementById("join-error");
    if (box) { box.textContent = text; box.hidden = false; }
  }

  function startCheckout(event) {
    var form = event.target, button = form.querySelector("button[type=submit]");
    if (!window.fetch || !form.dataset.api) return;  // the form posts to the server instead
    event.preventDefault();
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
    button.textContent = form.dataset.working;
    fetch(form.dataset.api, {method: "POST", headers: {"Content-Type": "application/json", "Accept": "application/json"},
                             body: JSON.stringify(fields(form)), credentials: "same-origin"})
      .then(function (r) { return r.json().then(function (data) { return {ok: r.ok, data: data}; }); })
      .then(function (res) {
        if (res.ok && res.data.url) { window.location.assign(res.data.url); return; }
        throw new Error(res.data.detail || res.data.title || "");
      })
      .catch(function (err) {
        showError(form.dataset.failed.replace("{detail}", err.message || ""));
        button.disabled = false;
        button.removeAttribute("aria-busy");
        button.textContent = form.dataset.label;
      });
  }

  function keep(token) {
    try { window.localStorage.setItem(STORAGE_KEY, token); } catch (e) { /* storage off: the link still works */ }
  }

  function say(box, text, cls) {
    box.textContent = "";
    var p = document.createElement("p");
    p.className = cls;
    p.textContent = text;
    box.appendChild(p);
    return p;
  }

  function claim(box) {
    var t = box.dataset, returnUrl = t.returnUrl;
    say(box, t.tClaiming, "notice");
    fetch(t.claim, {method: "POST", headers: {"Content-Type": "application/json", "Accept": "application/json"},
                    body: returnUrl ? JSON.stringify({return_url: returnUrl}) : "{}", credentials: "omit"})
      .then(function (r) { return r.json().then(function (data) { return {status: r.status, data: data}; }); })
      .then(function (res) {
        if (res.status === 200 && res.data.member_token) {
          keep(res.data.member_token);
          var p = say(box, t.tSignedIn.replace("{email}", (res.data.member || {}).email || ""), "ok");
          p.setAttribute("data-testid", "signed-in");
          if (returnUrl) {
            var a = document.createElement("a");
            a.className = "cta";
            a.href = returnUrl.split("#")[0] + "#member_token=" + encodeURIComponent(res.data.member_token);
            a.textContent = t.tContinue;
            box.appendChild(document.createElement("p")).appendChild(a);
          }
        } else if (res.status === 202) {
          say(box, t.tVerify, "notice").setAttribute("data-testid", "verify");
        } else if (res.status === 409) {
          say(box, t.tPending, "notice");
        } else if (res.status === 404) {
          say(box, t.tUnknown, "error").setAttribute("role", "alert");
        } else {
          say(box, t.tFailed.replace("{detail}", res.data.detail || res.data.title || ""), "error").setAttribute("role", "alert");
        }
      })
      .catch(function () { say(box, t.tFailed.replace("{detail}", ""), "error").setAttribute("role", "alert"); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("join-form");
    if (form) form.addEventListener("submit", startCheckout);
    var box = document.getElementById("welcome");
    if (box && box.dataset.claim && window.fetch) claim(box);
    var token = document.getElementById("member-token");
    if (token && token.dataset.memberToken) keep(token.dataset.memberToken);
  });
})();
