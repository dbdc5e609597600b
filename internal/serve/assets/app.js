// The lab's pages: charts (uPlot), the editor's re-runs, pins, the
// ensemble stream and the pipeline. No framework; one file, no build step.
// Every chart element counts its draws in data-drawn, and <body> counts
// them all, so tests can wait for a redraw.
(function () {
  'use strict';

  const $ = (sel, el) => (el || document).querySelector(sel);
  const page = document.body.dataset.page;
  const charts = new Map();
  const colours = ['#1f5aa6', '#b3261e', '#2e7d32', '#8e5ca8', '#c77700', '#00838f', '#6d4c41', '#455a64'];

  function bump(el) {
    el.dataset.drawn = String(Number(el.dataset.drawn || 0) + 1);
    document.body.dataset.drawn = String(Number(document.body.dataset.drawn || 0) + 1);
  }

  function fmt(v) {
    if (v == null || Number.isNaN(v)) return '–';
    const a = Math.abs(v);
    if (a >= 1e9) return (v / 1e9).toFixed(2) + ' G';
    if (a >= 1e6) return (v / 1e6).toFixed(2) + ' M';
    if (a >= 1e4) return Math.round(v).toLocaleString('en');
    if (a >= 100 || Number.isInteger(v)) return String(Math.round(v * 10) / 10);
    return v.toPrecision(3);
  }

  // draw puts data ([x, y1, y2, ...], x in Unix seconds) into the chart
  // element el, creating it or reusing it when the series are the same.
  function draw(el, series, data, extra) {
    let u = charts.get(el.id);
    const key = series.map((s) => s.label).join('\u0000');
    if (u && u._key === key) {
      u.setData(data);
      return u;
    }
    if (u) u.destroy();
    const opts = Object.assign({
      width: Math.max(280, el.clientWidth || 600),
      height: 240,
      scales: { x: { time: true } },
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1e3), 'Etc/UTC'),
      series: [{ label: extra && extra.scales ? 'hours' : 'UTC' }].concat(series.map((s, i) => Object.assign({
        stroke: colours[i % colours.length], width: 2, value: (u, v) => fmt(v),
      }, s))),
      axes: [{}, { size: 64, values: (u, vals) => vals.map(fmt) }],
      cursor: { drag: { x: true, y: false } },
      hooks: { draw: [() => bump(el)] },
    }, extra || {});
    u = new uPlot(opts, data, el);
    u._key = key;
    charts.set(el.id, u);
    return u;
  }

  if (window.ResizeObserver) {
    new ResizeObserver(() => {
      for (const [id, u] of charts) {
        const el = document.getElementById(id);
        if (el && el.clientWidth && Math.abs(el.clientWidth - u.width) > 8) u.setSize({ width: el.clientWidth, height: u.height });
      }
    }).observe(document.body);
  }

  function times(start, minutes) { return minutes.map((m) => start + m * 60); }
  function hours(minutes) { return minutes.map((m) => m / 60); }
  // hoursAxis draws x in hours since the start, for runs of different days.
  const hoursAxis = { scales: { x: { time: false } }, axes: [{ label: 'hours since the start' }, { size: 64, values: (u, vals) => vals.map(fmt) }] };

  function setStatus(text, isError) {
    const st = $('#status');
    if (!st) return;
    st.textContent = text;
    st.classList.toggle('error', !!isError);
  }

  // clearErrors empties the field-level messages inside root.
  function clearErrors(root) {
    for (const e of (root || document).querySelectorAll('.field-error')) e.textContent = '';
    for (const e of (root || document).querySelectorAll('[aria-invalid]')) e.removeAttribute('aria-invalid');
  }

  // showFieldError puts msg next to the input for key, or into fallback.
  function showFieldError(key, msg, fallback) {
    let slot = key ? document.querySelector('[data-error-for="' + CSS.escape(key) + '"]') : null;
    if (!slot && fallback) slot = $(fallback);
    if (slot) slot.textContent = msg;
    const input = key ? document.querySelector('[data-key="' + CSS.escape(key) + '"]') : null;
    if (input) input.setAttribute('aria-invalid', 'true');
  }

  async function getJSON(url, init) {
    const r = await fetch(url, init);
    let body;
    try { body = await r.json(); } catch (e) { body = { error: 'the lab answered ' + r.status + ' ' + r.statusText }; }
    if (!r.ok) throw Object.assign(new Error(body.error || r.statusText), body, { status: r.status });
    return body;
  }

  function postForm(url, fields, signal) {
    return getJSON(url, { method: 'POST', body: new URLSearchParams(fields), signal: signal });
  }

  // ---- pins (kept in this browser) ----
  const pinKey = 'wormlab.pins';
  function pins() { try { return JSON.parse(localStorage.getItem(pinKey)) || []; } catch (e) { return []; } }
  function savePins(p) { localStorage.setItem(pinKey, JSON.stringify(p.slice(-8))); }

  // ---- run view and editor ----
  function runPage() {
    const results = $('#results');
    const toml = $('#toml');
    const seed = $('#seed');
    const form = $('#run-form');
    let ctl = null;
    let timer = null;
    let last = null;
    let changedAt = 0;

    function load(url, fields) {
      if (ctl) ctl.abort();
      ctl = new AbortController();
      const mine = ctl;
      document.body.dataset.running = '1';
      setStatus('Running…');
      const p = fields ? postForm(url, fields, mine.signal) : getJSON(url, { signal: mine.signal });
      p.then((d) => {
        if (mine !== ctl) return;
        clearErrors();
        show(d);
        const ms = changedAt ? Math.round(performance.now() - changedAt) : null;
        setStatus(d.name + ', seed ' + d.seed + ' (' + d.engine + ' engine): run in ' + Math.round(d.wall_ms) + ' ms' + (ms ? ', redrawn ' + ms + ' ms after the change' : '') + '.');
        if (ms) document.body.dataset.redrawMs = String(ms);
      }).catch((e) => {
        if (e.name === 'AbortError' || mine !== ctl) return;
        clearErrors();
        setStatus((e.key ? e.key + ': ' : '') + e.message + (e.line ? ' (line ' + e.line + ')' : ''), true);
        if (e.errors) {
          for (const [k, m] of Object.entries(e.errors)) showFieldError(k, m, '#toml-error');
        } else {
          showFieldError(e.key, e.message, '#toml-error');
        }
      }).finally(() => { if (mine === ctl) document.body.dataset.running = '0'; });
    }

    function show(d) {
      last = d;
      document.title = d.name + ' · wormlab';
      $('#run-title').textContent = d.name;
      $('#run-description').textContent = d.description;
      if (d.query) {
        const q = '?' + d.query;
        $('#permalink').href = '/run' + q;
        $('#download-csv').href = '/download/run.csv' + q;
        $('#download-json').href = '/download/run.json' + q;
        $('#download-report').href = '/download/report.html' + q;
        $('#open-ensemble').href = '/ensemble' + q;
        if (location.pathname === '/run') history.replaceState(null, '', '/run' + q);
      }
      if (document.activeElement !== toml && toml.value !== d.toml) toml.value = d.toml;
      showFields(d.fields);
      const x = times(d.start, d.minutes);
      draw($('#chart-states'), [
        { label: 'susceptible' }, { label: 'infected' }, { label: 'patched' }, { label: 'removed' },
      ], [x, d.susceptible, d.infected, d.patched, d.removed]);
      draw($('#chart-new'), [{ label: 'new infections a minute' }], [x, d.new_per_minute]);
      observers(d);
      slash8(d.summary.per_slash8);
      summary(d);
    }

    function observers(d) {
      const fig = $('#observers-figure');
      const o = d.observers;
      if (o && o.telescope) {
        fig.hidden = false;
        const t = o.telescope;
        draw($('#chart-observers'), [{ label: 'telescope ' + t.block + ': new sources' }, { label: 'probes' }],
          [times(d.start, t.minutes), t.new_sources, t.probes]);
      } else if (o && o.flood) {
        fig.hidden = false;
        draw($('#chart-observers'), [{ label: 'flood at ' + o.flood.target + ': packets a second' }],
          [times(d.start, o.flood.minutes), o.flood.packets_per_s]);
      } else if (o && o.block_load) {
        fig.hidden = false;
        draw($('#chart-observers'), [{ label: 'probes a second at ' + o.block_load.block }],
          [times(d.start, o.block_load.minutes), o.block_load.probes_per_s]);
      } else {
        fig.hidden = true;
      }
    }

    function slash8(per) {
      const fig = $('#map-figure');
      const el = $('#map-slash8');
      if (!per || per.length !== 256) { fig.hidden = true; return; }
      fig.hidden = false;
      const max = Math.max(1, ...per);
      if (el.children.length !== 256) {
        el.textContent = '';
        for (let i = 0; i < 256; i++) el.appendChild(document.createElement('span'));
      }
      per.forEach((n, i) => {
        const c = el.children[i];
        const a = n ? 0.12 + 0.88 * Math.log1p(n) / Math.log1p(max) : 0;
        c.style.backgroundColor = n ? 'rgba(179, 38, 30, ' + a.toFixed(3) + ')' : '';
        c.title = i + '.0.0.0/8: ' + n.toLocaleString('en') + ' hosts';
      });
      bump(el);
    }

    function summary(d) {
      const s = d.summary;
      const rows = [
        ['Population', s.population.toLocaleString('en') + ' vulnerable hosts'],
        ['Infected at the end', s.final.infected.toLocaleString('en') + ' (' + (100 * s.final.infected / s.population).toFixed(1) + '%)'],
        ['Peak new infections', fmt(s.peak_new_infections_per_minute) + ' a minute'],
      ];
      for (const cp of s.checkpoints || []) rows.push(['Infected after ' + cp.after, cp.infected.toLocaleString('en')]);
      if (s.logistic) rows.push(['Logistic fit', 'K = ' + s.logistic.k_per_hour.toFixed(2) + ' per hour']);
      const dl = $('#summary');
      dl.textContent = '';
      for (const [k, v] of rows) {
        const dt = document.createElement('dt'); dt.textContent = k;
        const dd = document.createElement('dd'); dd.textContent = v;
        dl.append(dt, dd);
      }
    }

    // An edit re-runs after a short pause, so typing a number runs once;
    // a newer edit aborts the request under way, which stops its run. A
    // form edit sends the whole form, applied to the TOML beside it; a
    // TOML edit sends the text.
    function edited(mode) {
      changedAt = performance.now();
      clearTimeout(timer);
      timer = setTimeout(() => {
        const fields = new URLSearchParams();
        fields.set('source', toml.value);
        fields.set('seed', seed.value);
        fields.set('mode', mode);
        if (mode === 'form') {
          for (const [k, v] of new FormData(form)) {
            if (k !== 'seed' && k !== 'scenario') fields.append(k, v);
          }
        }
        load('/api/edit', fields);
      }, 80);
    }
    toml.addEventListener('input', () => edited('toml'));
    form.addEventListener('input', (e) => edited(e.target === seed ? 'toml' : 'form'));
    form.addEventListener('change', (e) => { if (e.target.type === 'checkbox' || e.target.tagName === 'SELECT') edited('form'); });
    form.addEventListener('submit', (e) => { e.preventDefault(); edited('form'); });

    // showFields puts the run's scenario values into the form's controls,
    // except the one being typed in.
    function showFields(values) {
      if (!values) return;
      for (const el of form.querySelectorAll('[data-key]')) {
        const k = el.dataset.key;
        if (!(k in values) || el === document.activeElement) continue;
        if (el.type === 'checkbox') el.checked = values[k] === 'true';
        else if (el.value !== values[k]) el.value = values[k];
      }
    }

    $('#pin').addEventListener('click', () => {
      if (!last) return;
      const p = pins().filter((x) => x.query !== last.query);
      p.push({ query: last.query, label: last.name + ', seed ' + last.seed });
      savePins(p);
      $('#pin').textContent = 'Pinned (' + p.length + ')';
    });

    const save = $('#save-form');
    if (save) {
      save.addEventListener('submit', (e) => {
        e.preventDefault();
        const st = $('#save-status');
        if (!last) return;
        const fields = new URLSearchParams(last.query);
        fields.set('file', $('#save-name').value);
        postForm('/api/save', fields).then((r) => {
          st.textContent = 'Saved as ' + r.file + '.';
        }).catch((err) => { st.textContent = err.message; });
      });
    }
    load(results.dataset.chartUrl);
  }

  // ---- compare ----
  function comparePage() {
    const params = new URLSearchParams(location.search);
    let list = params.getAll('run').map((q) => ({ query: q, label: '' }));
    if (!list.length) list = pins();
    const ul = $('#pins');

    function render() {
      ul.textContent = '';
      list.forEach((p, i) => {
        const li = document.createElement('li');
        li.dataset.test = 'pin-item';
        const a = document.createElement('a');
        a.href = '/run?' + p.query;
        a.textContent = p.label || p.query;
        const b = document.createElement('button');
        b.type = 'button';
        b.id = 'unpin-' + i;
        b.textContent = 'Unpin';
        b.setAttribute('aria-label', 'Unpin ' + (p.label || 'run ' + (i + 1)));
        b.addEventListener('click', () => { list.splice(i, 1); savePins(list); render(); fetchCompare(); });
        li.append(a, ' ', b);
        ul.appendChild(li);
      });
      const q = new URLSearchParams();
      for (const p of list) q.append('run', p.query);
      $('#compare-permalink').href = '/compare?' + q.toString();
      $('#compare-download-report').href = '/download/compare/report.html?' + q.toString();
      $('#compare-download-csv').href = '/download/compare/runs.csv?' + q.toString();
      $('#compare-download-json').href = '/download/compare/runs.json?' + q.toString();
    }

    function fetchCompare() {
      if (list.length === 0) { setStatus('Nothing pinned: open a scenario and press “Pin for comparison”.'); return; }
      const q = new URLSearchParams();
      for (const p of list) q.append('run', p.query);
      setStatus('Running ' + list.length + ' runs…');
      getJSON('/api/compare?' + q.toString()).then((d) => {
        const runs = d.runs;
        runs.forEach((r, i) => { list[i].label = r.label; });
        render();
        // Runs may have different grids: join them on time.
        const joined = uPlot.join(runs.map((r) => [hours(r.minutes), r.infected]));
        draw($('#compare-chart'), runs.map((r) => ({ label: r.label, spanGaps: true })), joined, hoursAxis);
        const joinedNew = uPlot.join(runs.map((r) => [hours(r.minutes), r.new_per_minute]));
        draw($('#compare-new'), runs.map((r) => ({ label: r.label, spanGaps: true })), joinedNew, hoursAxis);
        setStatus(runs.length + ' runs overlaid, by hours since each run\u2019s start.');
      }).catch((e) => setStatus(e.message, true));
    }

    $('#clear-pins').addEventListener('click', () => { list = []; savePins(list); render(); fetchCompare(); });
    render();
    fetchCompare();
  }

  // ---- ensembles: server-sent events read with fetch, so that an error
  // before the stream shows its message and Cancel aborts it ----
  async function readEvents(resp, onEvent) {
    const reader = resp.body.getReader();
    const dec = new TextDecoder();
    let buf = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buf += dec.decode(value, { stream: true });
      let i;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, i);
        buf = buf.slice(i + 2);
        let ev = 'message';
        let data = '';
        for (const line of block.split('\n')) {
          if (line.startsWith('event: ')) ev = line.slice(7);
          else if (line.startsWith('data: ')) data += line.slice(6);
        }
        onEvent(ev, data ? JSON.parse(data) : null);
      }
    }
  }

  function ensemblePage() {
    const form = $('#ens-form');
    const cancel = $('#ens-cancel');
    const prog = $('#ens-progress');
    const st = $('#ens-status');
    let ctl = null;

    form.addEventListener('submit', (e) => {
      e.preventDefault();
      if (ctl) ctl.abort();
      ctl = new AbortController();
      const mine = ctl;
      const q = new URLSearchParams(new FormData(form));
      if (q.get('scenario') === '') q.delete('scenario');
      history.replaceState(null, '', '/ensemble?' + q.toString());
      for (const id of ['#ens-download-csv', '#ens-download-json', '#ens-download-report']) $(id).hidden = true;
      cancel.disabled = false;
      st.textContent = 'Starting…';
      st.classList.remove('error');
      document.body.dataset.ensemble = 'running';
      const began = performance.now();
      fetch('/api/ensemble?' + q.toString(), { signal: mine.signal }).then(async (r) => {
        if (!r.ok) {
          let body = {};
          try { body = await r.json(); } catch (err) { body.error = 'the lab answered ' + r.status; }
          throw new Error(body.error);
        }
        await readEvents(r, (ev, d) => {
          if (ev === 'bands') {
            prog.max = d.runs;
            prog.value = d.done;
            st.textContent = d.done + ' of ' + d.runs + ' runs';
            document.body.dataset.ensembleDone = String(d.done);
            if (d.minutes) {
              draw($('#ens-chart'), [{ label: '5%', stroke: '#7a9cc6' }, { label: 'median', stroke: '#1f5aa6' }, { label: '95%', stroke: '#7a9cc6' }],
                [hours(d.minutes), d.p5, d.p50, d.p95],
                Object.assign({ bands: [{ series: [3, 1], fill: 'rgba(31, 90, 166, 0.18)' }] }, hoursAxis));
            }
          } else if (ev === 'done') {
            st.textContent = d.runs + ' runs in ' + d.seconds.toFixed(1) + ' s.';
            document.body.dataset.ensemble = 'done';
            const k = '?key=' + encodeURIComponent(d.key);
            $('#ens-download-csv').href = '/download/ensemble/bands.csv' + k;
            $('#ens-download-json').href = '/download/ensemble/ensemble.json' + k;
            $('#ens-download-report').href = '/download/ensemble/report.html' + k;
            for (const id of ['#ens-download-csv', '#ens-download-json', '#ens-download-report']) $(id).hidden = false;
          } else if (ev === 'error') {
            throw new Error(d.error);
          }
        });
      }).catch((err) => {
        if (err.name === 'AbortError') {
          st.textContent = 'Cancelled after ' + ((performance.now() - began) / 1000).toFixed(1) + ' s.';
          document.body.dataset.ensemble = 'cancelled';
          return;
        }
        st.textContent = err.message;
        st.classList.add('error');
        document.body.dataset.ensemble = 'error';
      }).finally(() => { if (mine === ctl) cancel.disabled = true; });
    });
    cancel.addEventListener('click', () => { if (ctl) ctl.abort(); });
    if (new URLSearchParams(location.search).has('runs')) form.requestSubmit();
    sweepForm(form);
  }

  // A sweep runs the ensemble form's scenario and seed at each point; the
  // median of each point is drawn as the point finishes.
  function sweepForm(ensForm) {
    const form = $('#sweep-form');
    const cancel = $('#sweep-cancel');
    const prog = $('#sweep-progress');
    const st = $('#sweep-status');
    const tbody = $('#sweep-table tbody');
    const dl = ['#sweep-download-csv', '#sweep-download-json', '#sweep-download-report'];
    let ctl = null;
    const pct = (x) => (100 * x).toFixed(1) + '%';
    const hrs = (m) => (m == null ? 'not by the end' : (m / 60).toFixed(1));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      if (ctl) ctl.abort();
      ctl = new AbortController();
      const mine = ctl;
      clearErrors(form);
      const q = new URLSearchParams(new FormData(ensForm));
      q.delete('runs');
      if (q.get('scenario') === '') q.delete('scenario');
      for (const [k, v] of new FormData(form)) if (v.trim() !== '') q.append(k, v.trim());
      // The page's own link holds the sweep; its runs are per point.
      const link = new URLSearchParams(q);
      link.delete('runs');
      link.set('point_runs', q.get('runs'));
      history.replaceState(null, '', '/ensemble?' + link.toString());
      for (const id of dl) $(id).hidden = true;
      tbody.textContent = '';
      const points = [];
      cancel.disabled = false;
      st.textContent = 'Starting…';
      st.classList.remove('error');
      document.body.dataset.sweep = 'running';
      fetch('/api/sweep?' + q.toString(), { signal: mine.signal }).then(async (r) => {
        if (!r.ok) {
          let body = {};
          try { body = await r.json(); } catch (err) { body.error = 'the lab answered ' + r.status; }
          throw Object.assign(new Error(body.error), body);
        }
        await readEvents(r, (ev, d) => {
          if (ev === 'progress') {
            prog.max = d.total;
            prog.value = d.done;
            st.textContent = d.done + ' of ' + d.total + ' runs';
          } else if (ev === 'point') {
            points.push(d);
            const joined = uPlot.join(points.map((p) => [hours(p.bands.minutes), p.bands.p50]));
            draw($('#sweep-chart'), points.map((p) => ({ label: p.label })), joined, hoursAxis);
            const tr = document.createElement('tr');
            tr.dataset.test = 'sweep-row';
            const row = d.row;
            const m = row.minutes_to_half;
            for (const text of [d.label,
              pct(row.final_infected_share[1]) + ' (' + pct(row.final_infected_share[0]) + ' to ' + pct(row.final_infected_share[2]) + ')',
              hrs(m[1]) + ' (' + hrs(m[0]) + ' to ' + hrs(m[2]) + ')',
              fmt(row.peak_new_infections_per_minute[1]) + ' (' + fmt(row.peak_new_infections_per_minute[0]) + ' to ' + fmt(row.peak_new_infections_per_minute[2]) + ')']) {
              const td = document.createElement('td'); td.textContent = text; tr.appendChild(td);
            }
            tbody.appendChild(tr);
          } else if (ev === 'done') {
            st.textContent = d.total + ' runs in ' + d.seconds.toFixed(1) + ' s.';
            document.body.dataset.sweep = 'done';
            const k = '?key=' + encodeURIComponent(d.key);
            $('#sweep-download-csv').href = '/download/sweep/sweep.csv' + k;
            $('#sweep-download-json').href = '/download/sweep/sweep.json' + k;
            $('#sweep-download-report').href = '/download/sweep/report.html' + k;
            for (const id of dl) $(id).hidden = false;
          } else if (ev === 'error') {
            throw new Error(d.error);
          }
        });
      }).catch((err) => {
        if (err.name === 'AbortError') {
          st.textContent = 'Cancelled.';
          document.body.dataset.sweep = 'cancelled';
          return;
        }
        st.textContent = err.message;
        st.classList.add('error');
        if (err.key) showFieldError(err.key, err.message);
        document.body.dataset.sweep = 'error';
      }).finally(() => { if (mine === ctl) cancel.disabled = true; });
    });
    cancel.addEventListener('click', () => { if (ctl) ctl.abort(); });
    const params = new URLSearchParams(location.search);
    const sets = params.getAll('set');
    if (sets.length) {
      $('#sweep-set1').value = sets[0];
      $('#sweep-set2').value = sets[1] || '';
      if (params.has('point_runs')) $('#sweep-runs').value = params.get('point_runs');
      form.requestSubmit();
    }
  }

  // ---- pipeline ----
  function pipelinePage() {
    let upload = null;
    const ust = $('#upload-status');

    function cell(tr, text) { const td = document.createElement('td'); td.textContent = text; tr.appendChild(td); }

    $('#upload-form').addEventListener('submit', (e) => {
      e.preventDefault();
      const file = $('#log-file').files[0];
      if (!file) { ust.textContent = 'Choose a log file first.'; return; }
      ust.textContent = 'Reading ' + file.name + '…';
      ust.classList.remove('error');
      getJSON('/api/detect', { method: 'POST', body: file, headers: { 'X-File-Name': file.name.replace(/[^\x20-\x7e]/g, '?') } }).then((d) => {
        upload = d.upload;
        const rep = d.report;
        const t = rep.totals;
        ust.textContent = file.name + ': ' + t.lines.toLocaleString('en') + ' lines, ' + t.probes.toLocaleString('en') + ' worm probes from ' + t.sources.toLocaleString('en') + ' sources.';
        $('#detect-section').hidden = false;
        $('#detect-totals').textContent = ust.textContent;
        const fb = $('#detect-families tbody');
        fb.textContent = '';
        for (const f of rep.families) {
          const tr = document.createElement('tr');
          tr.dataset.test = 'family-row';
          tr.dataset.family = f.family;
          cell(tr, f.family); cell(tr, f.probes.toLocaleString('en')); cell(tr, f.sources.toLocaleString('en')); cell(tr, f.first_seen || ''); cell(tr, f.last_seen || '');
          fb.appendChild(tr);
        }
        const sb = $('#detect-sources tbody');
        sb.textContent = '';
        for (const s of rep.top_sources) {
          const tr = document.createElement('tr');
          cell(tr, s.source); cell(tr, s.probes.toLocaleString('en')); cell(tr, s.families.join(', '));
          sb.appendChild(tr);
        }
        $('#detect-download').href = '/download/detect/' + upload + '/detect.json';
        $('#detect-download-report').href = '/download/detect/' + upload + '/report.html';
        const fams = rep.family_series || [];
        if (fams.length) {
          const joined = uPlot.join(fams.map((f) => [f.series.map((p) => Date.parse(p.utc) / 1000), f.series.map((p) => p.new_sources)]));
          draw($('#detect-chart'), fams.map((f) => ({ label: f.family, spanGaps: false })), joined);
        }
        const sel = $('#fit-family');
        sel.textContent = '';
        for (const f of fams) {
          const o = document.createElement('option');
          o.value = f.family; o.textContent = f.family;
          sel.appendChild(o);
        }
        $('#fit-section').hidden = fams.length === 0;
      }).catch((err) => { ust.textContent = err.message; ust.classList.add('error'); });
    });

    $('#fit-form').addEventListener('submit', (e) => {
      e.preventDefault();
      clearErrors($('#fit-form'));
      const fields = Object.fromEntries(new FormData($('#fit-form')));
      fields.upload = upload;
      postForm('/api/fit', fields).then((d) => {
        const dl = $('#fit-result');
        dl.textContent = '';
        const add = (k, v) => { const dt = document.createElement('dt'); dt.textContent = k; const dd = document.createElement('dd'); dd.textContent = v; dl.append(dt, dd); };
        for (const p of d.params) add(p.name, fmt(p.est) + ' ' + p.unit + (p.fixed ? ' (fixed)' : p.lo != null ? ', 95% interval ' + fmt(p.lo) + ' to ' + fmt(p.hi) : ''));
        add('Infected population', fmt(d.population[0]) + (d.population[1] >= 0 ? ' (95% ' + fmt(d.population[1]) + ' to ' + fmt(d.population[2]) + ')' : ''));
        add('Peak of new infections', d.peak);
        const x = d.hours.map((h) => d.start + h * 3600);
        const obs = x.map((_, i) => (i < d.observed.length ? d.observed[i] : null));
        draw($('#fit-chart'), [{ label: 'observed sources' }, { label: 'fitted (' + d.model + ')', dash: [6, 4] }], [x, obs, d.fitted]);
      }).catch((err) => { $('#fit-error').textContent = err.message; });
    });

    $('#forecast-form').addEventListener('submit', (e) => {
      e.preventDefault();
      $('#forecast-error').textContent = '';
      const q = new URLSearchParams(new FormData($('#forecast-form')));
      history.replaceState(null, '', '/pipeline?' + q.toString());
      $('#forecast-summary').textContent = 'Running…';
      getJSON('/api/forecast?' + q.toString()).then((d) => {
        $('#forecast-summary').textContent = d.name + ' on ' + d.block + ': peak ' + fmt(d.peak_probes_per_s) + ' probes a second, ' + fmt(d.peak_minute / 60) + ' h into the run.';
        draw($('#forecast-chart'), [{ label: 'probes a second' }], [times(d.start, d.minutes), d.probes_per_s]);
      }).catch((err) => { $('#forecast-summary').textContent = ''; $('#forecast-error').textContent = err.message; });
    });

    // A forecast's link runs it again.
    const params = new URLSearchParams(location.search);
    if (params.has('block')) {
      for (const k of ['scenario', 'block', 'seed']) if (params.has(k)) $('#forecast-' + k).value = params.get(k);
      $('#forecast-form').requestSubmit();
    }

    const save = $('#save-detect-form');
    if (save) {
      save.addEventListener('submit', (e) => {
        e.preventDefault();
        postForm('/api/save', { file: $('#save-detect-name').value, upload: upload })
          .then((r) => { $('#save-detect-status').textContent = 'Saved as ' + r.file + '.'; })
          .catch((err) => { $('#save-detect-status').textContent = err.message; });
      });
    }
  }

  const pages = { run: runPage, compare: comparePage, ensemble: ensemblePage, pipeline: pipelinePage };
  if (pages[page]) pages[page]();
})();
