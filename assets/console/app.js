// gridgate proxy console: a live view of the proxy's groups over its REST API and WebSocket
// (docs/console.md). Plain JavaScript, no build step.
const PAGE = 50;
/** Samples kept per chart: two minutes at the default push period of one second. */
const HISTORY = 120;
const state = {
  groups: [],
  selected: undefined,
  page: 0,
  filter: '',
  socket: undefined,
  // Rates are computed here from the totals of successive pushes: key -> { last, samples }.
  history: new Map(),
  refusedSeen: undefined,
  configLoadedAt: undefined,
};
const $ = (sel) => document.querySelector(sel);

function token() {
  const fromPage = document.querySelector('meta[name="gridgate-token"]').content;
  return fromPage || sessionStorage.getItem('gridgate-token') || '';
}

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') e.className = v;
    else if (k.startsWith('data-')) e.setAttribute(k, v);
    else e[k] = v;
  }
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c ?? '')));
  return e;
}

const NUMERIC_FIELDS = ['port', 'rtu', 't1', 't2', 't3', 'k', 'w', 'idleTime', 'maxConnections'];

const ago = (ms) => {
  if (ms === undefined || ms === null) return '–';
  const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
  return s < 60 ? `${s} s` : s < 3600 ? `${Math.floor(s / 60)} min` : `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
};

async function api(path, options = {}) {
  const res = await fetch(path, {
    ...options,
    headers: { 'x-gridgate-token': token(), 'content-type': 'application/json', ...(options.headers ?? {}) },
  });
  if (res.status === 401) {
    askToken();
    throw new Error('token needed');
  }
  return res;
}

function askToken() {
  const form = $('#token-form');
  form.hidden = false;
  form.onsubmit = (ev) => {
    ev.preventDefault();
    sessionStorage.setItem('gridgate-token', form.token.value);
    form.hidden = true;
    connect();
  };
}

function visibleGroups() {
  const f = state.filter.trim().toLowerCase();
  if (f === '') return state.groups;
  return state.groups.filter((g) => String(g.id) === f || g.name.toLowerCase().includes(f) || g.state.includes(f));
}

function renderList() {
  const groups = visibleGroups();
  const pages = Math.max(1, Math.ceil(groups.length / PAGE));
  state.page = Math.min(state.page, pages - 1);
  const rows = groups.slice(state.page * PAGE, (state.page + 1) * PAGE).map((g) => {
    const link = g.state === 'up' ? `${g.slave.peer} (${ago(g.slave.since)})` : g.slave.trying ? `trying ${g.slave.trying}` : '–';
    const tr = el(
      'tr',
      { 'data-group': String(g.id), class: g.id === state.selected ? 'selected' : '' },
      el('td', {}, g.id),
      el('td', {}, g.name),
      el('td', {}, g.port),
      el('td', {}, g.rtu),
      el('td', {}, el('span', { class: `state state-${g.state}` }, g.state), ' ', link),
      el('td', { class: 'startdt' }, g.slave.dataTransfer),
      el('td', { class: 'masters' }, `${g.masters.filter((m) => m.started).length}/${g.masters.length}`),
      el('td', {}, `${g.asdusIn}/${g.asdusOut}`),
      el('td', {}, g.slave.queued),
      el('td', {}, g.drops),
      el('td', {}, g.reconnects),
      el('td', { title: g.lastRefusal ? `${g.lastRefusal.peer}: ${g.lastRefusal.reason}` : '' }, g.refused),
    );
    tr.onclick = () => select(g.id);
    return tr;
  });
  $('#groups tbody').replaceChildren(...rows);
  $('#count').textContent = `${groups.length} of ${state.groups.length} groups`;
  $('#page').textContent = `${state.page + 1}/${pages}`;
}

function renderDetail() {
  const g = state.groups.find((x) => x.id === state.selected);
  if (!g) return;
  $('#detail-title').textContent = `Group ${g.id} ${g.name} — port ${g.port}, RTU ${g.rtu}`;
  $('#group-started').textContent = g.startedAt ? `started at ${new Date(g.startedAt).toLocaleString()}` : '';
  renderCharts(g);
  $('#masters tbody').replaceChildren(
    ...g.masters.map((m) => {
      const samples = state.history.get(`m${g.id}/${m.id}`)?.samples ?? [];
      return el(
        'tr',
        { 'data-master': m.peer },
        el('td', {}, m.peer),
        el('td', {}, m.oa),
        el('td', {}, m.role),
        el('td', {}, m.started ? `started ${ago(m.startedAt)}` : 'stopped'),
        el('td', {}, ago(m.connectedAt)),
        el('td', {}, `${m.asdusIn}/${m.asdusOut}`),
        el('td', {}, m.commands),
        el('td', {}, m.queued),
        el(
          'td',
          { class: 'rates' },
          chart(samples, { width: 120, height: 24, title: `master ${m.peer} ASDUs per second` }),
          legend(samples),
        ),
      );
    }),
  );
  // A new refusal since the table was loaded: load it again (the push carries only the count).
  if (state.refusedSeen !== undefined && g.refused !== state.refusedSeen) loadRefusals(g.id).catch(() => undefined);
}

function showRefusals(d) {
  state.refusedSeen = d.refused;
  $('#refusals tbody').replaceChildren(
    ...d.refusals
      .slice()
      .reverse()
      .map((r) => el('tr', {}, el('td', {}, new Date(r.at).toLocaleTimeString()), el('td', {}, r.peer), el('td', {}, r.reason))),
  );
}

async function loadRefusals(id) {
  state.refusedSeen = undefined;
  const res = await api(`/api/groups/${id}`);
  if (res.ok && id === state.selected) showRefusals(await res.json());
}

/** Loads the refusals and fills the edit form (only on selection and after a restart: never under the user's typing). */
async function loadDetail(id) {
  state.refusedSeen = undefined;
  const res = await api(`/api/groups/${id}`);
  if (!res.ok) return;
  const d = await res.json();
  showRefusals(d);
  const f = $('#edit-form');
  const c = d.config;
  f.name.value = c.name;
  f.port.value = c.port;
  f.rtu.value = c.rtu;
  f.hosts.value = c.hosts.map((h) => (h.host.includes(':') ? `[${h.host}]:${h.port}` : `${h.host}:${h.port}`)).join(';');
  f.filter.value = c.filter.join(';');
  for (const k of NUMERIC_FIELDS) f[k].value = c[k];
  f.logEvents.checked = c.logEvents;
  f.sameIp.value = c.sameIp;
}

function select(id) {
  state.selected = id;
  $('#detail').hidden = false;
  $('#log').textContent = '';
  $('#edit-result').textContent = '';
  renderList();
  renderDetail();
  loadDetail(id).catch(() => undefined);
  state.socket?.send(JSON.stringify({ type: 'subscribeLog', group: id }));
}

/** pino's level numbers (30 is info, 40 warn): the same names as the text log files. */
const LEVELS = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
/** Fields every line has, or that name the group itself: not repeated in the pane. */
const STANDARD = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'name', 'group', 'id']);

const fieldText = (k, v) => `${k}=${typeof v === 'string' && /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v)}`;

function appendLog(line) {
  const log = $('#log');
  let entry;
  try {
    const j = JSON.parse(line);
    const level = LEVELS[j.level] ?? String(j.level);
    const fields = Object.entries(j)
      .filter(([k]) => !STANDARD.has(k))
      .map(([k, v]) => fieldText(k, v))
      .join(' ');
    entry = el(
      'div',
      { class: `line level-${level.toLowerCase()}` },
      el('span', { class: 'time' }, new Date(j.time).toLocaleTimeString()),
      ' ',
      el('span', { class: 'level' }, level.padEnd(5)),
      ' ',
      el('span', { class: 'msg' }, j.msg ?? ''),
      fields ? ' ' : '',
      el('span', { class: 'fields' }, fields),
    );
  } catch {
    entry = el('div', { class: 'line' }, line);
  }
  log.append(entry);
  while (log.childNodes.length > 500) log.firstChild.remove();
  log.scrollTop = log.scrollHeight;
}

/** Adds one push's totals to a series: rates per second from the difference to the last push. */
function sample(key, now, totals) {
  let h = state.history.get(key);
  if (!h) {
    h = { last: undefined, samples: [] };
    state.history.set(key, h);
  }
  if (h.last && now > h.last.t) {
    const dt = (now - h.last.t) / 1000;
    // Totals start again from 0 when a link or group restarts: no negative rate.
    const rate = (a, b) => Math.max(0, a - b) / dt;
    h.samples.push({ in: rate(totals.in, h.last.in), out: rate(totals.out, h.last.out), queue: totals.queue });
    if (h.samples.length > HISTORY) h.samples.shift();
  }
  h.last = { t: now, ...totals };
  return h.samples;
}

function recordRates(groups) {
  const now = Date.now();
  const live = new Set();
  for (const g of groups) {
    const queued = g.slave.queued + g.masters.reduce((n, m) => n + m.queued, 0);
    live.add(`g${g.id}`);
    sample(`g${g.id}`, now, { in: g.asdusIn, out: g.asdusOut, queue: queued });
    for (const m of g.masters) {
      live.add(`m${g.id}/${m.id}`);
      sample(`m${g.id}/${m.id}`, now, { in: m.asdusIn, out: m.asdusOut, queue: m.queued });
    }
  }
  // Masters that left and groups that were removed take their history with them.
  for (const key of state.history.keys()) if (!live.has(key)) state.history.delete(key);
}

const SVG = 'http://www.w3.org/2000/svg';
function svgEl(tag, attrs) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  return e;
}

/**
 * A small line chart drawn as SVG: ASDUs/s in and out on one scale, and the queue depth on its own
 * (it is a count, not a rate). The legend gives the latest values.
 */
function chart(samples, { width, height, title }) {
  const svg = svgEl('svg', { width, height, viewBox: `0 0 ${width} ${height}`, class: 'chart', role: 'img', 'aria-label': title });
  const rateMax = Math.max(1, ...samples.map((s) => Math.max(s.in, s.out)));
  const queueMax = Math.max(1, ...samples.map((s) => s.queue));
  // The newest sample at the right edge, older ones leftwards, one step per push.
  const step = (width - 2) / (HISTORY - 1);
  const x = (i) => width - 1 - (samples.length - 1 - i) * step;
  const line = (key, max, cls) => {
    const points = samples.map((s, i) => `${x(i).toFixed(1)},${(height - 1 - (s[key] / max) * (height - 3)).toFixed(1)}`).join(' ');
    svg.append(svgEl('polyline', { points, class: cls, 'data-series': key }));
  };
  svg.append(svgEl('rect', { x: 0, y: 0, width, height, class: 'frame' }));
  line('queue', queueMax, 'queue');
  line('in', rateMax, 'in');
  line('out', rateMax, 'out');
  return svg;
}

function legend(samples) {
  const s = samples.at(-1) ?? { in: 0, out: 0, queue: 0 };
  return el(
    'span',
    { class: 'legend' },
    el('span', { class: 'in' }, `in ${s.in.toFixed(1)}/s`),
    ' ',
    el('span', { class: 'out' }, `out ${s.out.toFixed(1)}/s`),
    ' ',
    el('span', { class: 'queue' }, `queue ${s.queue}`),
  );
}

function renderCharts(g) {
  const samples = state.history.get(`g${g.id}`)?.samples ?? [];
  $('#group-chart').replaceChildren(
    chart(samples, { width: 360, height: 70, title: `group ${g.id} ASDUs per second and queue` }),
    legend(samples),
  );
}

$('#edit-form').onsubmit = async (ev) => {
  ev.preventDefault();
  const f = ev.target;
  const edit = { name: f.name.value, hosts: f.hosts.value, filter: f.filter.value, logEvents: f.logEvents.checked, sameIp: f.sameIp.value };
  for (const k of NUMERIC_FIELDS) edit[k] = Number(f[k].value);
  const out = $('#edit-result');
  out.className = '';
  out.textContent = 'restarting…';
  const res = await api(`/api/groups/${state.selected}/restart`, { method: 'POST', body: JSON.stringify(edit) });
  const body = await res.json();
  if (res.ok) {
    out.textContent = 'restarted with the new settings';
    loadDetail(state.selected).catch(() => undefined);
  } else {
    out.className = 'error';
    out.textContent = body.problems ? body.problems.map((p) => `${p.field}: ${p.message}`).join('\n') : body.error;
  }
};

$('#filter').oninput = (ev) => {
  state.filter = ev.target.value;
  state.page = 0;
  renderList();
};
$('#prev').onclick = () => {
  state.page = Math.max(0, state.page - 1);
  renderList();
};
$('#next').onclick = () => {
  state.page += 1;
  renderList();
};
for (const [id, path] of [
  ['#export-csv', '/api/config.csv'],
  ['#export-yaml', '/api/config.yaml'],
]) {
  $(id).onclick = async (ev) => {
    ev.preventDefault();
    const res = await api(path);
    const url = URL.createObjectURL(await res.blob());
    const a = el('a', { href: url, download: $(id).getAttribute('download') });
    a.click();
    URL.revokeObjectURL(url);
  };
}

/** The configuration panel: rows rejected, cells loaded with IEC104MM2SS's default, notes. */
async function loadConfigIssues() {
  const res = await api('/api/config/issues');
  if (!res.ok) return;
  const r = await res.json();
  const where = (i) => `${i.line === undefined ? i.file : `${i.file}:${i.line}`}${i.field ? ` ${i.field}` : ''}: ${i.message}`;
  const items = [
    ...r.rejected.map((i) => el('li', { class: 'rejected' }, 'rejected: ', where(i))),
    ...r.warnings.map((i) => el('li', { class: 'warning' }, 'warning: ', where(i))),
    ...r.notes.map((i) => el('li', { class: 'note' }, 'note: ', where(i))),
  ];
  const panel = $('#config-issues');
  panel.hidden = items.length === 0;
  $('#config-issues summary').textContent =
    `Configuration: ${r.rejected.length} rows rejected, ${r.warnings.length} warnings, ${r.notes.length} notes`;
  $('#config-issues ul').replaceChildren(...items);
}

function renderNtp(ntp) {
  const e = $('#ntp');
  if (!ntp) {
    e.textContent = 'NTP: not configured';
    return;
  }
  const offset = ntp.offsetMs === undefined ? '' : `, offset ${ntp.offsetMs.toFixed(1)} ms`;
  const last = ntp.lastSuccess ? `, last sync ${ago(ntp.lastSuccess)} ago` : '';
  const who = ntp.server ? ` via ${ntp.server}` : '';
  const clock = ntp.clockMaySet === undefined ? '' : ntp.clockMaySet ? ', may set the clock' : ', may not set the clock';
  e.textContent = `NTP: ${ntp.state}${who}${offset}${last}${clock}`;
  e.className = ntp.state === 'synced' || ntp.state === 'set' ? 'ok badge' : 'warn badge';
}

function connect() {
  const proto = location.protocol === 'https:' ? 'wss' : 'ws';
  const ws = new WebSocket(`${proto}://${location.host}/api/live?token=${encodeURIComponent(token())}`);
  let opened = false;
  state.socket = ws;
  ws.onopen = () => {
    opened = true;
    $('#conn').textContent = 'live';
    $('#conn').className = 'badge ok';
    if (state.selected !== undefined) ws.send(JSON.stringify({ type: 'subscribeLog', group: state.selected }));
  };
  ws.onmessage = (ev) => {
    const m = JSON.parse(ev.data);
    if (m.type === 'groups') {
      state.groups = m.groups.sort((a, b) => a.id - b.id);
      recordRates(state.groups);
      renderList();
      renderDetail();
      renderNtp(m.ntp);
      $('#started').textContent = m.startedAt ? `started at ${new Date(m.startedAt).toLocaleString()}` : '';
      if (m.configLoadedAt !== state.configLoadedAt) {
        state.configLoadedAt = m.configLoadedAt;
        loadConfigIssues().catch(() => undefined);
      }
    } else if (m.type === 'logTail' && m.group === state.selected) {
      $('#log').textContent = '';
      m.lines.forEach(appendLog);
    } else if (m.type === 'log' && m.group === state.selected) appendLog(m.line);
  };
  ws.onclose = () => {
    $('#conn').textContent = 'disconnected: retrying';
    $('#conn').className = 'badge bad';
    if (!opened) {
      // Refused at once: the token is wrong (or missing). Ask again rather than retrying.
      sessionStorage.removeItem('gridgate-token');
      if (!document.querySelector('meta[name="gridgate-token"]').content) return askToken();
    }
    setTimeout(connect, 2000);
  };
}

if (token()) connect();
else askToken();
