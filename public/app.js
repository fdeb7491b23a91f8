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

  // "Copy" buttons: data-copy names the element whose text goes to the clipboard. A
  // disabled button (a preview being replaced) copies nothing.
  document.addEventListener('click', function (evt) {
    var button = evt.target.closest && evt.target.closest('[data-copy]');
    if (!button || button.disabled) return;
    var source = document.querySelector(button.getAttribute('data-copy'));
    if (!source || !navigator.clipboard) return;
    navigator.clipboard.writeText(source.textContent).then(function () {
      button.textContent = 'Copied';
      setTimeout(function () { button.textContent = 'Copy'; }, 1500);
    });
  });

  // A form's answers. data-answer names the element beside the submit button that shows
  // every answer the form does not swap in itself: a 422 replaces the form (with its error
  // summary); anything else (403, 409, 413, 429, 5xx, or no answer) is said there.
  function answerLine(elt) {
    var form = elt && elt.closest && elt.closest('[data-answer]');
    return form ? document.querySelector(form.getAttribute('data-answer')) : null;
  }
  function say(line, message) {
    line.textContent = message;
  }
  function answerText(xhr) {
    var status = xhr.status;
    var doc = new DOMParser().parseFromString(xhr.responseText || '', 'text/html');
    var message = doc.querySelector('[data-flash-message]');
    var code = doc.querySelector('[data-flash-code]');
    if (message) return message.textContent.trim() + (code ? ' (' + code.textContent.trim() + ')' : '');
    return 'The dashboard answered HTTP ' + status + (xhr.statusText ? ' (' + xhr.statusText + ')' : '') +
      '. Submitting again is safe: the form never creates a second session for one submission.';
  }
  document.addEventListener('htmx:beforeRequest', function (evt) {
    var line = answerLine(evt.detail.elt);
    if (line) say(line, '');
  });
  document.addEventListener('htmx:beforeSwap', function (evt) {
    var xhr = evt.detail.xhr;
    var line = answerLine(evt.detail.requestConfig && evt.detail.requestConfig.elt);
    if (!line || (xhr.status >= 200 && xhr.status < 300) || xhr.status === 422) return;
    // Said here, so not swapped, and not an unhandled error for htmx to log either.
    evt.detail.shouldSwap = false;
    evt.detail.isError = false;
    say(line, answerText(xhr));
  });
  function noAnswer(evt) {
    var line = answerLine(evt.detail.elt);
    if (line) say(line, 'No answer from the dashboard (the network or the server is down). Submitting again is safe: the form never creates a second session for one submission.');
  }
  document.addEventListener('htmx:sendError', noAnswer);
  document.addEventListener('htmx:timeout', noAnswer);

  // After a swap, an element marked data-focus-after-swap (a form's error summary) takes
  // the focus, so keyboard and screen-reader users land on what went wrong.
  document.addEventListener('htmx:afterSettle', function (evt) {
    var root = evt.detail && evt.detail.elt;
    var target = root && root.querySelector ? root.querySelector('[data-focus-after-swap]') : null;
    if (!target || !document.body.contains(target)) return;
    target.removeAttribute('data-focus-after-swap');
    target.focus();
  });

  // The terminal preview of a form (data-preview). Every edit bumps the form's revision and
  // disables the preview's Copy buttons; an answer asked for an older revision is dropped
  // (a newer request is on its way), so Copy never gives text the form no longer shows.
  // Only a real change of the values counts: the change event a text field fires when it
  // loses focus (say, to a click on Copy) repeats what its input events already said, and
  // must not disable the button being clicked.
  var formRevision = 0;
  var formValues = null;
  function previewOf(form) {
    var sel = form && form.getAttribute && form.getAttribute('data-preview');
    return sel ? document.querySelector(sel) : null;
  }
  function formEdited(evt) {
    var form = evt.target && evt.target.closest && evt.target.closest('form[data-preview]');
    var preview = previewOf(form);
    if (!preview) return;
    var values = new URLSearchParams(new FormData(form)).toString();
    if (values === formValues) return;
    formValues = values;
    formRevision++;
    preview.setAttribute('aria-busy', 'true');
    preview.querySelectorAll('[data-copy]').forEach(function (b) { b.disabled = true; });
  }
  document.addEventListener('input', formEdited, true);
  document.addEventListener('change', formEdited, true);
  document.addEventListener('htmx:beforeRequest', function (evt) {
    if (previewRequest(evt.detail.elt)) evt.detail.xhr.dfFormRevision = formRevision;
  });
  document.addEventListener('htmx:beforeSwap', function (evt) {
    if (!previewRequest(evt.detail.requestConfig && evt.detail.requestConfig.elt)) return;
    if (evt.detail.xhr.dfFormRevision !== formRevision) evt.detail.shouldSwap = false;
  });
  // An edit made while a preview was being swapped in can reach no trigger (the old element's
  // listeners are gone, the new one's not yet there): if the swapped-in preview is older
  // than the form, ask again, or Copy would stay disabled on stale text.
  document.addEventListener('htmx:afterSettle', function (evt) {
    var xhr = evt.detail.xhr;
    if (!xhr || !previewRequest(evt.detail.elt) || xhr.dfFormRevision === undefined || xhr.dfFormRevision === formRevision) return;
    if (window.htmx) window.htmx.trigger(document.body, 'change');
  });

  // A preview that could not be fetched (a form too long for a URL, the server down) says
  // so, is not replaced by the error, and keeps Copy disabled: its text is not the form's.
  function previewFailed(preview, status) {
    var note = preview.querySelector('[data-preview-problem]');
    if (note) note.textContent = 'The preview could not be updated (' + (status ? 'HTTP ' + status : 'no answer') + '); what the form submits is not affected.';
  }
  document.addEventListener('htmx:beforeSwap', function (evt) {
    var elt = evt.detail.requestConfig && evt.detail.requestConfig.elt;
    var status = evt.detail.xhr.status;
    if (!previewRequest(elt) || (status >= 200 && status < 300)) return;
    evt.detail.shouldSwap = false;
    evt.detail.isError = false;
    if (evt.detail.xhr.dfFormRevision === formRevision) previewFailed(elt, status);
  });
  document.addEventListener('htmx:sendError', function (evt) {
    if (previewRequest(evt.detail.elt) && evt.detail.xhr.dfFormRevision === formRevision) previewFailed(evt.detail.elt, 0);
  });
  function previewRequest(elt) {
    var form = document.querySelector('form[data-preview]');
    return Boolean(elt && form && previewOf(form) === elt);
  }

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
