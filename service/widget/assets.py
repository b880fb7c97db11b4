"""widget.js and the iframe page's script, built once when the app starts (pure; no Flask).

widget.js gets the shared stylesheet and the aria-valuetext phrases of markup.py filled in, then a
content hash: the hash is the ETag of /widget.js and the name of the versioned, immutable URL
/widget/<hash>.js. Both are gzipped once here (the file is small, compressing per request is waste).
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

from service.campaigns import builtin
from service.widget import markup

SOURCE = Path(__file__).resolve().parent / "static" / "widget.js"
GZIP_LIMIT = 5 * 1024  # the budget of the issue: at most 5 KB gzipped

# The iframe page's only script: tells the parent its height, shows this visitor's variant of a running
# experiment (the inert JSON block #mw-variants; without JavaScript the page shows the control), counts an
# impression when the frame is seen and a click on the call to action, each naming the arm. The visitor id and
# the pick are widget.js's own code (between its `<shared>` markers), so the two widgets assign alike. The id is
# kept in the frame's localStorage: the service's origin, which browsers partition by the top-level site, so a
# reader keeps one arm across the pages of one site, not across sites, and not necessarily the arm the script
# widget (the host page's storage) picked. Where third-party storage is blocked (third-party cookies blocked:
# incognito, Brave, Chromium builds with 3PCD) the frame has no lasting id: it shows the control and names no arm,
# so such readers stay out of the experiment rather than see another arm on every page. Built once
# (frame_script()): its CSP hash is constant.
FRAME_SOURCE = r"""
(function (w, d) {
  try {
    var s = d.currentScript, b = d.body, slug = s.getAttribute("data-slug"), ev = s.getAttribute("data-events");
    var last = -1, arm = null;
    "__MW_SHARED__";
    function beacon(t) {
      try {
        var l = d.querySelector(".mw"), p = JSON.stringify({ type: t, locale: l ? l.getAttribute("lang") : "",
          path: "", variant: arm == null ? undefined : arm });
        navigator.sendBeacon ? navigator.sendBeacon(ev, p) : fetch(ev, { method: "POST", body: p, keepalive: true });
      } catch (e) {}
    }
    function post() {
      var h = Math.ceil(b.getBoundingClientRect().height);
      if (h !== last && parent !== w) {
        last = h;
        parent.postMessage({ type: "membership-widget:height", slug: slug, height: h }, "*");
      }
    }
    function show() { // the picked arm's copy in place of the control's; a headline of null keeps the page's
      var box = d.querySelector(".mw"), j = d.getElementById("mw-variants"), id = vid(), vs, v, a, u;
      if (!box || !j) return;
      // No storage (third-party storage blocked): no lasting id, so not in the experiment: the control, no arm.
      if (!lasting(id)) return;
      vs = JSON.parse(j.textContent);
      if (!vs.length) return;
      v = pick(slug, vs, id);
      arm = v ? v.id : 0;
      a = box.querySelector(".mw-cta");
      if (v) {
        if (v.headline != null) box.querySelector(".mw-h").textContent = v.headline;
        box.querySelector(".mw-b").textContent = v.body;
        if (a && !/^https?:\/\//i.test(v.cta_url || "")) { a.parentNode.removeChild(a); a = null; }
        if (a) { a.textContent = v.cta_label; a.href = v.cta_url; }
      }
      if (a) { u = new URL(a.href); u.searchParams.set("variant", arm); a.href = u; }
    }
    try { show(); } catch (e) { arm = null; }
    addEventListener("load", post);
    addEventListener("resize", post);
    if (w.ResizeObserver) new ResizeObserver(post).observe(b);
    post();
    var a = d.querySelector(".mw-cta");
    if (a) a.addEventListener("click", function () { beacon("click"); });
    if (d.querySelector(".mw")) {
      if (w.IntersectionObserver) {
        var o = new IntersectionObserver(function (e) {
          if (e[0].isIntersecting) { o.disconnect(); beacon("impression"); }
        }, { threshold: 0.5 });
        o.observe(b);
      } else beacon("impression");
    }
  } catch (e) {}
})(window, document);
"""
SHARED = re.compile(r"(?ms)^[ \t]*// <shared>.*?\n(.*?)^[ \t]*// </shared>")


def frame_script(widget_source: str | None = None) -> str:
    """The iframe page's script: FRAME_SOURCE with widget.js's shared code (visitor id, pick) put in, compacted."""
    text = SOURCE.read_text(encoding="utf-8") if widget_source is None else widget_source
    shared = SHARED.search(text)
    if shared is None:
        raise ValueError("widget.js has no // <shared> ... // </shared> block for the iframe page's script")
    return compact(FRAME_SOURCE.replace('"__MW_SHARED__";', shared.group(1))).strip()


@dataclass(frozen=True)
class Asset:
    body: bytes
    gzipped: bytes
    version: str  # content hash: ETag and versioned file name


def build_widget_js(source: str | None = None, stale_limit: int = 1800) -> Asset:
    """widget.js filled in; `stale_limit`: WIDGET_STALE_LIMIT_SECONDS, a page's default `data-stale-limit`."""
    text = SOURCE.read_text(encoding="utf-8") if source is None else source
    head, sep, code = text.partition("*/")  # the header names the placeholders: they are filled in the code only
    code = compact(code)
    code = code.replace('"__MW_CSS__"', json.dumps(markup.stylesheet()))
    code = code.replace('"__MW_VALUETEXT__"', json.dumps(markup.VALUETEXT, ensure_ascii=False))
    code = code.replace('"__MW_LABELS__"', json.dumps(markup.LABELS, ensure_ascii=False))
    code = code.replace('"__MW_APPEAL__"', json.dumps(builtin.APPEAL, ensure_ascii=False))
    code = code.replace('"__MW_STALE__"', str(int(stale_limit)))
    body = (head + sep + code).encode("utf-8")
    return Asset(body=body, gzipped=gzip.compress(body, compresslevel=9, mtime=0),
                 version=hashlib.sha256(body).hexdigest()[:16])


def compact(text: str) -> str:
    """Code without its comments and indentation: whole-line `//` and `/* */` comments, ` // ` comments after a
    statement, leading blanks. Line breaks stay (no change to automatic semicolons)."""
    text = re.sub(r"(?ms)^[ \t]*/\*.*?\*/[ \t]*\n", "", text)
    text = re.sub(r"(?m)^[ \t]*//.*\n", "", text)
    text = re.sub(r"(?m)(?<=[;{},)])[ \t]+//[ \t].*$", "", text)
    return re.sub(r"(?m)^[ \t]+", "", text)


def csp_hash(script: str) -> str:
    """'sha256-...' source for a Content-Security-Policy that allows exactly this inline script."""
    return "'sha256-" + base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode() + "'"


def frame_ancestors(allowed_origins: list[str]) -> str:
    """CSP frame-ancestors from WIDGET_ALLOWED_ORIGINS ('*' allows every page to frame the bar)."""
    if not allowed_origins or "*" in allowed_origins:
        return "frame-ancestors *"
    safe = [o for o in allowed_origins if o and not any(c in o for c in " ;,'\"")]
    return "frame-ancestors " + (" ".join(safe) or "'none'")


FRAME_SCRIPT = frame_script()  # built from the packaged widget.js, once per process
