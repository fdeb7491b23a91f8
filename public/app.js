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

  // The session list changes row by row. Each live batch (src/view/session-list.ts) lands
  // in the hidden #sessions-inbox: a first row with the page's order, then the rows that
  // changed. They are moved into the table by id; a cell the viewer is in (focus, selected
  // text) is left alone until they leave it, and while they are busy in the list, new rows
  // wait behind a "N new" button instead of moving what they are reading.
  var heldRows = {}; // row id -> row waiting for the viewer to leave the list (new rows)
  var heldCells = {}; // row id -> newer row whose cells the viewer was in
  function listBusy(list) {
    var active = document.activeElement;
    if (active && active !== document.body && list.contains(active)) return true;
    var sel = window.getSelection && window.getSelection();
    return !!(sel && !sel.isCollapsed && sel.anchorNode && list.contains(sel.anchorNode));
  }
  function inUse(el) {
    var active = document.activeElement;
    if (active && el.contains(active)) return true;
    var sel = window.getSelection && window.getSelection();
    return !!(sel && !sel.isCollapsed && ((sel.anchorNode && el.contains(sel.anchorNode)) || (sel.focusNode && el.contains(sel.focusNode))));
  }
  function updateRow(old, row) {
    var cells = old.children;
    var fresh = row.children;
    var held = false;
    for (var i = 0; i < fresh.length; i++) {
      if (!cells[i]) { old.appendChild(fresh[i].cloneNode(true)); continue; }
      if (cells[i].innerHTML === fresh[i].innerHTML) continue;
      if (inUse(cells[i])) { held = true; continue; }
      cells[i].innerHTML = fresh[i].innerHTML;
    }
    old.setAttribute('data-phase', row.getAttribute('data-phase') || '');
    if (held) heldCells[row.id] = row;
    else delete heldCells[row.id];
  }
  function placeRow(tbody, order, row) {
    var at = order.indexOf(row.id);
    for (var i = at + 1; i < order.length; i++) {
      var next = document.getElementById(order[i]);
      if (next && next.parentNode === tbody) { tbody.insertBefore(row, next); return; }
    }
    tbody.appendChild(row);
  }
  var summary = { added: 0, failed: 0 };
  function say(added, failed) {
    summary.added += added;
    summary.failed += failed;
    var parts = [];
    if (summary.added) parts.push(summary.added + (summary.added === 1 ? ' new session' : ' new sessions'));
    if (summary.failed) parts.push(summary.failed + ' failed');
    var out = document.getElementById('sessions-summary');
    if (out && parts.length) out.textContent = parts.join(', ') + ' since ' + new Date().toLocaleTimeString();
  }
  function showHeldButton() {
    var button = document.getElementById('sessions-new');
    if (!button) return;
    var n = Object.keys(heldRows).length;
    button.hidden = n === 0;
    button.textContent = n === 1 ? '1 new session: show' : n + ' new sessions: show';
  }
  function applyBatch(meta, rows) {
    var results = document.getElementById('sessions-results');
    var tbody = document.getElementById('sessions-rows');
    if (!results || !tbody) return;
    // Without an order the page holds the same sessions as before: rows change in place.
    var ordered = meta.hasAttribute('data-order');
    var order = ordered ? meta.getAttribute('data-order').split(' ').filter(Boolean) : Array.prototype.map.call(tbody.children, function (r) { return r.id; });
    var inPage = {};
    order.forEach(function (id) { inPage[id] = true; });
    var busy = listBusy(results);
    var added = 0;
    var failed = 0;
    rows.forEach(function (row) {
      var old = document.getElementById(row.id);
      if (old && old.parentNode === tbody) {
        if (row.getAttribute('data-phase') === 'Failed' && old.getAttribute('data-phase') !== 'Failed') failed++;
        updateRow(old, row);
      } else if (busy && !meta.hasAttribute('data-snapshot')) {
        if (!heldRows[row.id]) added++;
        heldRows[row.id] = row;
      } else {
        placeRow(tbody, order, row);
        if (!meta.hasAttribute('data-snapshot')) added++;
      }
    });
    // Rows that left the page (deleted, or out of the filter) go, unless the viewer is in one.
    Array.prototype.slice.call(tbody.children).forEach(function (row) {
      if (!inPage[row.id] && !inUse(row)) tbody.removeChild(row);
    });
    Object.keys(heldRows).forEach(function (id) { if (!inPage[id]) delete heldRows[id]; });
    var count = tbody.children.length;
    var empty = document.getElementById('sessions-empty');
    var table = document.getElementById('sessions-table');
    if (empty) empty.hidden = count + Object.keys(heldRows).length > 0;
    if (table) table.hidden = count === 0;
    var shown = document.getElementById('sessions-shown');
    if (shown) shown.textContent = String(count);
    if (added || failed) say(added, failed);
    showHeldButton();
    updateBulk();
  }
  function releaseHeld() {
    var tbody = document.getElementById('sessions-rows');
    if (!tbody) return;
    Object.keys(heldRows).forEach(function (id) {
      // Newest first: a held row is newer than every row on the page.
      tbody.insertBefore(heldRows[id], tbody.firstChild);
      delete heldRows[id];
    });
    var table = document.getElementById('sessions-table');
    if (table) table.hidden = tbody.children.length === 0;
    showHeldButton();
  }
  function retryHeldCells() {
    Object.keys(heldCells).forEach(function (id) {
      var old = document.getElementById(id);
      if (old) updateRow(old, heldCells[id]);
      else delete heldCells[id];
    });
  }
  document.addEventListener('htmx:oobAfterSwap', function (evt) {
    var inbox = evt.detail && evt.detail.target;
    if (!inbox || inbox.id !== 'sessions-inbox') return;
    var rows = Array.prototype.slice.call(inbox.children);
    inbox.textContent = '';
    var meta = null;
    var batch = [];
    rows.forEach(function (row) {
      if (row.hasAttribute('data-list-batch')) {
        if (meta) applyBatch(meta, batch);
        meta = row;
        batch = [];
      } else {
        batch.push(row);
      }
    });
    if (meta) applyBatch(meta, batch);
  });
  // A filter or page change brings a new list: what was held belongs to the old one.
  document.addEventListener('htmx:afterSwap', function (evt) {
    if (evt.detail && evt.detail.target && evt.detail.target.id === 'sessions-results') {
      heldRows = {};
      heldCells = {};
      showHeldButton();
    }
  });
  document.addEventListener('click', function (evt) {
    if (evt.target && evt.target.id === 'sessions-new') releaseHeld();
  });
  document.addEventListener('focusout', function () { setTimeout(retryHeldCells, 0); });
  document.addEventListener('selectionchange', function () {
    if (Object.keys(heldCells).length) retryHeldCells();
  });

  // Bulk actions on /sessions. The row checkboxes live in the rows (tied to #sessions-bulk by
  // form=) and keep their state through live row updates; this keeps the toolbar's count,
  // the page's select-all box and the buttons in step, and asks before acting, naming the
  // count and the first few sessions.
  function bulkState() {
    var boxes = Array.prototype.slice.call(document.querySelectorAll('#sessions-rows .row-select'));
    var checked = boxes.filter(function (b) { return b.checked; });
    var all = document.getElementById('select-matching');
    var results = document.getElementById('sessions-results');
    var matching = results ? Number(results.getAttribute('data-matching') || 0) : 0;
    return { boxes: boxes, checked: checked, all: !!(all && all.checked), matching: matching };
  }
  function updateBulk() {
    var form = document.getElementById('sessions-bulk');
    if (!form) return;
    var st = bulkState();
    var page = document.getElementById('select-page');
    if (page) {
      page.checked = st.boxes.length > 0 && st.checked.length === st.boxes.length;
      page.indeterminate = st.checked.length > 0 && st.checked.length < st.boxes.length;
    }
    // "all N matching": offered once the whole page is selected and the filter matches more.
    var offer = st.matching > st.boxes.length && st.boxes.length > 0 && st.checked.length === st.boxes.length;
    var all = document.getElementById('select-matching');
    if (all && !offer) all.checked = false;
    var label = document.getElementById('sessions-matching');
    if (label) label.hidden = !offer;
    var count = document.getElementById('sessions-matching-count');
    if (count) count.textContent = String(st.matching);
    st = bulkState();
    var n = st.all ? st.matching : st.checked.length;
    var said = document.getElementById('sessions-selected');
    var text = n === 0 ? 'Select sessions to act on several at once.' : st.all ? 'All ' + n + ' sessions matching this filter selected.' : n + (n === 1 ? ' session selected.' : ' sessions selected.');
    if (said && said.textContent !== text) said.textContent = text;
    var fieldset = form.querySelector('fieldset');
    if (fieldset && fieldset.disabled) return; // a bulk action is in flight
    form.querySelectorAll('[data-bulk-action]').forEach(function (b) { b.disabled = n === 0; });
  }
  document.addEventListener('change', function (evt) {
    var t = evt.target;
    if (!t || !t.matches) return;
    if (t.matches('#select-page')) {
      bulkState().boxes.forEach(function (b) { b.checked = t.checked; });
      updateBulk();
    } else if (t.matches('.row-select, #select-matching')) {
      updateBulk();
    }
  });
  document.addEventListener('htmx:confirm', function (evt) {
    var elt = evt.detail && evt.detail.elt;
    var verb = elt && elt.getAttribute && elt.getAttribute('data-bulk-verb');
    if (!verb) return;
    evt.preventDefault();
    var st = bulkState();
    var names = (st.all ? st.boxes : st.checked).map(function (b) { return b.getAttribute('data-name'); });
    var n = st.all ? st.matching : st.checked.length;
    if (n === 0) return;
    var few = names.slice(0, 3).join(', ') + (n > 3 ? ' and ' + (n - 3) + ' more' : '');
    var what = st.all ? 'all ' + n + ' sessions matching this filter' : n === 1 ? '1 session' : n + ' sessions';
    if (window.confirm(verb + ' ' + what + '? ' + few + '. Each is reported on its own.')) evt.detail.issueRequest(true);
  });
  document.addEventListener('htmx:configRequest', function (evt) {
    var elt = evt.detail && evt.detail.elt;
    if (!elt || !elt.hasAttribute || !elt.hasAttribute('data-bulk-action')) return;
    // "All matching" means the list's filter as the URL holds it now.
    evt.detail.parameters.query = window.location.search.replace(/^\?/, '');
  });
  document.addEventListener('htmx:afterRequest', function (evt) {
    var elt = evt.detail && evt.detail.elt;
    if (!elt || !elt.hasAttribute || !elt.hasAttribute('data-bulk-action') || !evt.detail.successful) return;
    // Done: the selection is spent; the report says what happened to each.
    bulkState().boxes.forEach(function (b) { b.checked = false; });
    var all = document.getElementById('select-matching');
    if (all) all.checked = false;
    setTimeout(updateBulk, 0);
  });
  document.addEventListener('htmx:afterSettle', function () { updateBulk(); });
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', updateBulk);
  else updateBulk();

  // The device wall (/pools/:ns/:name/wall): frames for the busy (or picked) devices, at
  // most data-max, built from the hidden live data. A frame that stays keeps its iframe (a
  // stream is never reloaded by an update); frames of devices that leave go at once.
  function renderWall() {
    var wall = document.getElementById('device-wall');
    var data = document.querySelector('[data-wall-state]');
    if (!wall || !data) return;
    var max = Number(wall.getAttribute('data-max') || 12);
    var picked = (wall.getAttribute('data-picked') || '').split(',').filter(Boolean);
    var devices = Array.prototype.slice.call(data.querySelectorAll('[data-device]'));
    // Picked devices get a frame while they are in the pool and report a stream URL; the
    // others are named below the wall with the reason, and their frames go.
    var byName = {};
    devices.forEach(function (d) { byName[d.getAttribute('data-device')] = d; });
    var wanted = devices.filter(function (d) {
      return picked.length ? picked.indexOf(d.getAttribute('data-device')) >= 0 && d.getAttribute('data-streamable') === 'true' : d.getAttribute('data-state') === 'Busy';
    });
    var missing = document.getElementById('wall-missing');
    if (missing) {
      var synced = data.getAttribute('data-synced') === 'true';
      var left = picked.filter(function (name) { return synced && (!byName[name] || byName[name].getAttribute('data-streamable') !== 'true'); }).map(function (name) {
        return name + (byName[name] ? ' (' + byName[name].getAttribute('data-state') + ', no stream now)' : ' (not in the pool)');
      });
      var said = left.length ? 'Not on the wall: ' + left.join(', ') + '.' : '';
      if (missing.textContent !== said) missing.textContent = said;
      missing.hidden = !said;
    }
    var chosen = wanted.slice(0, max);
    var keep = {};
    chosen.forEach(function (d, i) {
      var key = d.getAttribute('data-key');
      keep[key] = true;
      var frame = document.getElementById(key);
      if (!frame) frame = wallFrame(d);
      if (wall.children[i] !== frame) wall.insertBefore(frame, wall.children[i] || null);
      var stream = d.getAttribute('data-stream');
      var iframe = frame.querySelector('iframe');
      // A new stream URL, or none any more (the reason shows instead): a new frame.
      if (stream ? !iframe || iframe.getAttribute('src') !== stream : !!iframe) {
        var fresh = wallFrame(d);
        wall.replaceChild(fresh, frame);
        frame = fresh;
      }
      frame.setAttribute('data-state', d.getAttribute('data-state'));
      frame.querySelector('.wall-state').textContent = d.getAttribute('data-state');
      var session = d.getAttribute('data-session');
      frame.querySelector('.wall-session').textContent = session ? '· ' + session : '';
    });
    Array.prototype.slice.call(wall.children).forEach(function (frame) {
      if (!keep[frame.id]) wall.removeChild(frame);
    });
    var empty = document.getElementById('wall-empty');
    if (empty) empty.hidden = chosen.length > 0 || data.getAttribute('data-synced') !== 'true';
    var summary = document.getElementById('wall-summary');
    if (summary) {
      var text = chosen.length + (chosen.length === 1 ? ' stream' : ' streams') + (wanted.length > chosen.length ? ' of ' + wanted.length + ' (at most ' + max + ')' : '');
      if (summary.textContent !== text) summary.textContent = text;
    }
  }
  function wallFrame(d) {
    var figure = document.createElement('figure');
    figure.id = d.getAttribute('data-key');
    figure.className = 'wall-frame';
    var stream = d.getAttribute('data-stream');
    var name = d.getAttribute('data-device');
    if (stream) {
      var iframe = document.createElement('iframe');
      // Sandboxed, no referrer, loaded when scrolled near: the same rules as the device page.
      iframe.setAttribute('sandbox', 'allow-scripts allow-same-origin allow-forms allow-pointer-lock');
      iframe.setAttribute('referrerpolicy', 'no-referrer');
      iframe.setAttribute('loading', 'lazy');
      iframe.setAttribute('allow', 'autoplay; fullscreen');
      iframe.setAttribute('title', 'WebRTC stream of ' + name);
      iframe.className = 'wall-video';
      iframe.setAttribute('src', stream);
      figure.appendChild(iframe);
    } else {
      var blocked = document.createElement('p');
      blocked.className = 'wall-video wall-blocked';
      blocked.textContent = 'The stream cannot be embedded: ' + (d.getAttribute('data-reason') || 'no stream URL');
      figure.appendChild(blocked);
    }
    var caption = document.createElement('figcaption');
    caption.className = 'wall-caption';
    var link = document.createElement('a');
    link.href = d.getAttribute('data-href');
    link.className = 'wall-name';
    link.textContent = name;
    var state = document.createElement('span');
    state.className = 'wall-state';
    var session = document.createElement('span');
    session.className = 'wall-session';
    caption.appendChild(link);
    caption.appendChild(state);
    caption.appendChild(session);
    figure.appendChild(caption);
    return figure;
  }
  document.addEventListener('htmx:oobAfterSwap', function (evt) {
    var target = evt.detail && evt.detail.target;
    if (target && target.hasAttribute && target.hasAttribute('data-wall-state')) renderWall();
  });
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', renderWall);
  else renderWall();

  // The runner log viewer (/sessions/:ns/:name/log). The whole log is read once with the
  // apiserver's timestamps and kept as plain data (time, text with its ANSI codes); the
  // lines are written as one block of HTML, and a search re-writes only the lines whose
  // highlights change, so 100,000 lines stay searchable without freezing the page.
  var logView = null;
  var ANSI = /\x1b\[([0-9;]*)m/g;
  var OTHER_ESCAPES = /\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][0-9A-Za-z]|[\x00-\x08\x0b-\x1f\x7f]/g;
  function escapeHtml(s) {
    return s.replace(/[&<>"]/g, function (c) { return c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : '&quot;'; });
  }
  function stripAnsi(s) { return s.replace(ANSI, '').replace(OTHER_ESCAPES, ''); }
  // SGR colours and bold become classes; every other escape is dropped, never shown raw.
  function ansiHtml(s) {
    if (s.indexOf('\x1b') < 0) return escapeHtml(s.replace(OTHER_ESCAPES, ''));
    var out = '';
    var open = false;
    var last = 0;
    var fg = '';
    var bold = false;
    s.replace(ANSI, function (m, codes, at) {
      out += escapeHtml(s.slice(last, at).replace(OTHER_ESCAPES, ''));
      last = at + m.length;
      (codes || '0').split(';').forEach(function (c) {
        var n = Number(c);
        if (n === 0) { fg = ''; bold = false; }
        else if (n === 1) bold = true;
        else if (n === 22) bold = false;
        else if (n === 39) fg = '';
        else if ((n >= 30 && n <= 37) || (n >= 90 && n <= 97)) fg = 'ansi-' + n;
      });
      if (open) out += '</span>';
      var cls = [fg, bold ? 'ansi-bold' : ''].filter(Boolean).join(' ');
      open = cls !== '';
      if (open) out += '<span class="' + cls + '">';
      return m;
    });
    out += escapeHtml(s.slice(last).replace(OTHER_ESCAPES, ''));
    if (open) out += '</span>';
    return out;
  }
  var LOG_TIME = new Intl.DateTimeFormat(undefined, { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', fractionalSecondDigits: 3, hour12: false });
  function parseLog(text) {
    var raw = text.split('\n');
    if (raw.length && raw[raw.length - 1] === '') raw.pop();
    return raw.map(parseLine);
  }
  function parseLine(line) {
    // "<RFC 3339 time> <text>" as the apiserver writes it with timestamps=true.
    var sp = line.indexOf(' ');
    var iso = sp > 0 ? line.slice(0, sp) : '';
    var at = iso ? Date.parse(iso) : NaN;
    var body = isNaN(at) ? line : line.slice(sp + 1);
    return { iso: isNaN(at) ? '' : iso, at: at, local: '', text: body, plain: stripAnsi(body) };
  }
  function lineHtml(line, i, marks) {
    var n = i + 1;
    if (!line.local && !isNaN(line.at)) line.local = LOG_TIME.format(line.at);
    return '<div id="L' + n + '" class="log-line"><a class="log-no" href="#L' + n + '">' + n + '</a><time class="log-ts" datetime="' + escapeHtml(line.iso) + '">' + escapeHtml(line.local) + '</time><span class="log-text">' + (marks ? marks : ansiHtml(line.text)) + '</span></div>';
  }
  function markedHtml(plain, ranges) {
    var out = '';
    var last = 0;
    ranges.forEach(function (r) {
      out += escapeHtml(plain.slice(last, r[0])) + '<mark>' + escapeHtml(plain.slice(r[0], r[1])) + '</mark>';
      last = r[1];
    });
    return out + escapeHtml(plain.slice(last));
  }
  function searchLog() {
    if (!logView || !logView.ready) return;
    var q = document.getElementById('log-search').value;
    var regex = document.getElementById('log-regex').checked;
    var count = document.getElementById('log-count');
    var started = performance.now();
    var re = null;
    if (q) {
      try {
        re = new RegExp(regex ? q : q.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'gi');
      } catch (err) {
        count.textContent = 'not a regular expression: ' + err.message;
        logView.re = null; // followed lines are not matched against the last good one
        return;
      }
    }
    var total = 0;
    var first = -1;
    var next = {};
    logView.lines.forEach(function (line, i) {
      if (!re) return;
      var ranges = matchRanges(re, line);
      if (ranges.length) {
        next[i] = ranges;
        total += ranges.length;
        if (first < 0) first = i;
      }
    });
    // Only lines whose highlights change are written again.
    var children = logView.nodes;
    var box = document.getElementById('log-lines');
    Object.keys(logView.marked).forEach(function (i) {
      if (!next[i]) children[i].lastChild.innerHTML = ansiHtml(logView.lines[i].text);
    });
    Object.keys(next).forEach(function (i) {
      children[i].lastChild.innerHTML = markedHtml(logView.lines[i].plain, next[i]);
    });
    logView.marked = next;
    logView.re = re;
    logView.total = total;
    sayMatches();
    if (first >= 0) children[first].scrollIntoView({ block: 'center' });
    // Measured with the layout it causes, for the page's own figure (data-search-ms).
    void box.offsetHeight;
    logView.searchMs = performance.now() - started;
    box.setAttribute('data-search-ms', String(Math.round(logView.searchMs)));
  }
  function matchRanges(re, line) {
    re.lastIndex = 0;
    var ranges = [];
    var m;
    while ((m = re.exec(line.plain)) !== null) {
      if (m[0] === '') { re.lastIndex++; continue; }
      ranges.push([m.index, m.index + m[0].length]);
      if (ranges.length > 1000) break;
    }
    return ranges;
  }
  function sayMatches() {
    var total = logView.total;
    var lines = Object.keys(logView.marked).length;
    document.getElementById('log-count').textContent = !logView.re ? '' : total === 0 ? 'no match' : total + (total === 1 ? ' match' : ' matches') + ' in ' + lines + (lines === 1 ? ' line' : ' lines');
  }
  function goToLine() {
    var m = /^#L(\d+)$/.exec(window.location.hash);
    var box = document.getElementById('log-lines');
    if (!m || !box) return;
    var prev = box.querySelector('.log-target');
    if (prev) prev.classList.remove('log-target');
    var line = document.getElementById('L' + m[1]);
    if (!line) return;
    line.classList.add('log-target');
    line.scrollIntoView({ block: 'center' });
  }
  function downloadLog() {
    if (!logView || !logView.ready) return;
    // As shown: with the viewer's timestamps when they are on, colour codes left out.
    var withTs = document.getElementById('log-timestamps').checked;
    var text = logView.lines.map(function (l) { return (withTs && l.local ? l.local + ' ' : '') + l.plain; }).join('\n') + '\n';
    var a = document.createElement('a');
    a.href = URL.createObjectURL(new Blob([text], { type: 'text/plain;charset=utf-8' }));
    a.download = document.getElementById('log-viewer').getAttribute('data-download') || 'runner.log';
    document.body.appendChild(a);
    a.click();
    setTimeout(function () { URL.revokeObjectURL(a.href); a.remove(); }, 0);
  }
  function startLogViewer() {
    var viewer = document.getElementById('log-viewer');
    if (!viewer) return;
    var state = document.getElementById('log-state');
    var box = document.getElementById('log-lines');
    fetch(viewer.getAttribute('data-source'), { headers: { Accept: 'text/plain' } }).then(function (res) {
      return res.text().then(function (text) {
        if (!res.ok) {
          var message = text;
          try { var e = JSON.parse(text).error; message = e.message + ' (' + e.code + ')'; } catch (err) { /* plain text */ }
          state.textContent = message;
          state.setAttribute('role', 'alert');
          return;
        }
        var started = performance.now();
        var lines = parseLog(text);
        logView = { lines: lines, nodes: [], marked: {}, searchMs: 0, ready: false, re: null, total: 0, read: lines.length };
        noteNewest(lines);
        state.textContent = 'Showing ' + lines.length + ' lines…';
        // In chunks of 2,000 lines, one per task, so the page answers while a long log
        // is written; each chunk is laid out only when scrolled near (content-visibility).
        var at = 0;
        var step = function () {
          var end = Math.min(lines.length, at + 2000);
          var html = '';
          for (var k = at; k < end; k++) html += lineHtml(lines[k], k);
          var chunk = document.createElement('div');
          chunk.className = 'log-chunk';
          chunk.innerHTML = html;
          box.appendChild(chunk);
          for (var c = 0; c < chunk.children.length; c++) logView.nodes.push(chunk.children[c]);
          at = end;
          if (at < lines.length) { setTimeout(step, 0); return; }
          logView.ready = true;
          box.setAttribute('data-render-ms', String(Math.round(performance.now() - started)));
          box.setAttribute('data-lines', String(lines.length));
          state.textContent = lines.length + (lines.length === 1 ? ' line' : ' lines') + ', read ' + new Date().toLocaleTimeString() + '. Times are in your time zone.';
          document.getElementById('log-download').disabled = false;
          var sink = document.getElementById('log-follow-sink');
          // A running session's log opens at its end, where new lines come (unless a line link or a search says where).
          if (sink && sink.getAttribute('data-running') === 'true' && !/^#L\d+$/.test(window.location.hash)) {
            box.scrollTop = box.scrollHeight;
            followed.atEnd = true;
          }
          goToLine();
          if (document.getElementById('log-search').value) searchLog();
          drainFollowed();
        };
        step();
      });
    }, function () {
      state.textContent = 'No answer from the dashboard: reload to try again.';
    });
  }
  var searchTimer = null;
  document.addEventListener('input', function (evt) {
    if (evt.target && evt.target.id === 'log-search') {
      clearTimeout(searchTimer);
      searchTimer = setTimeout(searchLog, 150);
    }
  });
  document.addEventListener('change', function (evt) {
    var t = evt.target;
    if (!t) return;
    var box = document.getElementById('log-lines');
    if (t.id === 'log-regex') searchLog();
    else if ((t.id === 'log-wrap' || t.id === 'log-timestamps') && box) {
      var atEnd = followed.atEnd;
      box.classList.toggle(t.id === 'log-wrap' ? 'log-wrap' : 'log-show-ts', t.checked);
      // Lines change height: a viewer at the end (following) stays there.
      if (atEnd) box.scrollTop = box.scrollHeight;
    }
  });
  document.addEventListener('click', function (evt) {
    if (evt.target && evt.target.id === 'log-download') downloadLog();
  });
  window.addEventListener('hashchange', goToLine);
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', startLogViewer);
  else startLogViewer();

  // Following the log on the viewer page. The page subscribes to the session's log topic, the
  // shared follow that feeds the session page's panel (src/live/log-follower.ts); its snapshot
  // and chunks land in the hidden #log-follow-sink, each span carrying its lines as read
  // (data-raw: the apiserver's time, colour codes). Lines newer than the newest one read
  // (by time, then by text within the same millisecond) are appended like the others: line
  // numbers and links, timestamps, colours, the search's highlights and count, download.
  // Pause holds them and says "N new lines" (a click resumes and scrolls to the end).
  var FOLLOW_MAX_NEW = 100000;
  var followed = { batches: [], held: [], paused: false, stopped: false, atEnd: false, lastAt: -Infinity, lastKeys: {} };
  function lineKey(l) { return l.iso + ' ' + l.text; }
  function noteNewest(lines) {
    followed.lastAt = -Infinity;
    followed.lastKeys = {};
    for (var i = lines.length - 1; i >= 0; i--) {
      if (isNaN(lines[i].at)) continue;
      if (followed.lastAt === -Infinity) followed.lastAt = lines[i].at;
      if (lines[i].at !== followed.lastAt) break;
      followed.lastKeys[lineKey(lines[i])] = true;
    }
  }
  // The lines of one span that the viewer does not have yet. A line without a time (the
  // follow's "lines not shown" notice) goes with the timed line after it.
  function newerLines(lines) {
    var out = [];
    var untimed = [];
    lines.forEach(function (l) {
      if (isNaN(l.at)) { untimed.push(l); return; }
      if (l.at > followed.lastAt || (l.at === followed.lastAt && !followed.lastKeys[lineKey(l)])) {
        if (l.at > followed.lastAt) { followed.lastAt = l.at; followed.lastKeys = {}; }
        followed.lastKeys[lineKey(l)] = true;
        out = out.concat(untimed, [l]);
      }
      untimed = [];
    });
    return out;
  }
  function takeFollowed() {
    var sink = document.getElementById('log-follow-sink');
    if (!sink) return;
    sink.querySelectorAll('span[data-raw]').forEach(function (span) {
      var raw = span.getAttribute('data-raw');
      span.parentNode.removeChild(span);
      try { followed.batches.push(JSON.parse(raw)); } catch (err) { /* not lines */ }
    });
    var status = sink.querySelector('[data-state]');
    var out = document.getElementById('log-follow-state');
    if (status && out && !followed.stopped) {
      var st = status.getAttribute('data-state');
      var text = st === 'following' ? 'Following live: new lines are added at the end.' : st === 'ended' ? 'The runner’s log has ended: no more lines will come.' : status.textContent;
      if (out.textContent !== text) out.textContent = text;
    }
    drainFollowed();
  }
  function drainFollowed() {
    if (!logView || !logView.ready) return;
    var batches = followed.batches;
    followed.batches = [];
    batches.forEach(function (batch) {
      var fresh = newerLines(batch.map(parseLine));
      if (!fresh.length) return;
      if (followed.paused) {
        followed.held = followed.held.concat(fresh);
        sayHeldLines();
      } else {
        showFollowed(fresh);
      }
    });
  }
  function showFollowed(lines) {
    var box = document.getElementById('log-lines');
    if (!lines.length || !box || followed.stopped) return;
    var room = logView.read + FOLLOW_MAX_NEW - logView.lines.length;
    if (lines.length > room) {
      lines = lines.slice(0, Math.max(0, room));
      followed.stopped = true;
      document.getElementById('log-follow-state').textContent = 'Following stopped after ' + FOLLOW_MAX_NEW + ' new lines, to keep this page fast: reload for the newest.';
    }
    var start = logView.lines.length;
    var html = '';
    lines.forEach(function (l, k) {
      logView.lines.push(l);
      html += lineHtml(l, start + k);
    });
    var chunk = box.lastElementChild;
    if (!chunk || chunk.children.length >= 2000) {
      chunk = document.createElement('div');
      chunk.className = 'log-chunk';
      box.appendChild(chunk);
    }
    chunk.insertAdjacentHTML('beforeend', html);
    for (var c = chunk.children.length - lines.length; c < chunk.children.length; c++) logView.nodes.push(chunk.children[c]);
    if (logView.re) {
      for (var i = start; i < logView.lines.length; i++) {
        var ranges = matchRanges(logView.re, logView.lines[i]);
        if (!ranges.length) continue;
        logView.marked[i] = ranges;
        logView.total += ranges.length;
        logView.nodes[i].lastChild.innerHTML = markedHtml(logView.lines[i].plain, ranges);
      }
      sayMatches();
    }
    box.setAttribute('data-lines', String(logView.lines.length));
    var m = /^#L(\d+)$/.exec(window.location.hash);
    if (m && Number(m[1]) > start && Number(m[1]) <= logView.lines.length) goToLine();
    else if (followed.atEnd) box.scrollTop = box.scrollHeight;
  }
  // Whether the viewer is at the end, as of their last scroll: a wrap or timestamps toggle
  // (which makes the lines taller) does not take them away from it.
  document.addEventListener('scroll', function (evt) {
    var box = evt.target;
    if (box && box.id === 'log-lines') followed.atEnd = box.scrollHeight - box.scrollTop - box.clientHeight < 40;
  }, true);
  function sayHeldLines() {
    var button = document.getElementById('log-new-lines');
    if (!button) return;
    var n = followed.held.length;
    button.hidden = n === 0;
    button.textContent = n === 1 ? '1 new line' : n + ' new lines';
  }
  function resumeFollow() {
    followed.paused = false;
    var button = document.getElementById('log-follow-pause');
    button.textContent = 'Pause';
    button.setAttribute('aria-pressed', 'false');
    var held = followed.held;
    followed.held = [];
    sayHeldLines();
    showFollowed(held);
    var box = document.getElementById('log-lines');
    if (box) box.scrollTop = box.scrollHeight;
    followed.atEnd = true;
  }
  document.addEventListener('click', function (evt) {
    var t = evt.target;
    if (!t || !t.closest) return;
    if (t.closest('#log-new-lines')) return resumeFollow();
    if (!t.closest('#log-follow-pause')) return;
    if (followed.paused) return resumeFollow();
    followed.paused = true;
    t.closest('#log-follow-pause').textContent = 'Resume';
    t.closest('#log-follow-pause').setAttribute('aria-pressed', 'true');
  });
  document.addEventListener('htmx:oobAfterSwap', function () {
    if (document.getElementById('log-follow-sink')) takeFollowed();
  });

  // Following a runner log, paused: new chunks are held (not swapped) and counted, so the
  // lines being read stay put; Resume appends them in order.
  var logPaused = false;
  var logHeld = [];
  var logHeldLines = 0;
  function sayHeld() {
    var out = document.getElementById('log-held');
    if (out) out.textContent = logPaused ? (logHeldLines === 1 ? '1 new line' : logHeldLines + ' new lines') + ' while paused' : '';
  }
  document.addEventListener('htmx:oobBeforeSwap', function (evt) {
    var target = evt.detail && evt.detail.target;
    if (!logPaused || !target || !target.hasAttribute || !target.hasAttribute('data-log-lines')) return;
    evt.detail.shouldSwap = false;
    logHeld.push({ id: target.id, fragment: evt.detail.fragment });
    logHeldLines += (evt.detail.fragment.textContent || '').split('\n').filter(function (l) { return l !== ''; }).length;
    sayHeld();
  });
  document.addEventListener('click', function (evt) {
    var button = evt.target && evt.target.closest && evt.target.closest('#log-pause');
    if (!button) return;
    logPaused = !logPaused;
    button.textContent = logPaused ? 'Resume' : 'Pause';
    button.setAttribute('aria-pressed', logPaused ? 'true' : 'false');
    if (!logPaused) {
      logHeld.forEach(function (h) {
        var lines = document.getElementById(h.id);
        if (lines) lines.appendChild(h.fragment);
      });
      logHeld = [];
      logHeldLines = 0;
    }
    sayHeld();
  });

  // A pool page's state filter: chips toggle a class on #device-view (never on the grid the
  // stream swaps) and the URL follows, so reload, Back/Forward and sharing keep the view.
  var STATES = ['Booting', 'Idle', 'Busy', 'Unhealthy'];
  function filterFromUrl() {
    var asked = new URLSearchParams(window.location.search).getAll('state').join(',').toLowerCase().split(',');
    return STATES.filter(function (s) { return asked.indexOf(s.toLowerCase()) >= 0; });
  }
  function filterHref(base, states) {
    var list = STATES.filter(function (s) { return states.indexOf(s) >= 0; });
    return list.length ? base + '?' + list.map(function (s) { return 'state=' + s; }).join('&') : base;
  }
  function applyFilter(states) {
    var nav = document.getElementById('device-filter');
    var view = document.getElementById('device-view');
    if (!nav || !view) return;
    var base = nav.getAttribute('data-filter-base');
    view.className = ['device-view'].concat(states.length ? ['filter-on'] : [], states.map(function (s) { return 'show-' + s; })).join(' ');
    view.setAttribute('data-filter', states.join(','));
    nav.querySelectorAll('[data-filter-state]').forEach(function (chip) {
      var state = chip.getAttribute('data-filter-state');
      var on = states.indexOf(state) >= 0;
      chip.setAttribute('aria-pressed', on ? 'true' : 'false');
      chip.setAttribute('href', filterHref(base, on ? states.filter(function (s) { return s !== state; }) : states.concat([state])));
    });
    var clear = nav.querySelector('[data-filter-clear]');
    if (clear) clear.classList.toggle('invisible', states.length === 0);
  }
  document.addEventListener('click', function (evt) {
    var nav = document.getElementById('device-filter');
    var link = nav && evt.target.closest && evt.target.closest('#device-filter a');
    if (!link || evt.ctrlKey || evt.metaKey || evt.shiftKey || evt.button !== 0) return;
    evt.preventDefault();
    var states = filterFromUrl();
    var state = link.getAttribute('data-filter-state');
    if (!state) states = [];
    else if (states.indexOf(state) >= 0) states = states.filter(function (s) { return s !== state; });
    else states = states.concat([state]);
    history.pushState({ droidfarmFilter: true }, '', filterHref(nav.getAttribute('data-filter-base'), states));
    applyFilter(states);
  });
  document.addEventListener('keydown', function (evt) {
    // role="button" links answer Space like buttons do.
    if (evt.key === ' ' && evt.target.matches && evt.target.matches('#device-filter [role="button"]')) {
      evt.preventDefault();
      evt.target.click();
    }
  });
  window.addEventListener('popstate', function () { applyFilter(filterFromUrl()); });
  window.addEventListener('pageshow', function () { applyFilter(filterFromUrl()); });

  // Picking devices for the wall on a pool page. In pick mode a tile is a checkbox (a click,
  // Enter or Space toggles it) instead of a link. The picks are this viewer's own, kept here
  // by device name (and in sessionStorage, so Back from the wall finds them again): the
  // stream swaps tiles and the grid as devices change, and each swap gets the picks applied
  // again. A device that leaves the pool leaves the picks. At most data-max (--wall-size).
  var picks = [];
  var picking = false;
  function pickBox() { return document.getElementById('wall-picks'); }
  function pickKey(box) { return 'droidfarm-wall-picks:' + box.getAttribute('data-wall-href'); }
  function tileDevice(tile) {
    var href = tile.getAttribute('href') || '';
    return decodeURIComponent(href.slice(href.lastIndexOf('/') + 1));
  }
  function savePicks(box) {
    try { sessionStorage.setItem(pickKey(box), JSON.stringify({ picking: picking, picks: picks })); } catch (err) { /* storage off: picks last as long as the page */ }
  }
  function applyPicks(message) {
    var box = pickBox();
    var view = document.getElementById('device-view');
    if (!box || !view) return;
    var max = Number(box.getAttribute('data-max') || 12);
    var tiles = view.querySelectorAll('.tile');
    // Devices gone from the pool are no longer picked (an empty grid may just be loading).
    if (tiles.length) {
      var present = {};
      tiles.forEach(function (t) { present[tileDevice(t)] = true; });
      picks = picks.filter(function (d) { return present[d]; });
    }
    if (picking) view.setAttribute('data-picking', '');
    else view.removeAttribute('data-picking');
    tiles.forEach(function (t) {
      if (picking) {
        t.setAttribute('role', 'checkbox');
        t.setAttribute('aria-checked', picks.indexOf(tileDevice(t)) >= 0 ? 'true' : 'false');
      } else {
        t.removeAttribute('role');
        t.removeAttribute('aria-checked');
      }
    });
    var mode = document.getElementById('wall-pick-mode');
    mode.setAttribute('aria-pressed', picking ? 'true' : 'false');
    mode.textContent = picking ? 'Done picking' : 'Pick devices for the wall';
    var open = document.getElementById('wall-pick-open');
    var href = box.getAttribute('data-wall-href');
    open.hidden = picks.length === 0;
    open.setAttribute('href', picks.length ? href + '?' + picks.map(function (d) { return 'device=' + encodeURIComponent(d); }).join('&') : href);
    open.textContent = 'Open the wall with ' + (picks.length === 1 ? 'the 1 picked device' : 'the ' + picks.length + ' picked devices');
    document.getElementById('wall-pick-clear').hidden = picks.length === 0;
    var status = document.getElementById('wall-pick-status');
    var text = message || (picking ? picks.length + ' of at most ' + max + ' picked: choose tiles.' : '');
    if (status.textContent !== text) status.textContent = text;
    savePicks(box);
  }
  function togglePick(tile) {
    var box = pickBox();
    var name = tileDevice(tile);
    var max = Number(box.getAttribute('data-max') || 12);
    var at = picks.indexOf(name);
    if (at >= 0) picks.splice(at, 1);
    else if (picks.length >= max) return applyPicks('The wall shows at most ' + max + ' streams (--wall-size): unpick a device before picking ' + name + '.');
    else picks.push(name);
    applyPicks();
  }
  document.addEventListener('click', function (evt) {
    var t = evt.target;
    if (!t || !t.closest || !pickBox()) return;
    if (t.closest('#wall-pick-mode')) {
      picking = !picking;
      applyPicks();
      return;
    }
    if (t.closest('#wall-pick-clear')) {
      picks = [];
      applyPicks();
      return;
    }
    var tile = picking && t.closest('#device-view .tile');
    if (!tile) return;
    evt.preventDefault();
    togglePick(tile);
  });
  document.addEventListener('keydown', function (evt) {
    // A checkbox answers Space (Enter clicks the link, which toggles too).
    if (evt.key !== ' ' || !picking || !evt.target.matches || !evt.target.matches('#device-view .tile')) return;
    evt.preventDefault();
    togglePick(evt.target);
  });
  document.addEventListener('htmx:oobAfterSwap', function (evt) {
    var target = evt.detail && evt.detail.target;
    if (target && target.classList && (target.classList.contains('tile') || target.classList.contains('device-grid')) && pickBox()) applyPicks();
  });
  function startPicks() {
    var box = pickBox();
    if (!box) return;
    try {
      var saved = JSON.parse(sessionStorage.getItem(pickKey(box)) || 'null');
      if (saved && Array.isArray(saved.picks)) {
        picks = saved.picks.filter(function (d) { return typeof d === 'string'; });
        picking = saved.picking === true;
      }
    } catch (err) { /* nothing saved */ }
    applyPicks();
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', startPicks);
  else startPicks();

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
  function sayAnswer(line, message) {
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
    if (line) sayAnswer(line, '');
  });
  document.addEventListener('htmx:beforeSwap', function (evt) {
    var xhr = evt.detail.xhr;
    var line = answerLine(evt.detail.requestConfig && evt.detail.requestConfig.elt);
    if (!line || (xhr.status >= 200 && xhr.status < 300) || xhr.status === 422) return;
    // Said here, so not swapped, and not an unhandled error for htmx to log either.
    evt.detail.shouldSwap = false;
    evt.detail.isError = false;
    sayAnswer(line, answerText(xhr));
  });
  function noAnswer(evt) {
    var line = answerLine(evt.detail.elt);
    if (line) sayAnswer(line, 'No answer from the dashboard (the network or the server is down). Submitting again is safe: the form never creates a second session for one submission.');
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

  // A pool's scale form: − and + step the field within its bounds; nothing is sent until Scale.
  document.addEventListener('click', function (evt) {
    var step = evt.target.closest && evt.target.closest('[data-scale-step]');
    if (!step) return;
    var input = step.form && step.form.querySelector('input[name="replicas"]');
    if (!input) return;
    var min = Number(input.min || 0);
    var max = Number(input.max || 500);
    var current = Number(input.value);
    if (!isFinite(current) || input.value === '') current = Number(input.getAttribute('data-replicas') || 0);
    input.value = String(Math.min(max, Math.max(min, Math.round(current) + Number(step.getAttribute('data-scale-step')))));
  });
  // The pool's replicas changed (here or elsewhere): the field follows, unless the viewer
  // has typed or stepped a value of their own that is still there.
  document.addEventListener('htmx:oobAfterSwap', function (evt) {
    var header = evt.detail && evt.detail.target;
    if (!header || !header.classList || !header.classList.contains('pool-header')) return;
    var input = document.getElementById('pool-replicas');
    var replicas = header.getAttribute('data-replicas');
    if (!input || !replicas || document.activeElement === input || input.value !== input.getAttribute('data-replicas')) return;
    input.value = replicas;
    input.setAttribute('data-replicas', replicas);
  });
  // "Cancel" in an answer that asked for a confirmation: the question goes away.
  document.addEventListener('click', function (evt) {
    var cancel = evt.target.closest && evt.target.closest('[data-dismiss-answer]');
    var box = cancel && cancel.closest('[role="alert"], [role="status"]');
    if (box && box.parentNode) box.parentNode.removeChild(box);
  });

  // A button whose question depends on live data (data-confirm-from names a live region
  // with data-confirm, and data-session): asked with what the region shows now, and the
  // session it named is sent along, so the server can refuse if the device moved on.
  document.addEventListener('htmx:confirm', function (evt) {
    var elt = evt.detail && evt.detail.elt;
    var from = elt && elt.getAttribute && elt.getAttribute('data-confirm-from');
    if (!from) return;
    evt.preventDefault();
    var source = document.querySelector(from);
    var question = (source && source.getAttribute(elt.getAttribute('data-confirm-attr') || 'data-confirm')) || evt.detail.question;
    elt.setAttribute('data-confirmed-session', (source && source.getAttribute(elt.getAttribute('data-session-attr') || 'data-session')) || '');
    if (window.confirm(question)) evt.detail.issueRequest(true);
  });
  document.addEventListener('htmx:configRequest', function (evt) {
    var elt = evt.detail && evt.detail.elt;
    if (!elt || !elt.hasAttribute) return;
    if (elt.hasAttribute('data-confirmed-session')) evt.detail.parameters.session = elt.getAttribute('data-confirmed-session');
    // No question asked (Extend): the lease the live region shows now.
    var from = elt.getAttribute('data-session-from');
    var source = from && document.querySelector(from);
    if (source) evt.detail.parameters.session = source.getAttribute('data-lease') || '';
  });

  // On a phone the session filters start folded behind "Filters (n)".
  document.addEventListener('DOMContentLoaded', function () {
    var panel = document.getElementById('filters-panel');
    if (panel && window.matchMedia('(max-width: 639px)').matches) panel.open = false;
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

// Permission-aware buttons: the session page says (#session-access, from the server's
// SubjectAccessReviews for the signed-in person) which actions they may not take and why.
// The live re-render of the session is shared by every viewer, so it carries no person:
// this disables those buttons again after each swap and shows the reason beside them.
(function () {
  'use strict';
  function applyAccess() {
    var access = document.getElementById('session-access');
    if (!access) return;
    ['stop', 'retry', 'delete'].forEach(function (action) {
      var why = access.getAttribute('data-deny-' + action);
      if (!why) return;
      document.querySelectorAll('button[data-action="' + action + '"]').forEach(function (button) {
        var id = 'why-' + action;
        button.disabled = true;
        button.setAttribute('aria-describedby', id);
        if (!document.getElementById(id) && button.parentElement) {
          var p = document.createElement('p');
          p.id = id;
          p.className = 'w-full text-xs text-slate-600';
          p.setAttribute('data-denied', action);
          p.textContent = why;
          button.parentElement.appendChild(p);
        }
      });
    });
  }
  ['htmx:afterSwap', 'htmx:oobAfterSwap', 'htmx:afterSettle'].forEach(function (name) {
    document.addEventListener(name, applyAccess);
  });
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', applyAccess);
  else applyAccess();
})();
