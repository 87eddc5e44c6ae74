/* The search page: a small accessible interface over Pagefind's JS API
   (pagefind/pagefind.js, built by Postil: builder/search.py).

   Everything a query or an index gives is shown as text (textContent), never as
   markup, except the <mark> elements of an excerpt, rebuilt one by one: a query
   such as ?q=<img src=x onerror=…> is only ever text. */
(function () {
  "use strict";
  var form = document.getElementById("search");
  if (!form) return;
  var input = document.getElementById("search-q");
  var sort = document.getElementById("search-sort");
  var status = document.getElementById("search-status");
  var list = document.getElementById("search-results");
  var more = document.getElementById("search-more");
  var filtersArea = document.getElementById("search-filters");
  var facets = document.getElementById("search-facets");
  var PAGE = 10;
  // The facets, in the order shown, with their labels.
  var FACETS = [["entity", "Entity"], ["type", "Entity type"], ["tag", "Tag"],
                ["author", "Author"], ["publication", "Publication"], ["year", "Year"]];

  var params = new URLSearchParams(location.search);
  input.value = params.get("q") || "";
  if (params.get("sort")) sort.value = params.get("sort");

  if (location.protocol === "file:") {  // browsers refuse to load the index from disk
    document.getElementById("search-offline").hidden = false;
    say("Search needs a web server: see the note above.");
    return;
  }

  var root = new URL(document.body.dataset.root || "./", location.href);
  var bundle = new URL(form.dataset.bundle, location.href);
  var pagefind = null, loading = null, shown = [], results = [], serial = 0;
  var entry = null;  // the text of the index's pagefind-entry.json when it was loaded
  var boxes = {};  // facet → value → checkbox

  function say(text) { status.textContent = text; }

  function entryText() {
    return fetch(new URL("pagefind-entry.json", bundle).href, { cache: "no-cache" })
      .then(function (response) { return response.ok ? response.text() : null; });
  }

  function fresh() {
    // A rebuild (a redeploy, or postil serve's index a moment after a save) gives the
    // index's chunks new names and removes the old: a page still reading the index it
    // loaded would answer "No results". So each search first checks the entry file
    // (a few hundred bytes) and loads the index anew if it changed.
    if (!loading) return load();
    return loading.then(entryText).then(function (text) {
      if (text === null || entry === null || text === entry) return;
      var old = pagefind;
      loading = null; pagefind = null;
      return Promise.resolve(old && old.destroy && old.destroy()).then(load);
    }, function () { return loading; });
  }

  function load() {
    if (!loading) {
      entryText().then(function (text) { entry = text; }, function () {});
      loading = import(bundle.href).then(function (module) {
        pagefind = module;
        // Result URLs are site paths ("/articles/x/"): prefix the site's own path, so
        // they work under a sub-path and in a preview alike.
        return pagefind.options({ baseUrl: root.pathname, excerptLength: 30 });
      }).then(function () { return pagefind.filters(); }).then(function (all) {
        buildFacets(all || {});
      });
    }
    return loading;
  }

  function selected() {
    var filters = {}, any = false;
    FACETS.forEach(function (facet) {
      var values = [];
      Object.keys(boxes[facet[0]] || {}).forEach(function (value) {
        if (boxes[facet[0]][value].checked) values.push(value);
      });
      if (values.length) { filters[facet[0]] = { any: values }; any = true; }
    });
    return any ? filters : null;
  }

  function buildFacets(all) {
    var was = selected() || {};  // kept when the index is loaded anew
    facets.textContent = "";
    boxes = {};
    FACETS.forEach(function (facet) {
      var values = Object.keys(all[facet[0]] || {});
      if (!values.length) return;
      values.sort(function (a, b) { return a.localeCompare(b); });
      if (facet[0] === "year") values.reverse();
      // Each facet folds away (<details>): the results stay near the query.
      var details = document.createElement("details");
      var summary = document.createElement("summary");
      summary.textContent = facet[1];
      details.appendChild(summary);
      var fieldset = document.createElement("fieldset");
      var legend = document.createElement("legend");
      legend.className = "visually-hidden";
      legend.textContent = facet[1];
      fieldset.appendChild(legend);
      var ul = document.createElement("ul");
      ul.setAttribute("role", "list");
      boxes[facet[0]] = {};
      values.forEach(function (value, i) {
        var li = document.createElement("li");
        var box = document.createElement("input");
        box.type = "checkbox";
        box.id = "f-" + facet[0] + "-" + i;
        box.value = value;
        box.dataset.facet = facet[0];
        box.checked = (was[facet[0]] ? was[facet[0]].any : []).indexOf(value) >= 0;
        var label = document.createElement("label");
        label.htmlFor = box.id;
        var name = document.createElement("span");
        name.textContent = value;
        var count = document.createElement("span");
        count.className = "count";
        label.appendChild(name);
        label.appendChild(document.createTextNode(" "));
        label.appendChild(count);
        li.appendChild(box);
        li.appendChild(label);
        ul.appendChild(li);
        boxes[facet[0]][value] = box;
      });
      fieldset.appendChild(ul);
      details.appendChild(fieldset);
      facets.appendChild(details);
    });
    filtersArea.hidden = !facets.firstChild;
  }

  function showCounts(counts) {
    FACETS.forEach(function (facet) {
      var known = boxes[facet[0]] || {}, found = (counts || {})[facet[0]] || {};
      Object.keys(known).forEach(function (value) {
        var n = found[value] || 0;
        var box = known[value];
        box.nextSibling.lastChild.textContent = "(" + n + ")";
        box.parentNode.classList.toggle("empty", n === 0 && !box.checked);
      });
    });
  }

  function excerpt(html) {
    // Pagefind escapes the text and adds <mark>; keep exactly text and <mark>, parsed
    // inert (a <template> runs nothing and loads nothing).
    var template = document.createElement("template");
    template.innerHTML = html || "";
    var out = document.createDocumentFragment();
    template.content.childNodes.forEach(function (node) {
      if (node.nodeType === 3) out.appendChild(document.createTextNode(node.textContent));
      else if (node.nodeName === "MARK") {
        var mark = document.createElement("mark");
        mark.textContent = node.textContent;
        out.appendChild(mark);
      } else out.appendChild(document.createTextNode(node.textContent || ""));
    });
    return out;
  }

  function item(data) {
    var li = document.createElement("li");
    li.className = "search-result";
    var h = document.createElement("h3");
    var a = document.createElement("a");
    a.href = data.url;
    a.textContent = (data.meta && data.meta.title) || data.url;
    h.appendChild(a);
    li.appendChild(h);
    var bits = [];
    if (data.meta && data.meta.kind) bits.push(data.meta.kind);
    if (data.meta && data.meta.date) bits.push(data.meta.date);
    if (data.meta && data.meta.publication) bits.push(data.meta.publication);
    if (bits.length) {
      var meta = document.createElement("p");
      meta.className = "meta";
      meta.textContent = bits.join(" · ");
      li.appendChild(meta);
    }
    var p = document.createElement("p");
    p.className = "excerpt";
    p.appendChild(excerpt(data.excerpt));
    li.appendChild(p);
    return li;
  }

  function showMore() {
    var next = results.slice(shown.length, shown.length + PAGE);
    var mine = serial;
    return Promise.all(next.map(function (r) { return r.data(); })).then(function (datas) {
      if (mine !== serial) return;
      datas.forEach(function (data) { shown.push(data); list.appendChild(item(data)); });
      more.hidden = shown.length >= results.length;
    });
  }

  function remember(query) {
    var url = new URL(location.href);
    if (query) url.searchParams.set("q", query); else url.searchParams.delete("q");
    if (sort.value) url.searchParams.set("sort", sort.value); else url.searchParams.delete("sort");
    history.replaceState(null, "", url.href);
  }

  function run() {
    var query = input.value.trim(), mine = ++serial, filters = selected();
    remember(query);
    if (!query && !filters) {
      list.textContent = "";
      more.hidden = true;
      results = []; shown = [];
      return load().then(function () { showCounts(null); say(""); }, unavailable(mine));
    }
    var options = {};
    if (filters) options.filters = filters;
    if (sort.value) options.sort = { date: sort.value === "date-asc" ? "asc" : "desc" };
    return fresh().then(function () {
      return pagefind.search(query || null, options);
    }).then(function (search) {
      if (mine !== serial || !search) return;
      results = search.results; shown = [];
      list.textContent = "";
      showCounts(search.filters);
      var n = results.length;
      var about = query ? " for \u201c" + query + "\u201d" : "";
      return showMore().then(function () {  // announced once the results are there
        if (mine !== serial) return;
        say(n === 0 ? "No results" + about + "." :
          n + (n === 1 ? " result" : " results") + about + (filters ? ", filtered" : "") + ".");
      });
    }).catch(unavailable(mine));
  }

  function unavailable(mine) {
    // No index at all (pagefind-entry.json is missing) is a site with nothing to index
    // yet, or one published without its pagefind/ folder: not a failure to load.
    return function () {
      return entryText().catch(function () { return ""; }).then(function (text) {
        if (mine !== serial) return;
        say(text === null ? "Search is not available: this site has no search index " +
            "(an archive with no articles yet has none)." :
            "Search is not available: the index could not be loaded.");
      });
    };
  }

  var timer = null;
  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(run, 250);
  });
  input.addEventListener("focus", function () { load().catch(function () {}); });
  form.addEventListener("submit", function (event) { event.preventDefault(); clearTimeout(timer); run(); });
  sort.addEventListener("change", run);
  facets.addEventListener("change", function (event) {
    if (event.target.dataset && event.target.dataset.facet) run();
  });
  more.addEventListener("click", function () {
    var first = shown.length;
    showMore().then(function () {  // keyboard users land on the first new result
      var link = list.children[first] && list.children[first].querySelector("a");
      if (link) link.focus();
    });
  });

  run();
})();
