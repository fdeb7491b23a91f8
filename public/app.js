// The dashboard's only script of its own (htmx does the rest): it keeps the live badge
// honest about the event stream. No inline scripts exist, so the CSP can forbid them.
(function () {
  'use strict';
  function badge() {
    return document.getElementById('live-badge');
  }
  function setState(state, detail) {
    var el = badge();
    if (!el) return;
    el.dataset.state = state;
    var text = el.querySelector('.live-text');
    if (text) text.textContent = state;
    if (detail !== undefined) el.title = detail;
  }
  document.addEventListener('htmx:sseOpen', function () {
    setState('live', 'receiving live updates');
  });
  document.addEventListener('htmx:sseError', function () {
    setState('reconnecting', 'the live connection dropped; reconnecting');
  });
  // The server tells when its own view of the cluster is stale (a watch is failing).
  document.addEventListener('htmx:sseMessage', function (evt) {
    var detail = evt.detail || {};
    if (detail.type === 'sync') {
      var data = String(detail.data || '');
      setState(data.indexOf('stale') === 0 ? 'stale' : 'live', data);
    }
  });
})();
