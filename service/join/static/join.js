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
    return shape(body, form);
  }

  /* The ways to support (service/join/support.py api_body, the same rules): the amount in minor units (a typed
   * one wins over the preset), gift.* fields as the `gift` object. Returns null when the typed amount is not one. */
  function shape(body, form) {
    var custom = body.amount_custom, input = form.elements.namedItem("amount_custom");
    delete body.amount_custom;
    if (input && (custom || body.amount === "custom")) {
      body.amount = toMinor(custom || "", Number(input.dataset.exponent || 2));
      if (body.amount === null) return null;
    } else if (body.amount) {
      body.amount = parseInt(body.amount, 10);
    }
    var gift = {};
    Object.keys(body).forEach(function (name) {
      if (name.indexOf("gift.") === 0) { gift[name.slice(5)] = body[name].trim(); delete body[name]; }
    });
    if (body.kind === "gift") {
      if (gift.months) gift.months = parseInt(gift.months, 10);
      Object.keys(gift).forEach(function (k) { if (gift[k] === "") delete gift[k]; });
      body.gift = gift;
    }
    return body;
  }

  function toMinor(text, exponent) {
    var clean = text.replace(/[\s\u00a0\u202f']/g, "");
    if (clean.indexOf(",") >= 0 && clean.indexOf(".") >= 0) {
      clean = clean.split(clean.lastIndexOf(",") > clean.lastIndexOf(".") ? "." : ",").join("");
    }
    clean = clean.split(",").join(".");
    if (!/^\d+(\.\d+)?$/.test(clean)) return null;
    var parts = clean.split("."), frac = (parts[1] || "").replace(/0+$/, "");
    if (frac.length > exponent) return null;
    while (frac.length < exponent) frac += "0";
    var minor = parseInt(parts[0] + frac, 10);
    return minor > 0 ? minor : null;
  }

  function flatten(errors, prefix, out) {
    Object.keys(errors || {}).forEach(function (key) {
      var name = prefix ? prefix + "." + key : key, value = errors[key];
      if (value && typeof value === "object" && !Array.isArray(value)) flatten(value, name, out);
      else out.push(name.replace(/^json\./, ""));
    });
    return out;
  }

  function clearFieldErrors(form) {
    form.querySelectorAll("[data-error-for]").forEach(function (p) { p.hidden = true; p.textContent = ""; });
    form.querySelectorAll("[aria-invalid]").forEach(function (el) { el.removeAttribute("aria-invalid"); });
  }

  /* A sentence under each field the API's 422 names (prerendered in the reader's language); true if any. */
  function showFieldErrors(form, data) {
    var shown = false;
    flatten(data.errors, "", []).forEach(function (name) {
      var p = form.querySelector('[data-error-for="' + name + '"]');
      if (!p) return;
      p.textContent = name === "amount" && data.minimum != null && p.dataset.minimumText ? p.dataset.minimumText
        : p.dataset.text;
      p.hidden = false;
      var field = form.querySelector('[aria-describedby~="' + p.id + '"]');
      if (field && field.tagName !== "FIELDSET") field.setAttribute("aria-invalid", "true");
      shown = true;
    });
    return shown;
  }

  function showError(text) {
    var box = document.getElementById("join-error");
    if (box) { box.textContent = text; box.hidden = false; }
  }

  function startCheckout(event) {
    var form = event.target, button = form.querySelector("button[type=submit]");
    if (!window.fetch || !form.dataset.api) return;  // the form posts to the server instead
    if (event.submitter && event.submitter.hasAttribute("data-update")) return;  // a GET reload of amounts
    event.preventDefault();
    clearFieldErrors(form);
    var body = fields(form);
    if (body === null) { showFieldErrors(form, {errors: {amount: ["Invalid."]}}); return; }
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
    button.textContent = form.dataset.working;
    fetch(form.dataset.api, {method: "POST", headers: {"Content-Type": "application/json", "Accept": "application/json"},
                             body: JSON.stringify(body), credentials: "same-origin"})
      .then(function (r) { return r.json().then(function (data) { return {ok: r.ok, data: data}; }); })
      .then(function (res) {
        if (res.ok && res.data.url) { window.location.assign(res.data.url); return; }
        var err = new Error(res.data.detail || res.data.title || "");
        err.problem = res.data;
        throw err;
      })
      .catch(function (err) {
        if (err.problem && showFieldErrors(form, err.problem)) showError(form.dataset.fixBelow);
        else showError(form.dataset.failed.replace("{detail}", err.message || ""));
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

  /* Another currency or plan: the server renders the amounts and prices again (Babel, the reader's locale);
   * each [data-swap] region is replaced in place, except the one holding the focus. */
  function reload(form) {
    var params = new URLSearchParams();
    new FormData(form).forEach(function (value, name) {
      if (name !== "success_url" && name !== "cancel_url" && value !== "") params.append(name, value);
    });
    var url = form.dataset.page + "?" + params.toString();
    fetch(url, {headers: {"Accept": "text/html"}, credentials: "same-origin"})
      .then(function (r) { return r.ok ? r.text() : Promise.reject(new Error(String(r.status))); })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html");
        fresh.querySelectorAll("[data-swap][id]").forEach(function (region) {
          var old = document.getElementById(region.id);
          if (old && !old.contains(document.activeElement)) old.replaceWith(document.importNode(region, true));
        });
        hideUpdateButtons(form);
        if (window.history && window.history.replaceState) window.history.replaceState(null, "", url);
      })
      .catch(function () { form.querySelectorAll("[data-update]").forEach(function (b) { b.hidden = false; }); });
  }

  function hideUpdateButtons(form) {
    form.querySelectorAll("[data-update]").forEach(function (b) { b.hidden = true; });
  }

  function watchSupport(form) {
    hideUpdateButtons(form);
    form.addEventListener("change", function (event) {
      var t = event.target;
      if (t.name === "currency" || t.name === "plan") { reload(form); return; }
      if (t.name === "amount" && t.value !== "custom") {
        var custom = form.elements.namedItem("amount_custom");
        if (custom) custom.value = "";
      }
    });
    form.addEventListener("input", function (event) {
      if (event.target.name !== "amount_custom") return;
      var other = document.getElementById("amount-other");
      if (other && event.target.value) other.checked = true;
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("join-form");
    if (form) form.addEventListener("submit", startCheckout);
    if (form && window.fetch && window.DOMParser) watchSupport(form);
    var box = document.getElementById("welcome");
    if (box && box.dataset.claim && window.fetch) claim(box);
    var token = document.getElementById("member-token");
    if (token && token.dataset.memberToken) keep(token.dataset.memberToken);
  });
})();
