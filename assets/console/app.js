// gridgate proxy console: a live view of the proxy's groups over its REST API and WebSocket
// (docs/console.md). Plain JavaScript, no build step.
const PAGE = 50;
const state = { groups: [], selected: undefined, page: 0, filter: '', socket: undefined };
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
  $('#detail-title').textContent = `Group ${g.id} ${g.name} — port ${g.port}`;
  $('#masters tbody').replaceChildren(
    ...g.masters.map((m) =>
      el(
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
      ),
    ),
  );
}

async function loadDetail(id) {
  const res = await api(`/api/groups/${id}`);
  if (!res.ok) return;
  const d = await res.json();
  $('#refusals tbody').replaceChildren(
    ...d.refusals
      .slice()
      .reverse()
      .map((r) => el('tr', {}, el('td', {}, new Date(r.at).toLocaleTimeString()), el('td', {}, r.peer), el('td', {}, r.reason))),
  );
  const f = $('#edit-form');
  const c = d.config;
  f.hosts.value = c.hosts.map((h) => (h.host.includes(':') ? `[${h.host}]:${h.port}` : `${h.host}:${h.port}`)).join(';');
  f.filter.value = c.filter.join(';');
  for (const k of ['t1', 't2', 't3', 'k', 'w', 'idleTime', 'maxConnections']) f[k].value = c[k];
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

function appendLog(line) {
  const log = $('#log');
  let text = line;
  try {
    const j = JSON.parse(line);
    text = `${new Date(j.time).toLocaleTimeString()} ${['', '', '', 'DEBUG', 'INFO', 'WARN', 'ERROR'][Math.floor(j.level / 10)] ?? j.level} ${j.msg}`;
  } catch {
    // Not JSON: show as it is.
  }
  log.append(text + '\n');
  while (log.childNodes.length > 500) log.firstChild.remove();
  log.scrollTop = log.scrollHeight;
}

$('#edit-form').onsubmit = async (ev) => {
  ev.preventDefault();
  const f = ev.target;
  const edit = { hosts: f.hosts.value, filter: f.filter.value, logEvents: f.logEvents.checked, sameIp: f.sameIp.value };
  for (const k of ['t1', 't2', 't3', 'k', 'w', 'idleTime', 'maxConnections']) edit[k] = Number(f[k].value);
  const out = $('#edit-result');
  out.className = '';
  out.textContent = 'restarting…';
  const res = await api(`/api/groups/${state.selected}/restart`, { method: 'POST', body: JSON.stringify(edit) });
  const body = await res.json();
  if (res.ok) out.textContent = 'restarted with the new settings';
  else {
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
      renderList();
      renderDetail();
      renderNtp(m.ntp);
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
