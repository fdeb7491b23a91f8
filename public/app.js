// The dashboard's only script of its own (htmx does the rest). It keeps the live badge
// honest about the event stream, and polls the page only while the stream is down, as a
// fallback. No inline scripts exist anywhere, so the CSP can forbid them.
(function () {
  'use strict';
  var POLL_AFTER_MS = 5000;
  var POLL_EVERY_MS = 10000;
  var pollDelay = null;
  var pollTimer = null;

  function setBadge(state, detail) {
    var el = document.getElementById('live-badge');
    if (!el) return;
    el.dataset.state = state;
    var text = el.querySelector('.live-text');
    if (text) text.textContent = state;
    if (detail) el.title = detail;
  }

  function poll() {
    if (!window.htmx) return;
    window.htmx.ajax('GET', window.location.pathname + window.location.search, { target: '#main', select: '#main', swap: 'outerHTML' });
  }

  function stopPolling() {
    clearTimeout(pollDelay);
    clearInterval(pollTimer);
    pollDelay = null;
    pollTimer = null;
  }

  // The session list is filtered per viewer, so the stream sends only a stamp with the
  // store's session revision; a list rendered at an older revision re-fetches itself.
  // A refresh already under way covers changes that arrive meanwhile (checked again after).
  var refreshing = false;
  function refreshSessions() {
    var stamp = document.getElementById('sessions-stamp');
    var list = document.getElementById('sessions-results');
    if (!stamp || !list || !window.htmx || refreshing) return;
    if (stamp.dataset.revision === list.dataset.revision) return;
    refreshing = true;
    window.htmx
      .ajax('GET', list.dataset.self, { target: '#sessions-results', swap: 'outerHTML' })
      .finally(function () {
        refreshing = false;
        setTimeout(refreshSessions, 1000);
      });
  }
  document.addEventListener('htmx:oobAfterSwap', function (evt) {
    if (evt.detail && evt.detail.target && evt.detail.target.id === 'sessions-stamp') refreshSessions();
  });

  // "Copy" buttons: data-copy names the element whose text goes to the clipboard.
  document.addEventListener('click', function (evt) {
    var button = evt.target.closest && evt.target.closest('[data-copy]');
    if (!button) return;
    var source = document.querySelector(button.getAttribute('data-copy'));
    if (!source || !navigator.clipboard) return;
    navigator.clipboard.writeText(source.textContent).then(function () {
      button.textContent = 'Copied';
      setTimeout(function () { button.textContent = 'Copy'; }, 1500);
    });
  });

  // A followed runner log only grows: keep its newest part on the page (the whole log is a
  // link away). The server caps each chunk; this caps what piles up in a page left open.
  var LOG_MAX_CHARS = 512 * 1024;
  document.addEventListener('htmx:oobAfterSwap', function (evt) {
    var lines = evt.detail && evt.detail.target;
    if (!lines || !lines.hasAttribute || !lines.hasAttribute('data-log-lines')) return;
    var total = lines.textContent.length;
    while (total > LOG_MAX_CHARS && lines.firstChild && lines.firstChild !== lines.lastChild) {
      total -= lines.firstChild.textContent.length;
      lines.removeChild(lines.firstChild);
    }
  });

  // Times: the server renders <time datetime data-relative> with a relative text as of its
  // render, once for every viewer. Here each viewer gets the absolute time in its own zone
  // on hover, and relative texts that stay true while the page is open, also in fragments
  // swapped in later (htmx swaps, out-of-band swaps from the stream).
  // Same rules as relativeTime() in src/http/format.ts: keep them together.
  var TIME_REFRESH_MS = 5000;
  var timesQueued = false;
  var localTime = new Intl.DateTimeFormat(undefined, {
    year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit', timeZoneName: 'short',
  });
  function relativeTime(at, now) {
    var delta = now - at;
    var s = Math.floor(Math.abs(delta) / 1000);
    if (s < 10) return 'just now';
    var text;
    if (s < 60) text = s + ' s';
    else if (s < 3600) text = Math.floor(s / 60) + ' min';
    else if (s < 86400) text = Math.floor(s / 3600) + ' h';
    else text = Math.floor(s / 86400) + ' d';
    return delta < 0 ? 'in ' + text : text + ' ago';
  }
  function refreshTimes() {
    timesQueued = false;
    var now = Date.now();
    var times = document.querySelectorAll('time[data-relative]');
    for (var i = 0; i < times.length; i++) {
      var el = times[i];
      var at = Date.parse(el.getAttribute('datetime'));
      if (isNaN(at)) continue;
      // Written only when they change: these nodes may sit in live regions.
      var text = relativeTime(at, now);
      if (el.textContent !== text) el.textContent = text;
      if (el.dataset.localFor !== el.getAttribute('datetime')) {
        el.title = localTime.format(at);
        el.dataset.localFor = el.getAttribute('datetime');
      }
    }
  }
  // Once per burst of swaps (an SSE message may swap many regions), as soon as they are done.
  function queueTimes() {
    if (timesQueued) return;
    timesQueued = true;
    Promise.resolve().then(refreshTimes);
  }
  ['htmx:afterSwap', 'htmx:oobAfterSwap', 'htmx:sseMessage', 'htmx:historyRestore'].forEach(function (name) {
    document.addEventListener(name, queueTimes);
  });
  window.addEventListener('pageshow', queueTimes);
  document.addEventListener('visibilitychange', function () { if (!document.hidden) queueTimes(); });
  setInterval(function () { if (!document.hidden) refreshTimes(); }, TIME_REFRESH_MS);
  refreshTimes();

  document.addEventListener('htmx:sseOpen', function () {
    stopPolling();
    // The server's snapshot follows at once and carries its own badge (live or stale).
    setBadge('live', 'receiving live updates');
  });

  document.addEventListener('htmx:sseError', function () {
    setBadge('reconnecting', 'the live connection dropped; reconnecting');
    if (pollDelay || pollTimer) return;
    pollDelay = setTimeout(function () {
      pollDelay = null;
      pollTimer = setInterval(poll, POLL_EVERY_MS);
      poll();
    }, POLL_AFTER_MS);
  });
})();
