"""The script the preview server adds to HTML responses, and how it is added.

Only responses are changed: the built files (and ``postil build`` output)
never contain the script. The tag loads ``/__postil/live.js`` rather than
inlining it, so a theme's Content-Security-Policy of ``script-src 'self'``
does not silently disable reloading.

What the script does, over Server-Sent Events from ``/__postil/events``:

* every message is the whole state of the server as this tab needs it (see
  :meth:`builder.serve.live.LiveSite.state_for`), so a message that is lost
  or a reconnection after a restart can never leave a stale page: the tab
  compares the state with what it was served and reloads if its own page,
  the server or an embedded asset (script, image, font) changed;
* when only stylesheets changed it swaps the ``<link>`` elements in place
  (new link first, old one removed once the new one loaded: no flash);
* it shows build errors in an overlay and removes it when they are gone;
* a tab that is hidden closes its stream (browsers allow only six HTTP/1.1
  connections per host, and every open stream holds one) and checks again
  when shown.
"""

from __future__ import annotations

import re
from html import escape

SCRIPT_PATH = "/__postil/live.js"
EVENTS_PATH = "/__postil/events"
OVERLAY_ID = "postil-error-overlay"

LIVE_JS = r"""// Postil preview: live reload, stylesheet swap and build-error overlay.
(function () {
  "use strict";
  var me = document.currentScript;
  if (!me || window.__postil || !window.EventSource) return;
  var data = me.dataset;
  var live = window.__postil = {
    server: data.server, page: data.page, css: Number(data.css),
    assets: Number(data.assets), connected: false, errors: [], swaps: 0
  };
  var source = null, timer = 0, delay = 250, hidden = "";

  function connect() {
    timer = 0;
    if (source || live.reloading || document.visibilityState === "hidden") return;
    source = new EventSource(data.events + "?page=" + encodeURIComponent(location.pathname) +
                             "&hash=" + encodeURIComponent(live.page));
    source.addEventListener("state", function (event) {
      delay = 250;
      live.connected = true;
      apply(JSON.parse(event.data));
    });
    source.onerror = function () {  // server gone or restarting: try again, backing off
      drop();
      if (!timer) {
        timer = setTimeout(connect, delay);
        delay = Math.min(delay * 2, 2000);
      }
    };
  }

  function drop() {
    if (source) source.close();
    source = null;
    live.connected = false;
  }

  function reload() {
    live.reloading = true;
    drop();
    location.reload();
  }

  function apply(state) {
    if (state.server !== live.server || state.page !== live.page ||
        state.assets !== live.assets) return reload();
    if (state.css !== live.css) {
      swapCss(state.css === live.css + 1 ? state.cssPaths : null);
      live.css = state.css;
    }
    showErrors(state.errors || []);
  }

  function swapCss(paths) {
    var links = Array.prototype.slice.call(
      document.querySelectorAll('link[rel~="stylesheet"][href]'));
    var mine = links.filter(function (link) {
      return new URL(link.href, location.href).origin === location.origin;
    });
    var chosen = !paths ? mine : mine.filter(function (link) {
      return paths.indexOf(decodeURIComponent(new URL(link.href, location.href).pathname)) >= 0;
    });
    if (!chosen.length) chosen = mine;  // a file they @import changed
    chosen.forEach(function (link) {
      var url = new URL(link.href, location.href);
      url.searchParams.set("postil", String(Date.now()));
      var fresh = link.cloneNode(false);
      fresh.href = url.href;
      fresh.onload = fresh.onerror = function () { link.remove(); };
      link.after(fresh);
    });
    live.swaps += 1;
  }

  var BOX = "all:initial;position:fixed;z-index:2147483647;left:1rem;right:1rem;top:1rem;" +
    "max-height:70vh;overflow:auto;box-sizing:border-box;padding:1rem 1.25rem;" +
    "background:#fff5f5;color:#1a1a1a;border:2px solid #c00;border-radius:6px;" +
    "box-shadow:0 6px 30px rgba(0,0,0,.35);font:14px/1.5 system-ui,sans-serif;";
  var LIST = "all:initial;display:block;margin:.75rem 0 0;padding:0;white-space:pre-wrap;" +
    "font:13px/1.5 ui-monospace,Menlo,Consolas,monospace;color:#600;";
  var BUTTON = "all:initial;float:right;cursor:pointer;font:13px system-ui,sans-serif;" +
    "padding:.1rem .6rem;border:1px solid #c00;border-radius:4px;color:#c00;background:#fff;";

  function showErrors(errors) {
    live.errors = errors;
    // The page served before any build succeeded lists the errors itself, and there is
    // no last good build to speak of: no overlay over it (it reloads when they change).
    if (data.errorPage) return;
    var box = document.getElementById(%(overlay_id)s);
    var key = errors.join("\n");
    if (!errors.length || key === hidden) {
      if (box) box.remove();
      if (!errors.length) hidden = "";
      return;
    }
    if (box && box.dataset.key === key) return;
    var parent = document.body || document.documentElement;
    if (!box) {
      box = document.createElement("div");
      box.id = %(overlay_id)s;
      box.setAttribute("role", "alert");
      box.style.cssText = BOX;
      parent.appendChild(box);
    }
    box.dataset.key = key;
    box.textContent = "";
    var close = document.createElement("button");
    close.type = "button";
    close.textContent = "Hide";
    close.style.cssText = BUTTON;
    close.onclick = function () { hidden = key; box.remove(); };
    var title = document.createElement("strong");
    title.textContent = "Postil: the site failed to build. ";
    title.style.cssText = "all:initial;font:700 15px system-ui,sans-serif;color:#c00;";
    var note = document.createElement("span");
    note.textContent = "This page shows the last good build; it updates by itself " +
      "once the problem is fixed.";
    note.style.cssText = "all:initial;font:14px system-ui,sans-serif;color:#1a1a1a;";
    var list = document.createElement("ul");
    list.className = "postil-problems";
    list.style.cssText = LIST;
    errors.forEach(function (line) {
      var item = document.createElement("li");
      item.textContent = line;
      item.style.cssText = "all:initial;display:block;font:inherit;color:inherit;";
      list.appendChild(item);
    });
    box.append(close, title, note, list);
  }

  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") drop();
    else { delay = 250; connect(); }
  });
  window.addEventListener("pagehide", drop);
  window.addEventListener("pageshow", function (event) { if (event.persisted) connect(); });
  connect();
})();
""".replace("%(overlay_id)s", f'"{OVERLAY_ID}"')

_BODY_END = re.compile(rb"</body\s*>", re.IGNORECASE)
_HTML_END = re.compile(rb"</html\s*>", re.IGNORECASE)


def script_tag(attributes: dict[str, str | int]) -> bytes:
    """``<script src=live.js data-…>``: what the tab was served, for the script to compare."""
    data = "".join(f' data-{name}="{escape(str(value))}"' for name, value in attributes.items())
    return f'<script src="{SCRIPT_PATH}" data-events="{EVENTS_PATH}"{data}></script>'.encode()


def inject(html: bytes, tag: bytes) -> bytes:
    """Add ``tag`` before the last ``</body>``, else the last ``</html>``, else at the end.

    Not in ``<head>``: a page may have none (Jekyll's reload silently does
    nothing without one), and a script after ``</html>`` still runs, so
    every page gets it. The last ``</body>`` is the document's own even if an
    inline script mentions the string earlier.
    """
    for pattern in (_BODY_END, _HTML_END):
        match = None
        for match in pattern.finditer(html):  # noqa: B007 - want the last one
            pass
        if match is not None:
            return html[:match.start()] + tag + html[match.start():]
    return html + b"\n" + tag
