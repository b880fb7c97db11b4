/*! membership-service widget: <div data-membership-campaign="SLUG" data-locale="en"></div> + this script.
 * Plain JavaScript, no dependencies. Renders into an open shadow root; never throws into the host page.
 * Its stylesheet and phrases are filled in by the service (service/widget/assets.py). */
/* Filled in: "__MW_CSS__", "__MW_VALUETEXT__" and "__MW_LABELS__" (service/widget/markup.py), "__MW_APPEAL__" and
 * "__MW_STALE__" (campaigns/builtin.py APPEAL, WIDGET_STALE_LIMIT_SECONDS); only in the code, never this header.
 * Never a false number: when the progress cannot be loaded (network, 5xx, 410, timeout) or has been stale for
 * longer than the limit (`data-stale-limit`, seconds), the appeal shows without one, or nothing with
 * `data-on-error="hide"`. Experiments: a variant is picked from a random visitor id kept in localStorage, the
 * same way as service/campaigns/experiments.py (FNV-1a of "slug:id" mod 100 over the weights in id order).
 * The service strips these comments and the indentation when it serves the file (assets.py). */
(function (w, d) {
  "use strict";
  var NS = "membershipWidget", ATTR = "data-membership-campaign", TIMEOUT = 4000;
  var CSS = "__MW_CSS__", VT = "__MW_VALUETEXT__", LB = "__MW_LABELS__", AP = "__MW_APPEAL__", STALE = "__MW_STALE__";
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

  function cache(key, val, store) {
    try {
      store = w[store || "sessionStorage"]; // read inside the try: a blocked storage throws
      if (val === undefined) return JSON.parse(store.getItem(key));
      store.setItem(key, JSON.stringify(val));
    } catch (e) { return null; }
  }

  // <shared> with the iframe page's script (assets.py frame_script): one copy of the visitor id and the pick
  var VKEY = "membership-widget:visitor", visitor = null;

  function vid() { // a random first-party id, made once (this page's own when storage is blocked: see lasting)
    if (!visitor) {
      try { visitor = w.localStorage.getItem(VKEY); } catch (e) { /* blocked */ }
      if (!visitor) {
        try { visitor = [].join.call(w.crypto.getRandomValues(new Uint32Array(4)), "."); } catch (e) { visitor = Math.random() + "." + Date.now(); }
        try { w.localStorage.setItem(VKEY, visitor); } catch (e) { /* kept for this page only */ }
      }
    }
    return visitor;
  }

  function lasting(id) { // the id is kept (not this page's own): without storage a reader is not in an experiment
    try { return w.localStorage.getItem(VKEY) === id; } catch (e) { return false; }
  }

  function pick(slug, vs, id) { // the variant shown to visitor id, or null for the control
    var s = unescape(encodeURIComponent(slug + ":" + id)), h = 0x811c9dc5, acc = 0, i;
    for (i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
    vs = vs.slice().sort(function (a, b) { return a.id - b.id; });
    for (i = 0; i < vs.length; i++) if (h % 100 < (acc += +vs[i].weight || 0)) return vs[i];
    return null;
  }
  // </shared>

  function limit(host) { // seconds a count may be stale before it is not shown
    var v = parseFloat(host.getAttribute("data-stale-limit"));
    return (v >= 0 ? v : STALE) * 1000;
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

  function beacon(slug, type, loc, arm) {
    try {
      var url = base + "/v1/campaigns/" + encodeURIComponent(slug) + "/events";
      // A string is sent as text/plain: a CORS-safelisted type, so no preflight; the service reads it as JSON.
      var body = JSON.stringify({ type: type, locale: loc, path: location.pathname, variant: arm == null ? undefined : arm });
      if (!(navigator.sendBeacon && navigator.sendBeacon(url, body))) {
        fetch(url, { method: "POST", body: body, mode: "no-cors", credentials: "omit", keepalive: true })
          .catch(function () { /* best effort */ });
      }
    } catch (e) { /* best effort */ }
  }

  function show(host, box) {
    var root = host.shadowRoot, old = root.querySelector(".mw");
    if (old) root.removeChild(old);
    root.appendChild(box);
  }

  function cta(box, label, url, arm, click) {
    if (!/^https?:\/\//i.test(url || "")) return;
    var a = el("a", "mw-cta", box, label);
    try { if (arm != null) { url = new URL(url); url.searchParams.set("variant", arm); } } catch (e) { /* as it is */ }
    a.href = url;
    if (click) a.addEventListener("click", click);
  }

  // The appeal without a number (never "0 out of 25,000"); false when the page asked for nothing instead.
  function appeal(host, data, m) {
    if (host.getAttribute("data-on-error") === "hide") return false;
    var b = (data && data.banner) || {}, loc = b.locale || m.locale || d.documentElement.lang || "en";
    var t = AP[String(loc).split("-")[0].toLowerCase()] || AP.en, box = el("div", "mw");
    // the copy's link (its label could hold a number: the appeal's own label)
    var link = b.cta_url || cache("membership-widget:cta:" + m.slug, undefined, "localStorage");
    box.setAttribute("lang", loc);
    box.setAttribute("data-state", "appeal");
    el("p", "mw-h", box, t[0]);
    el("p", "mw-b", box, t[1]);
    cta(box, t[2], link || host.getAttribute("data-join-url"));
    show(host, box);
    return true;
  }

  function render(host, data) {
    var b = data.banner, loc = b.locale, goal = data.goal, count = data.count, vs = b.variants;
    var id = vs && vs.length ? vid() : null, inside = id !== null && lasting(id);
    var box = el("div", "mw"), v = inside ? pick(data.campaign, vs, id) : null, c = v || b;
    var arm = host[NS].arm = inside ? (v ? v.id : 0) : null;
    box.setAttribute("dir", b.dir === "rtl" ? "rtl" : "ltr");
    box.setAttribute("lang", loc);
    el("p", "mw-h", box, data.milestones && data.milestones.celebrating ? b.headline : c.headline);
    var bar = el("div", "mw-bar", box), attrs = {
      role: "progressbar", "aria-label": LB[String(loc).split("-")[0].toLowerCase()] || data.title, "aria-valuemin": 0, "aria-valuemax": goal,
      "aria-valuenow": Math.min(count, goal), "aria-valuetext": valuetext(count, goal, loc, b.headline)
    };
    for (var k in attrs) bar.setAttribute(k, attrs[k]);
    var fill = el("div", "mw-fill", bar);
    fill.style.width = "0";
    el("p", "mw-b", box, c.body);
    cta(box, c.cta_label, c.cta_url, arm, function () { beacon(data.campaign, "click", loc, arm); });
    show(host, box);
    void fill.offsetWidth; // lay out at 0 so that the fill animates (unless reduced motion is preferred)
    fill.style.width = Math.max(0, Math.min(100, +data.percent || 0)) + "%";
    if (!host[NS].seen) {
      host[NS].seen = 1;
      if (seen) seen.observe(host); else beacon(data.campaign, "impression", loc, arm);
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

    // A count shown is at most limit(host) old: fresh, stale (the service's database is down) since less than
    // that, or the last data this tab saw that long ago at most.
    function usable(data, host, at) {
      var since = data.stale ? Date.parse(data.stale_since) : at;
      return Date.now() - since <= limit(host);
    }

    function finish(data, why, status) {
      if (done) return;
      done = true;
      clearTimeout(timer);
      var fresh = !!data, last = fresh || status === 404 ? null : cache(key), shown = 0, appealed = 0;
      if (status === 410) cache(key, null), cache(key + ":h", 0); // archived: no last data
      else if (last && last.d) data = last.d;
      for (var i = 0; i < hosts.length; i++) {
        try {
          if (data && usable(data, hosts[i], fresh ? Date.now() : last.t)) { render(hosts[i], data); shown++; }
          // archived (410): nothing, unless the page asked for the appeal; unknown (404): nothing
          else if (status !== 404 && (status !== 410 || hosts[i].getAttribute("data-on-error") === "appeal") &&
            appeal(hosts[i], data, m)) appealed++, why = why || (data ? "count is stale" : why);
          else throw 0;
        } catch (e) {
          hosts[i].style.minHeight = "0";
          if (e) why = why || "could not be shown (" + e + ")";
        }
      }
      if (shown && fresh) {
        if (!data.stale) cache(key, { t: Date.now(), d: data });
        cache("membership-widget:cta:" + m.slug, data.banner.cta_url, "localStorage");
        // The next page of this visit reserves the height the bar took here.
        cache(key + ":h", Math.ceil(hosts[0].getBoundingClientRect().height));
      }
      if (why) warn("campaign '" + m.slug + "' " + why + (shown ? (fresh ? "" : "; showing the last data seen") :
        appealed ? "; showing the appeal without a number" : "; nothing shown"));
    }

    try {
      fetch(url, { credentials: "omit", signal: ctl ? ctl.signal : undefined })
        .then(function (r) {
          if (!r.ok) throw { message: "answered HTTP " + r.status, status: r.status };
          return r.json();
        })
        .then(function (data) { finish(data); }, function (e) {
          e = e || {}; // 410: the campaign was archived (no warning); 404: it does not exist (nothing shown)
          finish(null, e.status === 410 ? "" : e.status ? e.message : "could not be loaded (" + e + ")", e.status);
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
            beacon(m.slug, "impression", box ? box.getAttribute("lang") : m.locale, m.arm);
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
    w.MembershipWidget = { scan: scan, pick: pick };
    scan();
    if (d.readyState === "loading") d.addEventListener("DOMContentLoaded", scan);
  } catch (e) { warn("failed (" + e + ")"); }
})(window, document);
