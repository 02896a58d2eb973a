// explain mode reading a plan: EXPLAIN's JSON, the exclusive time of its nodes by
// component, and the components grouped into the rows of the report.

export interface PlanNode {
  'Node Type': string;
  'Parent Relationship'?: string;
  'Subplan Name'?: string;
  'CTE Name'?: string;
  'Relation Name'?: string;
  'Function Name'?: string;
  Operation?: string;
  'Actual Total Time'?: number;
  'Actual Loops'?: number;
  'Actual Rows'?: number;
  'Shared Hit Blocks'?: number;
  'Shared Read Blocks'?: number;
  'Shared Dirtied Blocks'?: number;
  'WAL Records'?: number;
  'WAL FPI'?: number;
  'WAL Bytes'?: number;
  Plans?: PlanNode[];
}

export interface Explained {
  Plan: PlanNode;
  'Planning Time': number;
  'Execution Time': number;
  Triggers?: Array<{ 'Trigger Name': string; Relation: string; Time: number; Calls: number }>;
}

/** ms by component of one EXPLAIN ANALYZE, with its WAL and buffers. */
export interface Breakdown {
  components: Map<string, number>;
  planningMs: number;
  executionMs: number;
  triggerMs: number;
  walRecords: number;
  walBytes: number;
  walFpi: number;
  sharedHit: number;
  sharedDirtied: number;
  /** Exclusive ms per node, labelled, for the detailed listing. */
  nodes: Array<{ label: string; ms: number; rows: number; wal: number; dirtied: number }>;
}

function inclusiveMs(node: PlanNode): number {
  return (node['Actual Total Time'] ?? 0) * (node['Actual Loops'] ?? 1);
}

/** A CTE's plan hangs under the node using it as an InitPlan named "CTE <name>". */
function cteNameOf(node: PlanNode): string | undefined {
  const name = node['Subplan Name'];
  return node['Parent Relationship'] === 'InitPlan' && name?.startsWith('CTE ')
    ? name.slice(4)
    : undefined;
}

function componentOf(cte: string, node: PlanNode): string {
  const type = node['Node Type'];
  if (type === 'ModifyTable') return `${cte}: ${node.Operation} on ${node['Relation Name']}`;
  if (type === 'Function Scan') return `${cte}: ${node['Function Name']}`;
  if (type === 'CTE Scan') return `${cte}: CTE scans`;
  return `${cte}: joins, sorts, scans`;
}

/**
 * Exclusive time of every plan node, by component. A CTE's plan runs inside whichever CTE
 * Scan reads it first (or at the end of the statement when nothing reads it), so that
 * first reader's time includes the CTE's own: it is taken off the scans of that CTE, and
 * the CTE's nodes keep it.
 */
