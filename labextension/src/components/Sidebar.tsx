/**
 * The sidebar's content: search, refresh, the version banner, the catalog (or the search's
 * matches) and the selected feature's or feature group's detail.
 */
import * as React from 'react';

import { CatalogModel } from '../model';
import { VersionCheck, versionMessage } from '../version';
import { RefreshIcon, useModel, WithCode } from './common';
import { FeatureDetail, InsertHandler } from './FeatureDetail';
import { GroupDetail } from './GroupDetail';
import { CatalogTree, SearchResults } from './Tree';

/** How long typing pauses before the search runs. */
export const SEARCH_DEBOUNCE_MS = 250;

export function VersionBanner(props: { check: VersionCheck; frontend: string }): JSX.Element | null {
  const text = versionMessage(props.check, props.frontend);
  if (!text) {
    return null;
  }
  return (
    <div className="jp-RaiseSidebar-banner jp-mod-warning" role="alert" data-testid="raise-version-banner" data-state={props.check.state}>
      <WithCode text={text} />
    </div>
  );
}

export function RaiseSidebar(props: { model: CatalogModel; onInsert: InsertHandler }): JSX.Element {
  const { model, onInsert } = props;
  useModel(model);
  const [text, setText] = React.useState(model.search?.text ?? '');
  const first = React.useRef(true);
  React.useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    const timer = setTimeout(() => void model.setSearch(text), SEARCH_DEBOUNCE_MS);
    return () => clearTimeout(timer);
  }, [text, model]);
  const [refreshing, setRefreshing] = React.useState(false);
  const refresh = (): void => {
    setRefreshing(true);
    void model.refresh().finally(() => setRefreshing(false));
  };
  return (
    <div className="jp-RaiseSidebar" data-testid="raise-sidebar">
      <div className="jp-RaiseSidebar-toolbar">
        <input
          type="search"
          className="jp-RaiseSidebar-search"
          data-testid="raise-search"
          placeholder="Search features"
          title="Words match a feature's name, description or tags; tag:x, status:x and dtype:x filter"
          aria-label="Search features by name, description or tag"
          value={text}
          onChange={event => setText(event.target.value)}
          onKeyDown={event => {
            if (event.key === 'Escape') {
              setText('');
            }
          }}
        />
        <button
          className={`jp-RaiseSidebar-refresh${refreshing ? ' jp-mod-refreshing' : ''}`}
          data-testid="raise-refresh"
          title="Refresh the catalog"
          aria-label="Refresh the catalog"
          onClick={refresh}
        >
          <RefreshIcon />
        </button>
      </div>
      <label className="jp-RaiseSidebar-option">
        <input
          type="checkbox"
          data-testid="raise-hide-archived"
          checked={model.hideArchived}
          onChange={event => model.setHideArchived(event.target.checked)}
        />{' '}
        Hide archived features
      </label>
      <VersionBanner check={model.versionCheck} frontend={model.frontendVersion} />
      {model.error && (
        <div className="jp-RaiseSidebar-banner jp-mod-error" role="alert" data-testid="raise-error">
          {model.error}
        </div>
      )}
      <div className="jp-RaiseSidebar-browser" data-testid="raise-browser">
        {model.search ? <SearchResults model={model} /> : <CatalogTree model={model} />}
      </div>
      {model.detail && (
        <div className="jp-RaiseSidebar-detail">
          <FeatureDetail model={model} detail={model.detail} onInsert={onInsert} onSearch={setText} />
        </div>
      )}
      {model.groupDetail && (
        <div className="jp-RaiseSidebar-detail">
          <GroupDetail model={model} detail={model.groupDetail} onSearch={setText} />
        </div>
      )}
      <div className="jp-RaiseSidebar-footer" data-testid="raise-footer">
        {model.lastRefresh ? `Updated ${model.lastRefresh.toLocaleTimeString()}` : 'Not loaded yet'}
        {model.versionCheck.state === 'ok' ? ` · server ${model.versionCheck.server}` : ''}
      </div>
    </div>
  );
}
