// The dashboard's entry point: takes the token, opens the socket, and routes between the
// fleet, questions, machines and supervisor views by the address's fragment (`#/`,
// `#/questions`, `#/machines`, `#/supervisors/<id>`). Views update from frames; the page
// is never reloaded for data.

import { ApiError, createApi } from './api.js';
import { say } from './dom.js';
import { createFleetView } from './fleet.js';
import { createMachinesView } from './machines.js';
import { createQuestionsView } from './questions.js';
import { createSocket } from './socket.js';
import { createStore } from './store.js';
import { createSupervisorView } from './supervisor.js';
import { forgetToken, storeToken, takeToken } from './token.js';

const $ = (id) => document.getElementById(id);

function showLogin(error = '') {
  for (const view of document.querySelectorAll('.view')) view.hidden = true;
  $('login').hidden = false;
  $('sign-out').hidden = true;
  say($('login-error'), error, error !== '');
  $('login-token').focus();
}

/** The token was refused: forget it and ask again from a clean page. */
function refused() {
  forgetToken();
  sessionStorage.setItem('steward.refused', '1');
  location.replace(location.pathname);
}

/**
 * The header's word on the runtime's database, from `/readyz` (every 5 s) and the
 * `runtime.status` frames the socket brings: hidden while all is well.
 */
function createDatabaseBadge(badge) {
  const problems = {
    'database unavailable': 'Database unavailable',
    'commits failing': 'Commits failing',
  };
  function show({ database, status, since }) {
    const problem =
      problems[status] ?? (database === 'unavailable' ? problems['database unavailable'] : null);
    badge.hidden = problem === null;
    if (problem === null) return;
    const at = since ? ` since ${new Date(since).toLocaleTimeString()}` : '';
    badge.textContent = `${problem}${at}: nothing can be answered until the runtime reconnects (it retries by itself)`;
  }
  async function poll() {
    try {
      const response = await fetch('/readyz');
      show(await response.json());
    } catch {
      // The connection badge already says the server is away.
    }
  }
  poll();
  setInterval(poll, 5_000);
  return { show };
}

async function start(token) {
  const api = createApi(token, refused);
  try {
    await api.get('/supervisors?limit=1');
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return refused();
  }
  $('login').hidden = true;
  $('sign-out').hidden = false;

  const store = createStore();
  const connection = $('connection');
  const database = createDatabaseBadge($('database'));
  let connectedBefore = false;
  let current = null;

  const socket = createSocket({
    token,
    onFrame(frame) {
      store.applyFrame(frame);
      if (frame.type === 'runtime.status') {
        database.show(frame);
        // Reads were refused while the database was away: the view reads again.
        if (frame.database === 'available') current?.refresh();
      }
      if (frame.type === 'hello.ok') {
        $('who').textContent = frame.admin
          ? `admin${frame.owner ? ` (${frame.owner})` : ''}`
          : frame.owner;
      }
    },
    onState(state, delay) {
      if (state === 'refused') return refused();
      connection.dataset.state = state;
      connection.textContent =
        state === 'reconnecting' ? `reconnecting in ${Math.ceil(delay / 1000)} s` : state;
    },
    onSubscribe: () => store.beginResync(),
    onSubscribed() {
      store.endResync();
      // Frames sent while the socket was down are lost: the view reads its data again.
      if (connectedBefore) current?.refresh();
      connectedBefore = true;
    },
  });

  const main = document.querySelector('main');
  const answer = (supervisorId, questionId, value) =>
    socket.answer(supervisorId, questionId, value);
  const views = {
    fleet: createFleetView({ api, store, root: main }),
    machines: createMachinesView({ api, store, root: main }),
    questions: createQuestionsView({ api, store, root: main, answer }),
    supervisor: createSupervisorView({ api, store, root: main, answer }),
  };
  api
    .get('/machines')
    .then(({ machines }) => views.fleet.setMachines(machines))
    .catch(() => {});

  function route() {
    const hash = location.hash || '#/';
    const supervisor = /^#\/supervisors\/([^/?#]+)$/.exec(hash);
    const named = { '#/machines': 'machines', '#/questions': 'questions' };
    const name = supervisor ? 'supervisor' : (named[hash] ?? 'fleet');
    const next = views[name];
    if (current && current !== next) current.hide();
    for (const section of document.querySelectorAll('.view')) {
      section.hidden = section.id !== `view-${name}`;
    }
    for (const link of document.querySelectorAll('[data-nav]')) {
      link.classList.toggle('current', link.dataset.nav === name);
    }
    current = next;
    next.show(supervisor ? { id: decodeURIComponent(supervisor[1]) } : {});
  }

  window.addEventListener('hashchange', route);
  $('sign-out').addEventListener('click', () => {
    socket.close();
    forgetToken();
    location.replace(location.pathname);
  });
  route();
}

$('login-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const token = $('login-token').value.trim();
  if (!token) return;
  storeToken(token);
  start(token);
});

const refusedBefore = sessionStorage.getItem('steward.refused');
sessionStorage.removeItem('steward.refused');
// A refused token was forgotten before the reload: only a new link can bring one here.
const token = takeToken();
if (token) start(token);
else showLogin(refusedBefore ? 'The server refused that token. Paste another one.' : '');
