/**
 * The catalog as a tree (organization › domain › project › group › feature; an open project also
 * shows its organization's dashboards and alerts under its groups), and search results
 * as the same tree narrowed to the matching features.
 */
import * as React from 'react';

import { IFeature } from '../api';
import { CatalogModel, NodeKind } from '../model';
import { StatusBadge } from './common';
import { ProjectOverview } from './ProjectOverview';

const KIND_LABEL: Record<NodeKind, string> = {
  organization: 'organization',
  domain: 'domain',
  project: 'project',
  group: 'feature group'
};

function onActivate(action: () => void): {
  onClick: () => void;
  onKeyDown: (event: React.KeyboardEvent) => void;
} {
  return {
    onClick: action,
    onKeyDown: event => {
      if (event.key === 'Enter' || event.key === ' ') {
        event.preventDefault();
        action();
      }
    }
  };
}

function groupPathOf(feature: IFeature): string {
  return `${feature.org}/${feature.domain}/${feature.project}/${feature.group}`;
}

/** One feature: its name, type and status; selecting it shows its detail. */
export function FeatureRow(props: {
  model: CatalogModel;
  feature: IFeature;
  versions?: number;
}): JSX.Element {
  const { model, feature } = props;
  const groupPath = groupPathOf(feature);
  const selected =
    model.detail !== null &&
    model.detail.ref.groupPath === groupPath &&
    model.detail.ref.name === feature.name;
  return (
    <li className="jp-RaiseTree-item" role="none">
      <div
        className={`jp-RaiseTree-row jp-RaiseTree-feature jp-mod-${feature.status}${selected ? ' jp-mod-selected' : ''}`}
        role="treeitem"
        tabIndex={0}
        aria-selected={selected}
        data-testid="raise-feature"
        data-path={`${groupPath}/${feature.name}`}
        data-status={feature.status}
        title={feature.description ?? undefined}
        {...onActivate(() => void model.select({ groupPath, name: feature.name, version: null }))}
      >
        <span className="jp-RaiseTree-label">{feature.name}</span>
        <span className="jp-RaiseTree-dtype">{feature.dtype}</span>
        {props.versions !== undefined && props.versions > 1 && (
          <span className="jp-RaiseTree-versions" title={`${props.versions} versions`}>
            {props.versions} versions
          </span>
        )}
        <StatusBadge status={feature.status} />
      </div>
    </li>
  );
}

function Note(props: { text: string; kind?: 'error' | 'empty' | 'loading' }): JSX.Element {
  return (
    <li
      className={`jp-RaiseTree-note jp-mod-${props.kind ?? 'empty'}`}
      role="none"
      data-testid={props.kind === 'error' ? 'raise-tree-error' : undefined}
    >
      {props.text}
    </li>
  );
}

function NodeChildren(props: { model: CatalogModel; kind: NodeKind; path: string }): JSX.Element {
  const { model, kind, path } = props;
  const error = model.errorOf(kind, path);
  const items: JSX.Element[] = [];
  if (kind === 'group') {
    const summaries = model.features.get(path);
    for (const s of summaries ?? []) {
      if (!(model.hideArchived && s.feature.status === 'archived')) {
        items.push(<FeatureRow key={s.feature.name} model={model} feature={s.feature} versions={s.versions} />);
      }
    }
  } else {
    for (const child of model.children(kind, path)) {
      items.push(<Node key={child.path} model={model} kind={child.kind} path={child.path} />);
    }
  }
  const overview = kind === 'project' ? model.overviews.get(path) : undefined;
  const loaded =
    kind === 'group' ? model.features.has(path) : kind === 'project' ? model.groups.has(path) :
    kind === 'domain' ? model.projects.has(path) : model.domains.has(path);
  return (
    <ul className="jp-RaiseTree-children" role="group">
      {items}
      {error && <Note kind="error" text={error} />}
      {!error && !loaded && <Note kind="loading" text="Loading…" />}
      {!error && loaded && items.length === 0 && (
        <Note text={kind === 'group' ? 'No features yet.' : kind === 'project' ? 'No feature groups yet.' : 'Empty.'} />
      )}
      {overview && (
        <li className="jp-RaiseTree-item" role="none">
          <ProjectOverview model={model} overview={overview} />
        </li>
      )}
    </ul>
  );
}

/**
 * An organization, domain, project or feature group: opens and closes. A feature group's name
 * also shows its detail (a second click on the shown group closes it); its caret only opens and
 * closes it.
 */
