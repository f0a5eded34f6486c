/**
 * One feature version: what it is, its versions, its lineage, summary statistics of its data,
 * a blob feature's references (with image thumbnails), its group's writes, and the button that
 * puts `fs.feature("...")` into the notebook.
 */
import * as React from 'react';

import { ICommit, IFeature, ILineageNode } from '../api';
import { CatalogModel, IDetail, isBlobDtype, summarizeLineage } from '../model';
import { featureSnippet } from '../snippet';
import { BlobReferences } from './BlobReferences';
import { formatTime, PartError, Section, StatusBadge, Tags } from './common';
import { Statistics } from './Statistics';

/** What inserting a snippet did: shown under the button. */
export interface IInsertResult {
  ok: boolean;
  message: string;
}

export type InsertHandler = (snippet: string) => IInsertResult;

function LineageItem(props: { model: CatalogModel; node: ILineageNode }): JSX.Element {
  const { model, node } = props;
  if (node.status === 'restricted') {
    return (
      <li
        className="jp-RaiseLineage-node jp-mod-restricted"
        data-testid="raise-lineage-node"
        data-status="restricted"
        title="You may not read this feature; ask its owner for access."
      >
        <span className="jp-RaiseLineage-name">restricted feature</span>
        <span className="jp-RaiseLineage-group">in {node.group_path}</span>
        <StatusBadge status="restricted" />
      </li>
    );
  }
  const path = `${node.group_path}/${node.name}@${node.version}`;
  return (
    <li className={`jp-RaiseLineage-node jp-mod-${node.status}`} data-testid="raise-lineage-node" data-status={node.status} data-path={path}>
      <button
        className="jp-RaiseLineage-link"
        title={`${path}${node.derived_from ? `\n= ${node.derived_from}` : ''}`}
        onClick={() => void model.select({ groupPath: node.group_path, name: node.name, version: node.version })}
      >
        {node.name}@{node.version}
      </button>
      <span className="jp-RaiseLineage-group">{node.group_path.split('/').slice(3).join('/')}</span>
      <StatusBadge status={node.status} />
    </li>
  );
}

function Lineage(props: { model: CatalogModel; detail: IDetail }): JSX.Element {
  const { model, detail } = props;
  if (!detail.lineage) {
    return <PartError text={detail.errors.lineage} />;
  }
  const lineage = summarizeLineage(detail.lineage);
  const side = (
    title: string,
    testid: string,
    direct: ILineageNode[],
    total: number,
    none: string
  ): JSX.Element => (
    <div className="jp-RaiseLineage-side" data-testid={testid}>
      <div className="jp-RaiseLineage-title">
        {title}
        {total > direct.length && <span className="jp-RaiseLineage-total"> ({total} in all)</span>}
      </div>
      {direct.length ? (
        <ul className="jp-RaiseLineage-list">
          {direct.map(n => (
            <LineageItem key={n.id} model={model} node={n} />
          ))}
        </ul>
      ) : (
        <div className="jp-RaiseDetail-muted">{none}</div>
      )}
    </div>
  );
  return (
    <>
      {side('Upstream', 'raise-lineage-upstream', lineage.upstream, lineage.upstreamTotal, 'None: a source feature.')}
      {side('Downstream', 'raise-lineage-downstream', lineage.downstream, lineage.downstreamTotal, 'Nothing is derived from it.')}
    </>
  );
}

function Versions(props: { model: CatalogModel; detail: IDetail; feature: IFeature | null }): JSX.Element {
  const { model, detail, feature } = props;
  if (!detail.versions) {
    return <PartError text={detail.errors.versions} />;
  }
  return (
    <ul className="jp-RaiseDetail-versions">
      {[...detail.versions].reverse().map(v => {
        const current = feature !== null && v.id === feature.id;
        return (
          <li key={v.id} className={`jp-RaiseDetail-version jp-mod-${v.status}`} data-testid="raise-version" data-version={v.version}>
            <button
              className="jp-RaiseDetail-versionLink"
              aria-current={current}
              disabled={current}
              onClick={() => void model.select({ groupPath: detail.ref.groupPath, name: v.name, version: v.version })}
            >
              {v.version}
            </button>
            <span className="jp-RaiseDetail-muted">{v.dtype}</span>
            <span className="jp-RaiseDetail-muted">{formatTime(v.created_at)}</span>
            <StatusBadge status={v.status} />
          </li>
        );
      })}
    </ul>
  );
}

function Data(props: { commits: ICommit[] | null; error?: string }): JSX.Element {
  const { commits } = props;
  if (!commits) {
    return <PartError text={props.error} />;
  }
  if (!commits.length) {
    return <div className="jp-RaiseDetail-muted">No data written to this group yet.</div>;
  }
  const rows = commits.reduce((n, c) => n + c.rows, 0);
  const last = commits[commits.length - 1];
  return (
    <div className="jp-RaiseDetail-data" data-testid="raise-detail-commits">
      {rows.toLocaleString('en-US')} rows written to the group in {commits.length} commit
      {commits.length === 1 ? '' : 's'}; the last ({last.kind}, {last.rows.toLocaleString('en-US')} rows
      {last.actor ? ` by ${last.actor}` : ''}) at {formatTime(last.committed_at)}.
    </div>
  );
}