export function breakdown(explained: Explained): Breakdown {
  const components = new Map<string, number>();
  const cteInclusive = new Map<string, number>();
  const scans: Array<{ cte: string; reads: string; ms: number }> = [];
  const nodes: Breakdown['nodes'] = [];
  let walRecords = 0;
  let walBytes = 0;
  let walFpi = 0;
  const add = (key: string, ms: number): void => {
    components.set(key, (components.get(key) ?? 0) + ms);
  };
  const walk = (node: PlanNode, cte: string): void => {
    let children = 0;
    for (const child of node.Plans ?? []) {
      const name = cteNameOf(child);
      if (name) {
        cteInclusive.set(name, inclusiveMs(child));
        walk(child, name);
      } else {
        children += inclusiveMs(child);
        walk(child, cte);
      }
    }
    const own = Math.max(0, inclusiveMs(node) - children);
    // WAL and buffers are inclusive too: count them at the nodes that write (ModifyTable).
    if (node['Node Type'] === 'ModifyTable') {
      walRecords += node['WAL Records'] ?? 0;
      walBytes += node['WAL Bytes'] ?? 0;
      walFpi += node['WAL FPI'] ?? 0;
    }
    if (node['Node Type'] === 'CTE Scan') {
      scans.push({ cte, reads: node['CTE Name'] ?? '', ms: own });
    } else {
      add(componentOf(cte, node), own);
      nodes.push({
        label: `${componentOf(cte, node)} [${node['Node Type']}]`,
        ms: own,
        rows: node['Actual Rows'] ?? 0,
        wal: node['WAL Records'] ?? 0,
        dirtied: node['Shared Dirtied Blocks'] ?? 0,
      });
    }
  };
  walk(explained.Plan, 'main');
  const byCte = new Map<string, number>();
  for (const scan of scans) byCte.set(scan.reads, (byCte.get(scan.reads) ?? 0) + scan.ms);
  for (const scan of scans) {
    // The CTE's own time is spread over its scans in proportion; what is left is reading.
    const total = byCte.get(scan.reads) ?? 0;
    const own = cteInclusive.get(scan.reads) ?? 0;
    const reading = total > 0 ? Math.max(0, total - own) * (scan.ms / total) : 0;
    add(`${scan.cte}: CTE scans`, reading);
  }
  const triggers = explained.Triggers ?? [];
  let triggerMs = 0;
  for (const t of triggers) {
    const fk = t['Trigger Name'].startsWith('RI_ConstraintTrigger');
    add(`${fk ? 'FK check' : 'trigger'} on ${t.Relation} (${t.Calls} calls)`, t.Time);
    triggerMs += t.Time;
  }
  const summed = [...components.values()].reduce((a, b) => a + b, 0);
  add(
    'executor: the rest (start-up, end of statement, EXPLAIN timing)',
    Math.max(0, explained['Execution Time'] - summed),
  );
  const top = explained.Plan;
  return {
    components,
    planningMs: explained['Planning Time'],
    executionMs: explained['Execution Time'],
    triggerMs,
    walRecords,
    walBytes,
    walFpi,
    sharedHit: top['Shared Hit Blocks'] ?? 0,
    sharedDirtied: top['Shared Dirtied Blocks'] ?? 0,
    nodes,
  };
}

/** Components grouped into the rows of the report. */
export const GROUPS: ReadonlyArray<{ label: string; match: (key: string) => boolean }> = [
  {
    label: 'states param → rows (jsonb_to_recordset, incoming + saved)',
    match: (k) => /^(incoming|saved): jsonb_to_recordset/.test(k),
  },
  {
    label: 'upsert supervisor_states (conflict check, heap, index entries)',
    match: (k) => k.startsWith('saved: Insert on supervisor_states'),
  },
  {
    label: 'stored versions (join incoming → supervisor_states)',
    match: (k) => k.startsWith('stored:'),
  },
  {
    label: 'journal param → rows, filter joins, sort',
    match: (k) => k.startsWith('journal:') && !k.includes('Insert on'),
  },
  {
    label: 'journal insert supervisor_events (heap, 3 indexes)',
    match: (k) => k.startsWith('journal: Insert on'),
  },
  { label: 'FK checks (RI triggers)', match: (k) => k.startsWith('FK check') },
  { label: 'checkpoints (kept)', match: (k) => k.startsWith('kept:') },
  { label: 'task rows (task_rows)', match: (k) => k.startsWith('task_rows:') },
  {
    label: 'result select (main query)',
    match: (k) => k.startsWith('main:') || k.startsWith('saved: CTE'),
  },
  {
    label: 'executor: the rest',
    match: (k) => k.startsWith('executor:') || k.startsWith('trigger '),
  },
];

export function grouped(b: Breakdown): number[] {
  const sums = GROUPS.map(() => 0);
  for (const [key, ms] of b.components) {
    const index = GROUPS.findIndex((g) => g.match(key));
    const at = index >= 0 ? index : GROUPS.length - 1;
    sums[at] = (sums[at] as number) + ms;
  }
  return sums;
}