export function Node(props: { model: CatalogModel; kind: NodeKind; path: string }): JSX.Element {
  const { model, kind, path } = props;
  const expanded = model.isExpanded(kind, path);
  const name = path.slice(path.lastIndexOf('/') + 1);
  const isGroup = kind === 'group';
  const selected = isGroup && model.groupDetail?.path === path;
  return (
    <li className="jp-RaiseTree-item" role="none">
      <div
        className={`jp-RaiseTree-row jp-RaiseTree-node jp-RaiseTree-${kind}${selected ? ' jp-mod-selected' : ''}`}
        role="treeitem"
        tabIndex={0}
        aria-expanded={expanded}
        aria-selected={isGroup ? selected : undefined}
        data-testid="raise-node"
        data-kind={kind}
        data-path={path}
        title={`${KIND_LABEL[kind]} ${path}`}
        {...onActivate(() => void (isGroup ? model.openGroup(path) : model.toggle(kind, path)))}
      >
        <span
          className={`jp-RaiseTree-caret${expanded ? ' jp-mod-expanded' : ''}`}
          aria-hidden="true"
          data-testid="raise-caret"
          onClick={
            isGroup
              ? event => {
                  event.stopPropagation(); // open or close, without showing the detail
                  void model.toggle(kind, path);
                }
              : undefined
          }
        />
        <span className="jp-RaiseTree-label">{name}</span>
        {model.isLoading(kind, path) && <span className="jp-RaiseTree-loading" aria-label="loading" />}
      </div>
      {expanded && <NodeChildren model={model} kind={kind} path={path} />}
    </li>
  );
}

export function CatalogTree(props: { model: CatalogModel }): JSX.Element {
  const { model } = props;
  const orgs = model.organizations;
  return (
    <ul className="jp-RaiseTree" role="tree" aria-label="Raise catalog" data-testid="raise-tree">
      {orgs === null && !model.error && <Note kind="loading" text="Loading the catalog…" />}
      {orgs !== null && orgs.length === 0 && (
        <Note text='The catalog is empty: create a feature group from a notebook with fs.create_feature_group("…").' />
      )}
      {(orgs ?? []).map(o => (
        <Node key={o.name} model={model} kind="organization" path={o.name} />
      ))}
    </ul>
  );
}

/** The search's matches, under their feature groups. */
export function SearchResults(props: { model: CatalogModel }): JSX.Element {
  const { model } = props;
  const search = model.search!;
  const byGroup = new Map<string, IFeature[]>();
  for (const feature of search.results) {
    const path = groupPathOf(feature);
    byGroup.set(path, [...(byGroup.get(path) ?? []), feature]);
  }
  const count = search.results.length;
  return (
    <div className="jp-RaiseSearch" data-testid="raise-search-results">
      <div className="jp-RaiseSearch-summary" data-testid="raise-search-summary" aria-live="polite">
        {search.loading
          ? 'Searching…'
          : search.error
            ? search.error
            : `${count} feature${count === 1 ? '' : 's'} match “${search.text.trim()}”` +
              (search.truncated.length
                ? ` (${search.truncated.join(', ')} may have more: narrow the search)`
                : '')}
      </div>
      <ul className="jp-RaiseTree" role="tree" aria-label="Search results">
        {[...byGroup.entries()].map(([path, features]) => (
          <li className="jp-RaiseTree-item" role="none" key={path}>
            <div
              className={`jp-RaiseTree-row jp-RaiseTree-node jp-RaiseTree-group jp-RaiseSearch-group${model.groupDetail?.path === path ? ' jp-mod-selected' : ''}`}
              role="treeitem"
              tabIndex={0}
              aria-expanded={true}
              aria-selected={model.groupDetail?.path === path}
              data-testid="raise-node"
              data-kind="group"
              data-path={path}
              title={`feature group ${path}`}
              {...onActivate(() => void model.selectGroup(path))}
            >
              <span className="jp-RaiseTree-caret jp-mod-expanded" aria-hidden="true" />
              <span className="jp-RaiseTree-label">{path.split('/')[3]}</span>
              <span className="jp-RaiseTree-context">{path.split('/').slice(0, 3).join('/')}</span>
            </div>
            <ul className="jp-RaiseTree-children" role="group">
              {features.map(f => (
                <FeatureRow key={`${f.name}@${f.version}`} model={model} feature={f} />
              ))}
            </ul>
          </li>
        ))}
      </ul>
    </div>
  );
}
