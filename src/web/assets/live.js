// tocsin's live updates: follows /app/events (server-sent events) and keeps the state
// badges on the page current; when monitors are added or removed, fetches the list again.
// No library, nothing from another origin.
"use strict";
(function () {
  if (!window.EventSource) return;
  var source = new EventSource("/app/events");

  function setState(id, state) {
    var badges = document.querySelectorAll('[data-state-of="' + id + '"]');
    for (var i = 0; i < badges.length; i++) {
      var badge = badges[i];
      // A paused monitor shows "paused" until it is resumed (a "state" event says so).
      badge.textContent = state;
      badge.className = "state state-" + state;
    }
  }

  // Many monitors added at once (an import) send many events: fetch once for a burst.
  var pending = null;
  function refreshSoon() {
    if (pending) return;
    pending = setTimeout(function () { pending = null; refreshList(); }, 300);
  }

  function refreshList() {
    var list = document.getElementById("monitors");
    if (!list) return;
    fetch(window.location.href, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("monitors");
        if (fresh) list.replaceChildren.apply(list, Array.prototype.slice.call(fresh.childNodes));
      })
      .catch(function () { /* the next event tries again */ });
  }

  source.addEventListener("state", function (e) {
    try {
      var data = JSON.parse(e.data);
      setState(data.id, data.state);
    } catch (err) { /* not for us */ }
  });
  source.addEventListener("list", refreshSoon);
  source.addEventListener("reload", refreshSoon);
})();
