// One pending question as a card with the form its answer kind calls for: yes/no for
// confirm, a button per option for choice, an input for number and text, a textarea for
// json. `submit(value)` sends the answer; the card shows what came back.

import { el, formatTime } from './dom.js';

/**
 * The card of a question. `submit(value)` returns a promise of the `answer.ack` frame, or
 * rejects with `{ code, message }`; the outcome is written in the card. A page may give
 * `meta`, a node to show instead of the line of ids and times, and `ackText(ack)`, the
 * outcome's words for an ack.
 */
export function questionCard(question, submit, { meta, ackText = defaultAckText } = {}) {
  const outcome = el('output', { class: 'outcome', role: 'status' });
  const form = el('form', { class: 'answer', 'data-kind': question.answer.kind });

  async function send(value) {
    for (const control of form.elements) control.disabled = true;
    outcome.textContent = 'Sending…';
    try {
      const ack = await submit(value);
      outcome.textContent = ackText(ack);
    } catch (error) {
      outcome.textContent = `${error.code}: ${error.message}`;
      for (const control of form.elements) control.disabled = false;
    }
  }

  fillForm(form, question.answer, send, outcome);
  const audience =
    question.audience.kind === 'role' ? `for role ${question.audience.role}` : 'for the owner';
  return el(
    'article',
    { class: 'question', 'data-question-id': question.id },
    el('p', { class: 'prompt' }, question.prompt),
    meta ??
      el(
        'p',
        { class: 'meta' },
        `${question.id} · ${audience} · asked ${formatTime(question.askedAt)}`,
        question.deadline ? ` · deadline ${formatTime(question.deadline)}` : null,
        question.escalated ? ' · escalated' : null,
        question.reminded ? ' · reminder' : null,
      ),
    form,
    outcome,
  );
}

const defaultAckText = (ack) =>
  ack.duplicate ? `Already answered (version ${ack.version})` : `Answered (version ${ack.version})`;

function fillForm(form, kind, send, outcome) {
  const button = (label, value) => {
    const b = el('button', { type: 'button', 'data-value': label }, label);
    b.addEventListener('click', () => send(value));
    return b;
  };
  switch (kind.kind) {
    case 'confirm':
      form.append(button('Yes', true), button('No', false));
      return;
    case 'choice':
      form.append(...kind.options.map((option) => button(option, option)));
      return;
    case 'number': {
      const input = el('input', {
        type: 'number',
        name: 'value',
        'aria-label': 'Your answer (a number)',
        required: true,
        min: kind.min,
        max: kind.max,
        step: kind.integer ? 1 : 'any',
      });
      form.append(input, el('button', { type: 'submit' }, 'Answer'));
      form.addEventListener('submit', (event) => {
        event.preventDefault();
        send(input.valueAsNumber);
      });
      return;
    }
    case 'text': {
      const input = el('input', {
        type: 'text',
        name: 'value',
        'aria-label': 'Your answer',
        required: true,
        maxlength: kind.maxLength,
      });
      form.append(input, el('button', { type: 'submit' }, 'Answer'));
      form.addEventListener('submit', (event) => {
        event.preventDefault();
        send(input.value);
      });
      return;
    }
    case 'json': {
      const area = el('textarea', {
        name: 'value',
        required: true,
        spellcheck: 'false',
        'aria-label': 'Your answer (JSON)',
      });
      area.placeholder = `JSON matching ${JSON.stringify(kind.schema)}`;
      form.append(area, el('button', { type: 'submit' }, 'Answer'));
      form.addEventListener('submit', (event) => {
        event.preventDefault();
        let value;
        try {
          value = JSON.parse(area.value);
        } catch (error) {
          outcome.textContent = `Not valid JSON: ${error.message}`;
          return;
        }
        send(value);
      });
      return;
    }
    default:
      form.append(el('p', {}, `This page cannot answer questions of kind "${kind.kind}".`));
  }
}
