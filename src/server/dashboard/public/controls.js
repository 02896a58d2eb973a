// Pause, resume and cancel for the supervisor page, and retry for one that failed or was
// cancelled (back to work from its newest checkpoint), each behind a confirmation that says
// what it does. Each goes through the HTTP API, which sends the supervisor the event and
// answers once the result is committed; the page then changes from the status frame that
// commit produced, like every other change.

import { el, say } from './dom.js';

const TERMINAL = new Set(['completed', 'failed', 'cancelled']);
const RETRIABLE = new Set(['failed', 'cancelled']);

const FORMS = {
  pause: {
    label: 'Pause',
    explain: 'It takes no events until resumed; its questions stay asked.',
    confirm: 'Pause supervisor',
    keep: 'Keep it running',
    danger: false,
  },
  resume: {
    label: 'Resume',
    explain: 'It goes on where it was paused.',
    confirm: 'Resume supervisor',
    keep: 'Leave it paused',
    danger: false,
  },
  cancel: {
    label: 'Cancel',
    reasonLabel: 'Reason for cancelling',
    confirm: 'Cancel supervisor',
    keep: 'Keep it running',
    danger: true,
  },
  retry: {
    label: 'Retry',
    reasonLabel: 'Reason for retrying',
    explain: 'Back to work from its newest checkpoint.',
    confirm: 'Retry supervisor',
    keep: 'Leave it as it is',
    danger: false,
  },
};

/** The control bar in `box`; `render(view)` shows the buttons the view's state allows. */
export function createControls({ api, box, status }) {
  let supervisorId = null;
  /** The action whose confirmation is on screen (a key of FORMS), or none. */
  let confirming = null;
  let busy = false;
  let lastView = null;

  async function run(label, path, body) {
    const id = supervisorId;
    busy = true;
    render(lastView);
    try {
      const result = await api.post(`/supervisors/${encodeURIComponent(id)}/${path}`, body);
      const version = result.version === undefined ? '' : ` (version ${result.version})`;
      if (id === supervisorId) say(status, `${label}: done${version}`);
    } catch (error) {
      if (id === supervisorId) say(status, `${label}: ${error.code}: ${error.message}`, true);
    } finally {
      busy = false;
      confirming = null;
      render(lastView);
    }
  }

  function button(label, attributes, onClick) {
    const b = el('button', { type: 'button', disabled: busy, ...attributes }, label);
    b.addEventListener('click', onClick);
    return b;
  }

  /** The confirmation of `action`: what it does, and a reason where the API keeps one. */
  function confirmForm(action) {
    const words = FORMS[action];
    const reason = words.reasonLabel
      ? el('input', {
          type: 'text',
          maxlength: 500,
          placeholder: 'reason (optional)',
          'aria-label': words.reasonLabel,
        })
      : null;
    const form = el(
      'form',
      { class: 'confirm-form', 'data-confirm': action },
      words.explain ? el('span', { class: 'confirm-explain' }, words.explain) : null,
      reason,
      el(
        'button',
        { type: 'submit', class: words.danger ? 'danger' : '', disabled: busy },
        words.confirm,
      ),
      button(words.keep, { 'data-action': 'keep' }, () => {
        confirming = null;
        render(lastView);
      }),
    );
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const text = reason?.value.trim();
      run(words.label, action, text ? { reason: text } : {});
    });
    return form;
  }

  function render(view) {
    lastView = view;
    const allowed = view && (TERMINAL.has(view.state) ? RETRIABLE.has(view.state) : true);
    if (!allowed) {
      box.replaceChildren();
      return;
    }
    if (confirming) {
      // A live update while someone types the reason keeps the form (and what is typed).
      const form = box.querySelector(`form[data-confirm="${confirming}"]`);
      if (form) {
        for (const b of form.querySelectorAll('button')) b.disabled = busy;
      } else box.replaceChildren(confirmForm(confirming));
      return;
    }
    if (RETRIABLE.has(view.state)) {
      box.replaceChildren(asking('retry'));
      return;
    }
    box.replaceChildren(
      asking(view.state === 'paused' ? 'resume' : 'pause'),
      asking('cancel', { class: 'danger' }),
    );
  }

  /** The button that puts the confirmation of `action` on screen. */
  function asking(action, attributes = {}) {
    return button(`${FORMS[action].label}…`, { 'data-action': action, ...attributes }, () => {
      confirming = action;
      render(lastView);
    });
  }

  return {
    /** A new supervisor is shown: forget the old one's half-done confirmation and message. */
    reset(id) {
      supervisorId = id;
      confirming = null;
      say(status, '');
      render(null);
    },
    render,
  };
}
