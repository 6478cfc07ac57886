/*
 * The dashboard page (served by src/dashboard/server.ts). It takes the whole state once (the
 * `snapshot` event of /events, built by src/dashboard/state.ts), then applies each run event as it
 * comes, with the same reduction. Everything from the run is shown as text (textContent), never as
 * markup: the run's event stream is not trusted. Charts are uPlot, served from the package.
 */
'use strict';
(function () {
  var MAX_LOCAL_POINTS = 1200; // past this the page asks the server for its downsampled history
  var S = null; // the state (the shape of src/dashboard/state.ts DashboardSnapshot)
  var plots = {};
  var localPoints = 0;
  var refetching = false;
  var api = { ready: false, state: null, plots: plots, events: 0 };
  window.airlockDashboard = api;

  function $(id) { return document.getElementById(id); }
  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  }
  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }
  function fmtDur(ms) {
    if (typeof ms !== 'number' || !isFinite(ms)) return '-';
    var s = Math.max(0, Math.floor(ms / 1000));
    var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
    return (h ? h + ':' + String(m).padStart(2, '0') : String(m)) + ':' + String(r).padStart(2, '0');
  }
  function fmtTime(iso) { return typeof iso === 'string' ? iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : ''; }
  /** A link to a file of the run directory (the server refuses anything but plain names inside it). */
  function fileHref(name) {
    return '/files/' + String(name).split('/').map(encodeURIComponent).join('/');
  }
  function num(v) { return typeof v === 'number' && isFinite(v) ? v : undefined; }
  function str(v) { return typeof v === 'string' ? v : undefined; }

  // ---- the reduction (mirrors src/dashboard/state.ts DashboardState.apply) ----
  function endCurrent(at) {
    if (S.current === undefined || S.current === null) return;
    var p = S.phases[S.current];
    if (p && p.status === 'running') { p.status = 'ended'; p.endedAt = at; }
  }
  function bounded(list, item, max) { list.push(item); if (list.length > max) list.splice(0, list.length - max); }
  function apply(e) {
    if (!e || typeof e.type !== 'string') return;
    S.events++;
    if (str(e.time)) S.lastEventAt = e.time;
    var at = str(e.time);
    switch (e.type) {
      case 'start':
        S.run = { runDir: str(e.runDir) || '', runId: str(e.runId) || '', scenario: str(e.scenario) || '', rig: str(e.rig) || '', startedAt: at };
        S.phases = (Array.isArray(e.phases) ? e.phases : []).map(function (n) { return { name: String(n), status: 'pending' }; });
        break;
      case 'state': S.state = str(e.state); break;
      case 'phase': {
        var i = num(e.index);
        if (i === undefined || i < 0 || i >= 1000) break;
        while (S.phases.length <= i) S.phases.push({ name: '?', status: 'pending' });
        endCurrent(at);
        S.phases[i] = Object.assign({}, S.phases[i], { name: str(e.name) || '?', status: 'running', startedAt: at });
        S.current = i;
        break;
      }
      case 'step':
        S.stepsTotal++;
        bounded(S.steps, { phase: str(e.phase) || '', index: num(e.index) || 0, total: num(e.total) || 0, text: str(e.text) || '', timeoutMs: num(e.timeoutMs) || 0, remainingDwellMs: num(e.remainingDwellMs), phaseRemainingDwellMs: num(e.phaseRemainingDwellMs), startedAt: at }, 300);
        break;
      case 'step_end':
        for (var k = S.steps.length - 1; k >= 0; k--) {
          var s = S.steps[k];
          if (s.phase === e.phase && s.index === e.index && s.ok === undefined) { s.ok = e.ok === true; s.endedAt = at; break; }
        }
        break;
      case 'counters':
        S.counters = e;
        appendPoint(e);
        break;
      case 'finding': S.findingsTotal++; bounded(S.findings, e, 500); break;
      case 'live': S.live = e; break;
      case 'rotated': bounded(S.rotated, e, 100); break;
      case 'safing': endCurrent(at); S.current = undefined; S.safing = { reason: str(e.reason) || '', at: at }; break;
      case 'safed': S.safed = e; break;
      case 'done':
        endCurrent(at); S.current = undefined; S.done = e;
        (Array.isArray(e.phases) ? e.phases : []).forEach(function (v) {
          S.phases.forEach(function (p) { if (p.name === v.name) { p.verdict = v.verdict; p.findings = v.findings; } });
        });
        break;
    }
  }

  // ---- charts ----
  /** The series a counters event carries (mirrors src/dashboard/state.ts counterSeries). */
  function counterSeries(e) {
    var out = {};
    function take(prefix, rec) {
      if (!rec || typeof rec !== 'object') return;
      Object.keys(rec).forEach(function (k) { var v = rec[k]; out[prefix + ':' + k] = num(v) === undefined ? null : v; });
    }
    take('amps', e.amps); take('rate', e.rates); take('radio', e.radio);
    return out;
  }
  function appendPoint(e) {
    var h = S.history;
    var t = Date.parse(e.time || '') || Date.now();
    var vals = counterSeries(e);
    var n = h.t.length;
    h.t.push(t);
    Object.keys(h.series).forEach(function (k) {
      var v = k in vals ? vals[k] : null;
      h.series[k].min.push(v); h.series[k].max.push(v); h.series[k].last.push(v);
    });
    Object.keys(vals).forEach(function (k) {
      if (h.series[k]) return;
      var pad = function () { var a = new Array(n).fill(null); a.push(vals[k]); return a; };
      h.series[k] = { min: pad(), max: pad(), last: pad() };
    });
    localPoints++;
    if (localPoints > MAX_LOCAL_POINTS && !refetching) refetchHistory();
  }
  function refetchHistory() {
    refetching = true;
    fetch('/api/history').then(function (r) { return r.json(); }).then(function (h) {
      S.history = h; localPoints = 0; refetching = false; drawCharts(true);
    }).catch(function () { refetching = false; });
  }
  var CHARTS = [
    { key: 'amps', prefix: 'amps:', el: 'chart-amps', unit: 'A' },
    { key: 'rates', prefix: 'rate:', el: 'chart-rates', unit: 'pkt/s' },
    { key: 'radio', prefix: 'radio:', el: 'chart-radio', unit: 'dBm' },
  ];
  var COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];
  function drawCharts(rebuild) {
    if (typeof uPlot === 'undefined') return;
    var h = S.history;
    CHARTS.forEach(function (c) {
      var names = Object.keys(h.series).filter(function (k) { return k.indexOf(c.prefix) === 0; }).sort();
      var host = $(c.el);
      if (names.length === 0) { if (plots[c.key]) { plots[c.key].destroy(); delete plots[c.key]; } return; }
      // The bucket maximum: a one-second spike stays visible hours later.
      var data = [h.t.map(function (t) { return t / 1000; })].concat(names.map(function (k) { return h.series[k].max; }));
      var p = plots[c.key];
      var same = p && p._names === names.join('\n');
      if (p && same && !rebuild) { p.setData(data); return; }
      if (p) p.destroy();
      clear(host);
      var opts = {
        width: Math.max(300, host.clientWidth || 360), height: 160,
        scales: { x: { time: true } },
        series: [{}].concat(names.map(function (k, i) { return { label: k.slice(c.prefix.length) + ' (' + c.unit + ')', stroke: COLOURS[i % COLOURS.length], width: 1.5, spanGaps: false }; })),
        axes: [{}, { size: 60 }],
        legend: { show: true },
      };
      p = new uPlot(opts, data, host);
      p._names = names.join('\n');
      plots[c.key] = p;
    });
  }

  // ---- rendering ----
  function valueRows(tbody, rec, fmt) {
    clear(tbody);
    Object.keys(rec || {}).sort().forEach(function (k) {
      var tr = el('tr'); tr.appendChild(el('th', k)); tr.appendChild(el('td', fmt(rec[k]))); tbody.appendChild(tr);
    });
    if (!tbody.firstChild) { var tr = el('tr'); tr.appendChild(el('td', 'not known')); tbody.appendChild(tr); }
  }
  // Canary health: sent, not sent, and (from the live analysis) found in every capture they must
  // cross or missing from one, then per capture; canaries in their last seconds of flight are in neither.
  function canaryRows(tbody, k) {
    clear(tbody);
    var row = function (name, text, cls) { var tr = el('tr'); tr.appendChild(el('th', name)); tr.appendChild(el('td', text, cls || '')); tbody.appendChild(tr); return tr; };
    if (!k || typeof k !== 'object') { row('canaries', 'not known'); return; }
    var n = function (v) { return typeof v === 'number' && isFinite(v) ? v : undefined; };
    if (n(k.sent) !== undefined) row('sent', String(k.sent));
    if (n(k.failed) !== undefined) row('not sent', String(k.failed), k.failed > 0 ? 'failed' : '');
    var seen = n(k.seen), missing = n(k.missing);
    var health = row('health', 'not known (no live analysis)');
    health.id = 'canary-health';
    if (seen !== undefined && missing !== undefined) {
      health.lastChild.textContent = seen + missing === 0 ? 'none checked yet' : seen + ' of ' + (seen + missing) + ' seen everywhere' + (missing > 0 ? ', ' + missing + ' missing' : '');
      health.lastChild.className = missing > 0 ? 'failed' : seen > 0 ? 'ok' : '';
      health.dataset.seen = String(seen);
      health.dataset.missing = String(missing);
    }
    // Injection points that stopped sending (a crashed sender): their captures went unchecked then.
    var silent = Array.isArray(k.silent) ? k.silent.filter(function (h) { return typeof h === 'string'; }) : [];
    if (silent.length > 0) {
      health.lastChild.className = 'failed';
      row('not sending', silent.join(', ') + ': went without a canary for longer than the post-run check allows', 'failed').id = 'canary-silent';
    }
    // Canaries given up undecided (a capture not read for minutes): neither seen nor missing, so not good.
    if (n(k.unchecked) !== undefined && k.unchecked > 0) {
      if (health.lastChild.className === 'ok') health.lastChild.className = '';
      row('not checked', k.unchecked + ' given up undecided (the live analysis did not read their captures in time)').id = 'canary-unchecked';
    }
    var by = k.byCapture && typeof k.byCapture === 'object' ? k.byCapture : {};
    var checked = (seen || 0) + (missing || 0);
    Object.keys(by).sort().forEach(function (cap) {
      var v = by[cap] || {};
      var s = n(v.seen) || 0, m = n(v.missing) || 0;
      // A capture with none decided while others have some (the live analysis cannot read it, or is
      // behind on it): the counts above say nothing about it, so the health is not shown as good.
      if (s + m === 0 && checked > 0) {
        row('in ' + cap, 'none checked yet');
        if (health.lastChild.className === 'ok') health.lastChild.className = '';
        health.lastChild.textContent += '; none checked in ' + cap;
        return;
      }
      row('in ' + cap, s + ' seen' + (m > 0 ? ', ' + m + ' missing' : ''), m > 0 ? 'failed' : '');
    });
  }
  function currentStep() { return S.steps.length ? S.steps[S.steps.length - 1] : undefined; }
  function render() {
    var run = S.run;
    $('scenario').textContent = run ? run.scenario : 'waiting for the run';
    $('runinfo').textContent = run ? 'rig ' + run.rig + ' · run ' + run.runId + ' · ' + run.runDir : '';
    $('state').textContent = S.state || '-';
    var now = Date.now();
    $('elapsed').textContent = run && run.startedAt ? fmtDur((S.done ? Date.parse(S.done.time || S.lastEventAt || '') : now) - Date.parse(run.startedAt)) : '-';

    // Phases, the one running now and the time left in it (the dwells still ahead: a lower bound).
    var ol = $('phases'); clear(ol);
    S.phases.forEach(function (p, i) {
      var li = el('li', null, p.status);
      li.appendChild(el('span', p.name));
      var note = p.status === 'running' ? ' (running)' : p.status === 'ended' ? ' (ended ' + fmtTime(p.endedAt) + ')' : '';
      li.appendChild(el('span', note));
      if (p.verdict) { li.appendChild(el('span', ' ')); li.appendChild(el('span', p.verdict, p.verdict)); }
      li.dataset.index = String(i);
      ol.appendChild(li);
    });
    var cur = S.current !== undefined && S.current !== null ? S.phases[S.current] : undefined;
    $('phase-current').textContent = cur ? cur.name : S.done ? 'finished' : S.safing ? 'safing' : 'not started';
    var step = currentStep();
    var left = '';
    if (cur && step && step.phase === cur.name && step.startedAt) {
      var since = now - Date.parse(step.startedAt);
      if (step.phaseRemainingDwellMs !== undefined) left = '≥ ' + fmtDur(step.phaseRemainingDwellMs - since) + ' left in this phase';
      if (step.remainingDwellMs !== undefined) left += (left ? ', ' : '') + '≥ ' + fmtDur(step.remainingDwellMs - since) + ' left in the run';
    }
    $('phase-left').textContent = left;

    // Steps, the newest first.
    $('step-current').textContent = step && step.ok === undefined ? step.phase + ': ' + step.text + ' (' + fmtDur(now - Date.parse(step.startedAt || '')) + ' of ' + fmtDur(step.timeoutMs) + ')' : '-';
    var sl = $('steps'); clear(sl);
    S.steps.slice(-50).reverse().forEach(function (s) {
      var st = s.ok === undefined ? 'running' : s.ok ? 'ok' : 'failed';
      sl.appendChild(el('li', s.phase + ' ' + (s.index + 1) + '/' + s.total + ': ' + s.text + ' — ' + st, s.ok === false ? 'failed' : ''));
    });

    // Findings as they come, each with its evidence: the capture file and the packet in it.
    $('findings-count').textContent = String(S.findingsTotal);
    var fl = $('findings'); clear(fl);
    S.findings.slice().reverse().forEach(function (f) {
      var li = el('li', null, 'finding');
      li.dataset.window = String(f.window || '');
      li.dataset.assertion = String(f.assertion || '');
      li.appendChild(el('div', f.text || '(no text)', 'text'));
      var where = el('div', null, 'where');
      where.appendChild(el('span', (f.window ? f.window + ' · ' : '') + (f.assertion ? f.assertion + ' · ' : '') + (f.at ? fmtTime(f.at) + ' · ' : '')));
      if (f.file) {
        var a = el('a', f.file + (f.packet ? ' packet ' + f.packet : ''));
        a.href = fileHref(f.file);
        a.className = 'evidence';
        where.appendChild(a);
      }
      li.appendChild(where);
      fl.appendChild(li);
    });
    if (S.findingsTotal > S.findings.length) fl.appendChild(el('li', '(' + (S.findingsTotal - S.findings.length) + ' older findings not shown: see the report)'));
    var live = S.live;
    $('live-state').textContent = 'live analysis: ' + (live ? live.state + (live.detail ? ' (' + live.detail + ')' : '') : 'not reported');

    // Instruments: the last counters event.
    var c = S.counters || {};
    valueRows($('amps').tBodies[0], c.amps, function (v) { return typeof v === 'number' ? v.toFixed(3) + ' A' : 'no reading'; });
    valueRows($('rates').tBodies[0], c.rates, function (v) { return typeof v === 'number' ? v.toFixed(1) + ' pkt/s' : '-'; });
    valueRows($('radio').tBodies[0], c.radio, function (v) { return typeof v === 'number' ? v.toFixed(1) + ' dBm' : 'no sweep'; });
    var m = c.mavlink || {};
    $('mav-mode').textContent = m.mode !== undefined ? String(m.mode) : 'not known';
    $('mav-armed').textContent = m.armed === undefined ? 'not known' : m.armed ? 'ARMED' : 'disarmed';
    $('mav-alt').textContent = typeof m.altitudeM === 'number' ? m.altitudeM.toFixed(1) + ' m' : 'not known';
    canaryRows($('canaries').tBodies[0], c.canaries);

    // The end: the final verdicts and the report.
    var d = S.done;
    var box = $('verdict-box');
    if (d) {
      box.hidden = false;
      box.dataset.verdict = String(d.verdict);
      $('verdict').textContent = String(d.verdict);
      $('verdict').className = String(d.verdict);
      $('exit').textContent = '(exit ' + d.exitCode + ')';
      $('verdict-reason').textContent = d.reason || '';
      var tb = $('verdicts').tBodies[0]; clear(tb);
      (Array.isArray(d.phases) ? d.phases : []).forEach(function (p) {
        var tr = el('tr');
        tr.appendChild(el('td', p.name)); tr.appendChild(el('td', p.verdict, p.verdict));
        var td = el('td'), ul = el('ul');
        (Array.isArray(p.findings) ? p.findings : []).forEach(function (f) { ul.appendChild(el('li', f)); });
        (Array.isArray(p.reasons) ? p.reasons : []).forEach(function (r) { ul.appendChild(el('li', 'undecided: ' + r)); });
        td.appendChild(ul); tr.appendChild(td);
        tb.appendChild(tr);
      });
      var rep = $('report'); clear(rep);
      var a = el('a', 'report.html'); a.href = fileHref('report.html'); a.id = 'report-link';
      rep.appendChild(el('span', 'Report: ')); rep.appendChild(a);
      var r = el('a', 'result.json'); r.href = fileHref('result.json');
      rep.appendChild(el('span', ' · ')); rep.appendChild(r);
    } else box.hidden = true;
    api.state = S;
    api.events = S.events;
  }

  var pending = false;
  function schedule() {
    if (pending) return;
    pending = true;
    requestAnimationFrame(function () { pending = false; render(); drawCharts(false); });
  }

  // ---- the stream ----
  var es = new EventSource('/events');
  es.addEventListener('snapshot', function (m) {
    S = JSON.parse(m.data);
    localPoints = 0;
    render();
    drawCharts(true);
    api.ready = true;
    $('conn').textContent = S.done ? 'run finished' : 'live';
    $('conn').className = 'conn';
    if (S.done) es.close();
  });
  es.onmessage = function (m) {
    if (!S) return;
    var e;
    try { e = JSON.parse(m.data); } catch (err) { return; }
    apply(e);
    if (e.type === 'done') {
      // The run is over: nothing more will come; keep what is shown.
      es.close();
      $('conn').textContent = 'run finished';
    }
    schedule();
  };
  es.onerror = function () {
    if (S && S.done) return;
    $('conn').textContent = 'connection lost: retrying';
    $('conn').className = 'conn down';
  };
  // The clocks (elapsed, time left) move between events too.
  setInterval(function () { if (S && !S.done) render(); }, 1000);
})();
