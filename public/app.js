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
