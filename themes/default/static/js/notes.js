/* Margin-note toggles and deep links into notes (Postil's default theme).

   Each note is <button class="sidenote-toggle" aria-expanded aria-controls="ID">Note</button>
   <span class="sidenote" id="ID">…</span> inside its paragraph. Without this script every
   note shows (style.css hides nothing until <html> has the class notes-js). With it:
   - on narrow screens a note is closed until its toggle opens it (.is-open on the note);
     on wide ones every note shows in the margin;
   - each toggle's aria-expanded says whether its note shows, and follows the screen width;
   - each toggle is named "Note 3" (aria-label), its number in the article as the style
     sheet's counter shows it ("Note" and a CSS counter, which screen readers do not read);
   - a link to a note or to anything inside one (#hl-3, #m-isi-2), followed on this page
     or arriving from elsewhere, opens the note (and the notes around it) and scrolls to it.
   It never adds or changes text: the positions of annotations.json count the page's text.
   Loaded in <head> without defer, so notes are closed before the page first shows. */
(function () {
  "use strict";
  var root = document.documentElement;
  root.classList.add("notes-js");
  var wide = window.matchMedia("(min-width: 64rem)");  /* style.css's breakpoint */

  function toggleOf(note) {
    var id = note.id;
    var before = note.previousElementSibling;
    return before && before.classList.contains("sidenote-toggle") &&
      before.getAttribute("aria-controls") === id ? before : null;
  }

  function sync(toggle) {
    var note = document.getElementById(toggle.getAttribute("aria-controls"));
    var shown = wide.matches || (note !== null && note.classList.contains("is-open"));
    toggle.setAttribute("aria-expanded", shown ? "true" : "false");
  }

  function syncAll() {
    var toggles = document.querySelectorAll(".sidenote-toggle[aria-controls]");
    for (var i = 0; i < toggles.length; i++) sync(toggles[i]);
  }

  /* Numbered per .article-body, as style.css's counter (reset there) numbers them. */
  function number() {
    var toggles = document.querySelectorAll(".sidenote-toggle[aria-controls]");
    var scope = null, count = 0;
    for (var i = 0; i < toggles.length; i++) {
      var within = toggles[i].closest(".article-body");
      if (within !== scope) {
        scope = within;
        count = 0;
      }
      count += 1;
      toggles[i].setAttribute("aria-label", "Note " + count);
    }
  }

  function setOpen(note, open) {
    note.classList.toggle("is-open", open);
    var toggle = toggleOf(note);
    if (toggle) sync(toggle);
  }

  /* Open every note that holds the element with this id; true if there was one. */
  function reveal(id) {
    var target = id ? document.getElementById(id) : null;
    var found = false;
    for (var node = target; node; node = node.parentElement) {
      if (node.classList.contains("sidenote")) {
        setOpen(node, true);
        found = true;
      }
    }
    return found ? target : null;
  }

  function fragmentOf(hash) {
    if (!hash || hash.length < 2) return "";
    try { return decodeURIComponent(hash.slice(1)); } catch (error) { return hash.slice(1); }
  }

  function samePage(link) {
    var strip = function (path) { return path.replace(/index\.html$/, ""); };
    return link.protocol === location.protocol && link.host === location.host &&
      strip(link.pathname) === strip(location.pathname);
  }

  function showHash() {
    var target = reveal(fragmentOf(location.hash));
    if (target) target.scrollIntoView({block: "center"});
  }

  document.addEventListener("click", function (event) {
    var origin = event.target;
    if (!origin || !origin.closest) return;
    var toggle = origin.closest("button.sidenote-toggle[aria-controls]");
    if (toggle) {
      var note = document.getElementById(toggle.getAttribute("aria-controls"));
      if (note && !wide.matches) setOpen(note, !note.classList.contains("is-open"));
      return;
    }
    /* A link on this page: open the note before the browser scrolls to its target (it
       cannot scroll to what does not show), and again if the hash is already the same. */
    var link = origin.closest("a[href*='#']");
    if (link && samePage(link) && reveal(fragmentOf(link.hash)) &&
        link.hash === location.hash) {
      showHash();
    }
  });
  window.addEventListener("hashchange", showHash);
  if (wide.addEventListener) wide.addEventListener("change", syncAll);
  else if (wide.addListener) wide.addListener(syncAll);
  document.addEventListener("DOMContentLoaded", function () {
    number();
    syncAll();
    showHash();
  });
})();
