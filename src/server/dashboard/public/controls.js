// Pause, resume and cancel for the supervisor page. Each goes through the HTTP API, which
// sends the supervisor the event and answers once the result is committed; the page then
// changes from the status frame that commit produced, like every other change.

import { el, say } from './dom.js';

const TERMINAL = new Set(['completed', 'failed', 'cancelled']);

/** The control bar in `box`; `render(view)` shows the buttons the view's state allows. */
export function createControls({ api, box, status }) {
  let supervisorId = null;
  let confirming = false;
  let busy = false;
  let lastView = null;

  async function run(label, path, body) {
    const id = supervisorId;
    busy = true;
    render(lastView);
    try {
      const result = await api.post(`/supervisors/${encodeURIComponent(id)}/${path}`, body);
      if (id === supervisorId) say(status, `${label}: done (version ${result.version ?? '–'})`);
    } catch (error) {
      if (id === supervisorId) say(status, `${label}: ${error.code}: ${error.message}`, true);
    } finally {
      busy = false;
      confirming = false;
      render(lastView);
    }
  }

  function button(label, attributes, onClick) {
    const b = el('button', { type: 'button', disabled: busy, ...attributes }, label);
    b.addEventListener('click', onClick);
    return b;
  }

  function cancelForm() {
    const reason = el('input', {
      type: 'text',
      maxlength: 500,
      placeholder: 'reason (optional)',
      'aria-label': 'Reason for cancelling',
    });
    const form = el(
      'form',
      { class: 'cancel-form' },
      reason,
      el('button', { type: 'submit', class: 'danger', disabled: busy }, 'Cancel supervisor'),
      button('Keep it running', { 'data-action': 'keep' }, () => {
        confirming = false;
        render(lastView);
      }),
    );
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const text = reason.value.trim();
      run('Cancel', 'cancel', text ? { reason: text } : {});
    });
    return form;
  }

  function render(view) {
    lastView = view;
    if (!view || TERMINAL.has(view.state)) {
      box.replaceChildren();
      return;
    }
    if (confirming) {
      // A live update while someone types the reason keeps the form (and what is typed).
      const form = box.querySelector('form.cancel-form');
      if (form) {
        for (const b of form.querySelectorAll('button')) b.disabled = busy;
      } else box.replaceChildren(cancelForm());
      return;
    }
    box.replaceChildren(
      view.state === 'paused'
        ? button('Resume', { 'data-action': 'resume' }, () => run('Resume', 'resume'))
        : button('Pause', { 'data-action': 'pause' }, () => run('Pause', 'pause')),
      button('Cancel…', { 'data-action': 'cancel', class: 'danger' }, () => {
        confirming = true;
        render(lastView);
      }),
    );
  }

  return {
    /** A new supervisor is shown: forget the old one's half-done confirmation and message. */
    reset(id) {
      supervisorId = id;
      confirming = false;
      say(status, '');
      render(null);
    },
    render,
  };
}
