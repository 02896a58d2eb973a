// What the page knows of each supervisor, from HTTP rows and live frames. Every row and
// frame carries the committed version it reflects; one older than the newest already
// applied for that supervisor is stale (it was overtaken on the way) and is dropped.

/** The fields a `supervisor.status` frame carries, as the page names them. */
function statusOf(frame) {
  return {
    state: frame.state,
    stateValue: frame.stateValue,
    phase: frame.phase,
    activity: frame.activity,
    progress: frame.progress,
    version: frame.version,
  };
}

/** What a person calls the supervisor, if its context names it: a title, else its goal. */
function titleOf(row) {
  const context = row.snapshot?.context;
  const title = context?.title ?? context?.goal;
  return typeof title === 'string' && title.trim() !== '' ? title : null;
}

/** A supervisor row of the HTTP API, reduced to what the page shows. */
function viewOf(row) {
  return {
    id: row.id,
    title: titleOf(row),
    machineId: row.machineId,
    machineVersion: row.machineVersion,
    owner: row.owner,
    state: row.state,
    stateValue: row.stateValue,
    phase: row.phase,
    activity: row.currentActivity,
    progress: row.progress,
    version: row.version,
    errorMessage: row.errorMessage,
    lastHeartbeat: row.lastHeartbeat,
    restorationCount: row.restorationCount,
    stateEnteredAt: row.stateEnteredAt,
    updatedAt: row.updatedAt,
  };
}

function questionOf(frame) {
  return {
    id: frame.questionId,
    prompt: frame.prompt,
    answer: frame.answer,
    audience: frame.audience,
    askedAt: frame.askedAt,
    deadline: frame.deadline,
    remindAt: frame.remindAt ?? null,
    escalation: frame.escalation ?? null,
    escalated: frame.escalated === true,
    reminded: frame.reminder === true,
  };
}

/**
 * The page's live model. Listen to `store.events`: `change` (detail.ids: the supervisors
 * that changed) and `unknown` (detail.id: a frame about a supervisor no row was loaded for).
 */
export function createStore() {
  const views = new Map();
  /** supervisorId → Map(questionId → question). */
  const questions = new Map();
  /** The newest version applied per supervisor, from a row or a frame. */
  const newest = new Map();
  /** The newest status frame per supervisor, for a row that arrives older than it. */
  const statuses = new Map();
  /** Questions (re)sent since the current subscription began; null outside one. */
  let resent = null;
  const events = new EventTarget();

  const emit = (type, detail) => events.dispatchEvent(new CustomEvent(type, { detail }));

  /** Records `version` as seen, or says it is stale. Equal versions come from one commit. */
  function fresh(id, version) {
    if (version < (newest.get(id) ?? -1)) return false;
    newest.set(id, version);
    return true;
  }

  function questionsOf(id) {
    let map = questions.get(id);
    if (!map) {
      map = new Map();
      questions.set(id, map);
    }
    return map;
  }

  function loadRows(rows) {
    const ids = new Set();
    for (const row of rows) {
      const view = viewOf(row);
      const before = newest.get(row.id);
      const pending = new Map(row.pendingQuestions.map((q) => [q.id, q]));
      if (!views.has(row.id)) ids.add(row.id);
      if (fresh(row.id, row.version)) {
        if (before === undefined || row.version > before) ids.add(row.id);
        views.set(row.id, view);
        questions.set(row.id, pending);
      } else {
        // Frames already told a newer story: keep their fields, take the rest of the row.
        const status = statuses.get(row.id);
        views.set(row.id, { ...view, ...(status ?? {}), version: newest.get(row.id) });
        if (!questions.has(row.id)) questions.set(row.id, pending);
      }
    }
    // Only news is announced: a caller renders the rows it loaded itself, and a view that
    // reloads on change must not reload again because of its own load.
    if (ids.size > 0) emit('change', { ids });
  }

  /** Applies a server frame; false when it was stale or not about a supervisor. */
  function applyFrame(frame) {
    const id = frame.supervisorId;
    if (typeof id !== 'string' || typeof frame.version !== 'number') return false;
    if (!['supervisor.status', 'question.asked', 'question.resolved'].includes(frame.type)) {
      return false;
    }
    if (!fresh(id, frame.version)) return false;
    const view = views.get(id);
    if (frame.type === 'supervisor.status') {
      const status = statusOf(frame);
      statuses.set(id, status);
      // No frame carries the row's timestamps; the commit it reports happened just now,
      // and moved the state clock as the database does (on a new state or state value).
      if (view && (view.state !== status.state || view.stateValue !== status.stateValue)) {
        view.stateEnteredAt = new Date().toISOString();
      }
      if (view) Object.assign(view, status);
    } else if (frame.type === 'question.asked') {
      questionsOf(id).set(frame.questionId, questionOf(frame));
      resent?.add(`${id}\u0000${frame.questionId}`);
    } else {
      questionsOf(id).delete(frame.questionId);
    }
    if (view) {
      view.version = Math.max(view.version, frame.version);
      view.updatedAt = new Date().toISOString();
    } else emit('unknown', { id });
    emit('change', { ids: new Set([id]) });
    return true;
  }

  return {
    events,
    loadRows,
    applyFrame,
    /** The supervisor as last known, or undefined. */
    view: (id) => views.get(id),
    /** Its pending questions, oldest first. */
    pendingQuestions: (id) =>
      [...(questions.get(id)?.values() ?? [])].sort((a, b) =>
        String(a.askedAt).localeCompare(String(b.askedAt)),
      ),
    /** Every pending question the page knows, oldest first, with its supervisor's id. */
    allPendingQuestions() {
      const all = [];
      for (const [supervisorId, map] of questions) {
        for (const question of map.values()) all.push({ supervisorId, question });
      }
      return all.sort((a, b) =>
        String(a.question.askedAt).localeCompare(String(b.question.askedAt)),
      );
    },
    /** A subscription begins: the server is about to send every pending question again. */
    beginResync() {
      resent = new Set();
    },
    /**
     * The subscription's pending questions are all in: any other question the page holds
     * was answered or withdrawn while the connection was down.
     */
    endResync() {
      if (!resent) return;
      const ids = new Set();
      for (const [id, map] of questions) {
        for (const questionId of map.keys()) {
          if (!resent.has(`${id}\u0000${questionId}`)) {
            map.delete(questionId);
            ids.add(id);
          }
        }
      }
      resent = null;
      if (ids.size > 0) emit('change', { ids });
    },
  };
}