export function FeatureDetail(props: {
  model: CatalogModel;
  detail: IDetail;
  onInsert: InsertHandler;
  onSearch: (text: string) => void;
}): JSX.Element {
  const { model, detail, onInsert } = props;
  const [inserted, setInserted] = React.useState<IInsertResult | null>(null);
  React.useEffect(() => setInserted(null), [detail.ref.groupPath, detail.ref.name, detail.ref.version]);
  const feature = detail.feature;
  const title = `${detail.ref.name}${feature ? `@${feature.version}` : detail.ref.version ? `@${detail.ref.version}` : ''}`;
  // A version the user picked is pinned in the snippet; otherwise the SDK reads the newest.
  const snippet = feature ? featureSnippet(feature, detail.ref.version) : null;
  return (
    <section
      className={`jp-RaiseDetail${feature ? ` jp-mod-${feature.status}` : ''}`}
      data-testid="raise-detail"
      data-path={`${detail.ref.groupPath}/${detail.ref.name}`}
      data-status={feature?.status}
      aria-busy={detail.loading}
    >
      <header className="jp-RaiseDetail-header">
        <h3 className="jp-RaiseDetail-title" data-testid="raise-detail-title" title={title}>
          {title}
        </h3>
        {feature && <StatusBadge status={feature.status} />}
        <button className="jp-RaiseDetail-close" title="Close" aria-label="Close the detail" onClick={() => model.clearSelection()}>
          ×
        </button>
      </header>
      <div className="jp-RaiseDetail-group">{detail.ref.groupPath}</div>
      {!feature && detail.loading && <div className="jp-RaiseDetail-muted">Loading…</div>}
      <PartError text={detail.errors.feature} />
      {feature && (
        <>
          {feature.status === 'deprecated' && (
            <div className="jp-RaiseDetail-notice jp-mod-deprecated" data-testid="raise-detail-notice">
              Deprecated{feature.deprecation_message ? `: ${feature.deprecation_message}` : '.'}
            </div>
          )}
          {feature.status === 'archived' && (
            <div className="jp-RaiseDetail-notice jp-mod-archived" data-testid="raise-detail-notice">
              Archived: kept for history; new reads and derivations should not use it.
            </div>
          )}
          {feature.description && <p className="jp-RaiseDetail-description">{feature.description}</p>}
          <dl className="jp-RaiseDetail-fields">
            <dt>Type</dt>
            <dd data-testid="raise-detail-dtype">
              <code>{feature.dtype}</code>
              {feature.nullable ? '' : ', not null'}
            </dd>
            <dt>Status</dt>
            <dd data-testid="raise-detail-status">{feature.status}</dd>
            <dt>Owner</dt>
            <dd data-testid="raise-detail-owner">{feature.owner ?? '—'}</dd>
            <dt>Tags</dt>
            <dd data-testid="raise-detail-tags">
              <Tags tags={feature.tags} onSearch={props.onSearch} />
            </dd>
            {feature.derived_from && (
              <>
                <dt>Derived</dt>
                <dd data-testid="raise-detail-derived">
                  <code>{feature.derived_from}</code>
                </dd>
              </>
            )}
            <dt>Created</dt>
            <dd>
              {formatTime(feature.created_at)}
              {feature.created_by ? ` by ${feature.created_by}` : ''}
            </dd>
          </dl>
          <div className="jp-RaiseDetail-actions">
            <code className="jp-RaiseDetail-snippet" data-testid="raise-snippet">
              {snippet}
            </code>
            <button
              className="jp-Button jp-mod-styled jp-mod-accept jp-RaiseDetail-insert"
              data-testid="raise-insert"
              title="Insert at the cursor of the active notebook cell"
              onClick={() => setInserted(onInsert(snippet!))}
            >
              Insert into notebook
            </button>
            {inserted && (
              <div className={`jp-RaiseDetail-inserted jp-mod-${inserted.ok ? 'ok' : 'failed'}`} role="status" data-testid="raise-insert-result">
                {inserted.message}
              </div>
            )}
          </div>
        </>
      )}
      <Section title="Versions" testid="raise-detail-versions">
        <Versions model={model} detail={detail} feature={feature} />
      </Section>
      <Section title="Lineage" testid="raise-detail-lineage">
        <Lineage model={model} detail={detail} />
      </Section>
      <Section title="Statistics" testid="raise-detail-stats">
        <Statistics model={model} detail={detail} />
      </Section>
      {feature && isBlobDtype(feature.dtype) && (
        <Section title="References" testid="raise-detail-references">
          <BlobReferences detail={detail} />
        </Section>
      )}
      <Section title="Data" testid="raise-detail-data">
        <Data commits={detail.commits} error={detail.errors.commits} />
      </Section>
    </section>
  );
}
