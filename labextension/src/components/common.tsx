import * as React from 'react';

import { CatalogModel } from '../model';

/** Re-render whenever the model changes, including changes made before the first render. */
export function useModel(model: CatalogModel): number {
  const subscribe = React.useCallback(
    (onChange: () => void) => {
      const changed = (): void => onChange();
      model.changed.connect(changed);
      return () => {
        model.changed.disconnect(changed);
      };
    },
    [model]
  );
  return React.useSyncExternalStore(subscribe, () => model.version);
}

/** `deprecated`, `archived` and `restricted` are marked; `active` is the norm and is not. */
export function StatusBadge(props: { status: string }): JSX.Element | null {
  if (!props.status || props.status === 'active') {
    return null;
  }
  return (
    <span
      className={`jp-RaiseBadge jp-RaiseBadge-${props.status}`}
      data-testid="raise-status-badge"
      data-status={props.status}
    >
      {props.status}
    </span>
  );
}

/** Text with `backtick` spans shown as code. */
export function WithCode(props: { text: string }): JSX.Element {
  const parts = props.text.split('`');
  return (
    <>
      {parts.map((part, i) => (i % 2 ? <code key={i}>{part}</code> : <React.Fragment key={i}>{part}</React.Fragment>))}
    </>
  );
}

/** A section of a detail, titled. */
export function Section(props: { title: string; testid: string; children: React.ReactNode }): JSX.Element {
  return (
    <section className="jp-RaiseDetail-section" data-testid={props.testid}>
      <h4 className="jp-RaiseDetail-sectionTitle">{props.title}</h4>
      {props.children}
    </section>
  );
}

/** Why a part of a detail is missing (nothing when it is not). */
export function PartError(props: { text?: string }): JSX.Element | null {
  return props.text ? (
    <div className="jp-RaiseDetail-error" role="alert">
      {props.text}
    </div>
  ) : null;
}

/** Tags as buttons that search for them (`tag:x`), or `—`. */
export function Tags(props: { tags: string[]; onSearch: (text: string) => void }): JSX.Element {
  if (!props.tags.length) {
    return <>—</>;
  }
  return (
    <>
      {props.tags.map(tag => (
        <button key={tag} className="jp-RaiseTag" title={`Search tag:${tag}`} onClick={() => props.onSearch(`tag:${tag}`)}>
          {tag}
        </button>
      ))}
    </>
  );
}

const DURATION_UNITS: [number, string][] = [
  [86400, 'day'],
  [3600, 'hour'],
  [60, 'minute'],
  [1, 'second']
];

/** Seconds in the largest unit that counts them exactly: 2592000 is `30 days`, 5400 `90 minutes`. */
export function formatDuration(seconds: number): string {
  for (const [size, unit] of DURATION_UNITS) {
    if (seconds >= size && seconds % size === 0) {
      const n = seconds / size;
      return `${n.toLocaleString('en-US')} ${unit}${n === 1 ? '' : 's'}`;
    }
  }
  return `${seconds} seconds`;
}

export function formatTime(iso: string | null | undefined): string {
  if (!iso) {
    return '';
  }
  const date = new Date(iso);
  if (isNaN(date.getTime())) {
    return iso;
  }
  // ISO-like and in UTC, so every user reads the same time as the audit log and the SDK
  return date.toISOString().slice(0, 16).replace('T', ' ') + ' UTC';
}

export function RefreshIcon(): JSX.Element {
  return (
    <svg
      className="jp-RaiseIcon"
      xmlns="http://www.w3.org/2000/svg"
      viewBox="0 0 16 16"
      width="16"
      height="16"
      aria-hidden="true"
    >
      <path
        className="jp-icon3"
        fill="#616161"
        d="M8 2.5a5.5 5.5 0 0 1 4.9 3H10.5v1.5H15V2.5h-1.5v1.7A7 7 0 1 0 15 8h-1.5A5.5 5.5 0 1 1 8 2.5z"
      />
    </svg>
  );
}
