/*! membership-service widget: <div data-membership-campaign="SLUG" data-locale="en"></div> + this script.
 * Plain JavaScript, no dependencies. Renders into an open shadow root; never throws into the host page.
 * "__MW_CSS__" and "__MW_VALUETEXT__" are filled in by the service (service/widget/markup.py). */
(function (w, d) {
  "use strict";
  var NS = "membershipWidget", ATTR = "data-membership-campaign", TIMEOUT = 4000;
  var CSS = "__MW_CSS__", VT = "__MW_VALUETEXT__";
  if (w.MembershipWidget && w.MembershipWidget.scan) { try { w.MembershipWidget.scan(); } catch (e) { /* never throw */ } return; }
  var me = d.currentScript, base = "", origin = "", warned = false, seen = null, sheet = null;
  try {
    var src = (me && me.src) || "", all = d.scripts;
    for (var i = all.length - 1; !src && i >= 0; i--) if (/\/widget(\/[\w.-]+)?\.js([?#]|$)/.test(all[i].src)) src = all[i].src;
    base = src.replace(/\/widget(\/[\w.-]+)?\.js([?#].*)?$/, "");
    origin = new URL(base || location.href, location.href).origin;
  } catch (e) { /* keep the page's origin */ }

  function warn(msg) {
    if (warned) return;
    warned = true;
    try { console.warn("membership widget: " + msg); } catch (e) { /* no console */ }
  }

  function cache(key, val) {
    try {
      if (val === undefined) return JSON.parse(w.sessionStorage.getItem(key));
      w.sessionStorage.setItem(key, JSON.stringify(val));
    } catch (e) { return null; }
  }

  function el(tag, cls, parent, text) {
    var e = d.createElement(tag);
    e.className = cls;
    e.setAttribute("part", cls);
    if (text != null) e.textContent = text;
    if (parent) parent.appendChild(e);
    return e;
  }

  function num(n, loc) {
    try { return new Intl.NumberFormat(loc).format(n); } catch (e) { return String(n); }
  }

  function valuetext(count, goal, loc, headline) {
    var t = VT[String(loc).split("-")[0].toLowerCase()];
    return t ? t.replace("{count}", num(count, loc)).replace("{goal}", num(goal, loc)) : headline;
  }

  function beacon(slug, type, loc) {
    try {
      var url = base + "/v1/campaigns/" + encodeURIComponent(slug) + "/events";
      // A string is sent as text/plain: a CORS-safelisted type, so no preflight; the service reads it as JSON.
      var body = JSON.stringify({ type: type, locale: loc, path: location.pathname });
      if (!(navigator.sendBeacon && navigator.sendBeacon(url, body))) {
        fetch(url, { method: "POST", body: body, mode: "no-cors", credentials: "omit", keepalive: true })
          .catch(function () { /* best effort */ });
      }
    } catch (e) { /* best effort */ }
  }

  function render(host, data) {
    var b = data.banner, loc = b.locale, goal = data.goal, count = data.count, root = host.shadowRoot;
    var box = el("div", "mw");
    box.setAttribute("dir", b.dir === "rtl" ? "rtl" : "ltr");
    box.setAttribute("lang", loc);
    el("p", "mw-h", box, b.headline);
    var bar = el("div", "mw-bar", box), attrs = {
      role: "progressbar", "aria-label": data.title, "aria-valuemin": 0, "aria-valuemax": goal,
      "aria-valuenow": Math.min(count, goal), "aria-valuetext": valuetext(count, goal, loc, b.headline)
    };
    for (var k in attrs) bar.setAttribute(k, attrs[k]);
    var fill = el("div", "mw-fill", bar);
    fill.style.width = "0";
    el("p", "mw-b", box, b.body);
    if (/^https?:\/\//i.test(b.cta_url || "")) {
      var a = el("a", "mw-cta", box, b.cta_label);
      a.href = b.cta_url;
      a.addEventListener("click", function () { beacon(data.campaign, "click", loc); });
    }
    var old = root.querySelector(".mw");
    if (old) root.removeChild(old);
    root.appendChild(box);
    void fill.offsetWidth; // lay out at 0 so that the fill animates (unless reduced motion is preferred)
    fill.style.width = Math.max(0, Math.min(100, +data.percent || 0)) + "%";
    if (!host[NS].seen) {
      host[NS].seen = 1;
      if (seen) seen.observe(host); else beacon(data.campaign, "impression", loc);
    }
  }

  function load(hosts) {
    var m = hosts[0][NS], key = "membership-widget:" + m.slug + ":" + m.locale, done = false;
    var ctl = w.AbortController ? new AbortController() : null;
    var url = base + "/v1/campaigns/" + encodeURIComponent(m.slug) + "/progress" +
      (m.locale ? "?locale=" + encodeURIComponent(m.locale) : "");
    var timer = setTimeout(function () {
      try { if (ctl) ctl.abort(); } catch (e) { /* already settled */ }
      finish(null, "timed out after " + TIMEOUT / 1000 + " s");
    }, TIMEOUT);

    function finish(data, why) {
      if (done) return;
      done = true;
      clearTimeout(timer);
      var fresh = !!data, shown = 0;
      if (!fresh) data = cache(key);
      for (var i = 0; i < hosts.length; i++) {
        try {
          if (!data) throw 0;
          render(hosts[i], data);
          shown++;
        } catch (e) {
          hosts[i].style.minHeight = "0";
          if (e) why = why || "could not be shown (" + e + ")";
        }
      }
      if (shown && fresh) {
        cache(key, data);
        // The next page of this visit reserves the height the bar took here.
        cache(key + ":h", Math.ceil(hosts[0].getBoundingClientRect().height));
      }
      if (why) warn("campaign '" + m.slug + "' " + why + (shown ? (fresh ? "" : "; showing the last data seen") : "; nothing shown"));
    }

    try {
      fetch(url, { credentials: "omit", signal: ctl ? ctl.signal : undefined })
        .then(function (r) {
          if (!r.ok) throw new Error("answered HTTP " + r.status);
          return r.json();
        })
        .then(function (data) { finish(data); }, function (e) {
          finish(null, /^answered/.test(e && e.message) ? e.message : "could not be loaded (" + e + ")");
        });
    } catch (e) { finish(null, "could not be loaded (" + e + ")"); }
  }

  function scan() {
    var groups = {}, nodes = d.querySelectorAll("[" + ATTR + "]");
    for (var i = 0; i < nodes.length; i++) {
      var host = nodes[i], slug = host.getAttribute(ATTR);
      if (host[NS] || !slug) continue;
      var loc = host.getAttribute("data-locale") || d.documentElement.lang || "";
      try {
        // Inline and important: host CSS such as `div { display: none }` cannot hide the widget.
        host.style.setProperty("display", "block", "important");
        var root = host.shadowRoot || host.attachShadow({ mode: "open" });
        if (sheet) root.adoptedStyleSheets = [sheet]; else el("style", "", root).textContent = CSS;
      } catch (e) { warn("cannot render into <" + host.tagName.toLowerCase() + "> (" + e + ")"); continue; }
      host[NS] = { slug: slug, locale: loc };
      var h = cache("membership-widget:" + slug + ":" + loc + ":h");
      if (h > 0) host.style.minHeight = h + "px";
      (groups[slug + "|" + loc] = groups[slug + "|" + loc] || []).push(host);
    }
    for (var g in groups) load(groups[g]);
  }

  try {
    // A constructed stylesheet works under a host page's strict CSP (style-src without 'unsafe-inline').
    try { sheet = new CSSStyleSheet(); sheet.replaceSync(CSS); } catch (e) { sheet = null; }
    if (w.IntersectionObserver) {
      seen = new IntersectionObserver(function (entries) {
        for (var i = 0; i < entries.length; i++) {
          try {
            var e = entries[i];
            if (!e.isIntersecting) continue;
            seen.unobserve(e.target);
            var m = e.target[NS], box = e.target.shadowRoot.querySelector(".mw");
            beacon(m.slug, "impression", box ? box.getAttribute("lang") : m.locale);
          } catch (x) { /* best effort */ }
        }
      }, { threshold: 0.5 });
    }
    // Iframe embeds on the same page size themselves to the height their page reports.
    w.addEventListener("message", function (e) {
      try {
        var m = e.data;
        if (!m || m.type !== "membership-widget:height" || e.origin !== origin) return;
        var frames = d.getElementsByTagName("iframe");
        for (var i = 0; i < frames.length; i++) {
          if (frames[i].contentWindow === e.source) frames[i].style.height = Math.max(0, m.height | 0) + "px";
        }
      } catch (x) { /* ignore */ }
    });
    w.MembershipWidget = { scan: scan };
    scan();
    if (d.readyState === "loading") d.addEventListener("DOMContentLoaded", scan);
  } catch (e) { warn("failed (" + e + ")"); }
})(window, document);
