/**
 * When would this rule have fired? Runs the draft through
 * POST /api/v1/alerts/rules/preview over the last 24 h or 7 d and shows a
 * timeline (one cell per evaluation step: firing red, condition holding
 * but not yet firing amber, query error grey) and the episodes with their
 * values as a notification would show them.
 */
import { useState } from 'react';
import { api } from '../../api.ts';
import type { RuleSpec } from './rule-draft.ts';

interface PreviewField {
  name: string;
  title: string;
  value: string;
  kind: string;
}

interface PreviewAnswer {
  from: string;
  to: string;
  stepMs: number;
  truncatedAt: string | null;
  episodes: {
    labels: Record<string, string>;
    activeSince: string;
    firedAt: string;
    resolvedAt: string | null;
    fields: PreviewField[];
  }[];
  steps: { at: string; active: number; firing: number; error?: string }[];
}

const RANGES = [
  ['24h', 'last 24 h'],
  ['7d', 'last 7 days'],
] as const;

function at(iso: string): string {
  return new Date(iso).toLocaleString([], {
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
  });
}

/** "40 s", "12 min", "1 h 5 min", "2 d 3 h". */
export function lasted(ms: number): string {
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 1) return `${Math.floor(ms / 1000)} s`;
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return minutes % 60 ? `${hours} h ${minutes % 60} min` : `${hours} h`;
  return hours % 24 ? `${Math.floor(hours / 24)} d ${hours % 24} h` : `${Math.floor(hours / 24)} d`;
}

function cellColour(step: PreviewAnswer['steps'][number]): string {
  if (step.error) return '#adb5bd';
  if (step.firing > 0) return '#d00000';
  if (step.active > 0) return '#f2a900';
  return '#e9ecef';
}

function Timeline({ answer }: { answer: PreviewAnswer }) {
  const mid = answer.steps[Math.floor(answer.steps.length / 2)];
  return (
    <div className="rule-timeline">
      <div
        data-testid="preview-timeline"
        role="img"
        aria-label={`Timeline of ${answer.steps.length} evaluations, ${answer.steps.filter((s) => s.firing > 0).length} of them firing`}
        style={{ display: 'flex', height: 28, borderRadius: 4, overflow: 'hidden', border: '1px solid #ced4da' }}
      >
        {answer.steps.map((s) => (
          <div
            key={s.at}
            title={`${at(s.at)}: ${s.error ? `error: ${s.error}` : s.firing > 0 ? `${s.firing} firing` : s.active > 0 ? 'condition holds (pending)' : 'quiet'}`}
            style={{ flex: 1, background: cellColour(s) }}
          />
        ))}
      </div>
      <div className="muted" style={{ display: 'flex', justifyContent: 'space-between', fontSize: 12 }}>
        <span>{at(answer.from)}</span>
        {mid ? <span>{at(mid.at)}</span> : null}
        <span>{at(answer.to)}</span>
      </div>
    </div>
  );
}

export function RulePreview({ spec, disabled }: { spec: () => RuleSpec; disabled: boolean }) {
  const [answer, setAnswer] = useState<PreviewAnswer | null>(null);
  const [range, setRange] = useState('');
  const [running, setRunning] = useState(false);
  const [error, setError] = useState('');

  const run = async (which: string) => {
    setRunning(true);
    setRange(which);
    setError('');
    try {
      setAnswer(await api<PreviewAnswer>('/api/v1/alerts/rules/preview', { body: { rule: spec(), range: which } }));
    } catch (err) {
      setAnswer(null);
      setError((err as Error).message);
    } finally {
      setRunning(false);
    }
  };

  const label = RANGES.find(([r]) => r === range)?.[1] ?? '';
  const ongoing = answer?.episodes.filter((e) => e.resolvedAt === null).length ?? 0;
  return (
    <section className="rule-preview" data-testid="rule-preview" aria-label="Preview" style={{ marginTop: 12 }}>
      <div className="toolbar">
        <span>Preview: when would it have fired?</span>
        {RANGES.map(([r, text]) => (
          <button key={r} type="button" disabled={disabled || running} onClick={() => void run(r)}>
            {running && range === r ? 'Running…' : `Preview ${text}`}
          </button>
        ))}
      </div>
      {error ? (
        <p className="error-text" role="alert">
          {error}
        </p>
      ) : null}
      {answer ? (
        <>
          <p data-testid="preview-summary">
            <strong>
              {answer.episodes.length === 0
                ? `Would not have fired in the ${label}`
                : `Would have fired ${answer.episodes.length} ${answer.episodes.length === 1 ? 'time' : 'times'} in the ${label}`}
            </strong>
            {ongoing > 0 ? `, ${ongoing} still firing at the end` : ''}.{' '}
            <span className="muted">
              {answer.steps.length} evaluations, one every {lasted(answer.stepMs)}
              {answer.truncatedAt ? `; stopped early at ${at(answer.truncatedAt)} (time budget)` : ''}.
            </span>
          </p>
          <Timeline answer={answer} />
          {answer.episodes.length > 0 ? (
            <ol className="preview-episodes" data-testid="preview-episodes">
              {answer.episodes.map((e) => {
                const labels = e.fields.filter((f) => f.kind === 'label');
                const values = e.fields.filter((f) => f.kind !== 'label');
                const end = e.resolvedAt ? Date.parse(e.resolvedAt) : Date.parse(answer.to);
                return (
                  <li key={`${e.firedAt}-${JSON.stringify(e.labels)}`}>
                    <strong>{at(e.firedAt)}</strong>
                    {labels.length > 0 ? ` · ${labels.map((f) => `${f.title} ${f.value}`).join(', ')}` : ''} ·{' '}
                    {e.resolvedAt
                      ? `resolved ${at(e.resolvedAt)}, after ${lasted(end - Date.parse(e.firedAt))}`
                      : `still firing (${lasted(end - Date.parse(e.firedAt))} so far)`}
                    <div className="muted">{values.map((f) => `${f.title}: ${f.value}`).join(' · ')}</div>
                  </li>
                );
              })}
            </ol>
          ) : null}
        </>
      ) : null}
    </section>
  );
}
