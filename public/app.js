// The dashboard's only script of its own (htmx does the rest). It keeps the live badge
// honest about the event stream, and polls the page only while the stream is down, as a
// fallback. No inline scripts exist anywhere, so the CSP can forbid them.
(function () {
  'use strict';
  var POLL_AFTER_MS = 5000;
  var POLL_EVERY_MS = 10000;
  var pollDelay = null;
  var pollTimer = null;

  // Honest connection state. "reconnecting" (the stream dropped, or the server says its
  // watches of the cluster are failing) turns into "offline — data as of hh:mm:ss, N s ago"
  // after OFFLINE_AFTER_MS, in the viewer's own time zone, and dims the live regions
  // (body[data-connection="offline"] in app.css; the CSP forbids inline styles).
  var OFFLINE_AFTER_MS = 3000;
  var streamDownAt = null; // when the event stream dropped (null: it is up)
  var polledAt = null; // the last successful fallback poll while the stream is down
  var serverDownSeenAt = null; // when this page first saw the server's "reconnecting"
  var ticker = null;

  function pad(n) { return (n < 10 ? '0' : '') + n; }
  function clock(ms) {
    var d = new Date(ms);
    return pad(d.getHours()) + ':' + pad(d.getMinutes()) + ':' + pad(d.getSeconds());
  }
  function age(ms) {
    var s = Math.max(0, Math.round(ms / 1000));
    if (s < 90) return s + ' s ago';
    var m = Math.round(s / 60);
    return m < 90 ? m + ' min ago' : Math.round(m / 60) + ' h ago';
  }

  function renderConnection() {
    var el = document.getElementById('live-badge');
    if (!el) return;
    var now = Date.now();
    var sync = el.getAttribute('data-sync') || 'live';
    var since = Date.parse(el.getAttribute('data-since') || '');
    var state = sync;
    var downSince = null;
    var asOf = null;
    if (sync === 'reconnecting') {
      if (serverDownSeenAt === null) serverDownSeenAt = now;
      downSince = isNaN(since) ? serverDownSeenAt : Math.min(since, serverDownSeenAt);
      asOf = isNaN(since) ? serverDownSeenAt : since;
    } else {
      serverDownSeenAt = null;
    }
    if (streamDownAt !== null && sync !== 'forbidden') {
      state = 'reconnecting';
      downSince = downSince === null ? streamDownAt : Math.min(downSince, streamDownAt);
      var streamAsOf = polledAt !== null ? polledAt : streamDownAt;
      asOf = asOf === null ? streamAsOf : Math.min(asOf, streamAsOf);
    }
    var text = { live: 'live', syncing: 'syncing', forbidden: 'no read access', reconnecting: 'reconnecting' }[state] || state;
    if (state === 'reconnecting' && now - downSince >= OFFLINE_AFTER_MS) {
      state = 'offline';
      text = 'offline — data as of ' + clock(asOf) + ', ' + age(now - asOf);
    }
    el.dataset.state = state;
    var label = el.querySelector('.live-text');
    if (label && label.textContent !== text) label.textContent = text;
    document.body.setAttribute('data-connection', state === 'offline' ? 'offline' : state === 'reconnecting' ? 'reconnecting' : 'live');
    // Tick while not live: the "reconnecting" → "offline" step and the age need time to pass.
    if (state === 'reconnecting' || state === 'offline') {
      if (!ticker) ticker = setInterval(renderConnection, 1000);
    } else if (ticker) {
      clearInterval(ticker);
      ticker = null;
    }
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

  // The server swapped its badge in (its watches' health changed): show it as it stands now.
  document.addEventListener('htmx:oobAfterSwap', function (evt) {
    if (evt.detail && evt.detail.target && evt.detail.target.id === 'live-badge') renderConnection();
  });
  // A fallback poll that brought the page back is data as of now, though not live.
  document.addEventListener('htmx:afterRequest', function (evt) {
    if (streamDownAt !== null && evt.detail && evt.detail.successful && evt.detail.target && evt.detail.target.id === 'main') {
      polledAt = Date.now();
      renderConnection();
    }
  });
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', renderConnection);
  else renderConnection();

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

  document.addEventListener('htmx:sseOpen', function () {
    stopPolling();
    streamDownAt = null;
    polledAt = null;
    // The server's snapshot follows at once and carries its own badge (live or reconnecting).
    renderConnection();
  });

  document.addEventListener('htmx:sseError', function () {
    if (streamDownAt === null) streamDownAt = Date.now();
    renderConnection();
    if (pollDelay || pollTimer) return;
    pollDelay = setTimeout(function () {
      pollDelay = null;
      pollTimer = setInterval(poll, POLL_EVERY_MS);
      poll();
    }, POLL_AFTER_MS);
  });
})();
