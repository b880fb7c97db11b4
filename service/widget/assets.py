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

# The iframe page's only script: tells the parent its height, counts an impression when the frame is
# seen and a click on the call to action. Inline and constant, so its CSP hash is constant too.
FRAME_SCRIPT = (
    '(function(){try{var s=document.currentScript,b=document.body,slug=s.getAttribute("data-slug"),'
    'ev=s.getAttribute("data-events"),last=-1;'
    'function beacon(t){try{var l=document.querySelector(".mw"),p=JSON.stringify({type:t,'
    'locale:l?l.getAttribute("lang"):"",path:""});navigator.sendBeacon?navigator.sendBeacon(ev,p):'
    'fetch(ev,{method:"POST",body:p,keepalive:true})}catch(e){}}'
    'function post(){var h=Math.ceil(b.getBoundingClientRect().height);if(h!==last&&parent!==window){last=h;'
    'parent.postMessage({type:"membership-widget:height",slug:slug,height:h},"*")}}'
    'addEventListener("load",post);addEventListener("resize",post);'
    'if(window.ResizeObserver)new ResizeObserver(post).observe(b);post();'
    'var a=document.querySelector(".mw-cta");if(a)a.addEventListener("click",function(){beacon("click")});'
    'if(document.querySelector(".mw")){if(window.IntersectionObserver){var o=new IntersectionObserver('
    'function(e){if(e[0].isIntersecting){o.disconnect();beacon("impression")}},{threshold:0.5});o.observe(b)}'
    'else beacon("impression")}}catch(e){}})();'
)


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
