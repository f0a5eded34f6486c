/**
 * The left panel: a SidePanel titled "Raise" holding the React sidebar, kept fresh by a poll
 * that runs while the panel is visible.
 */
import { ReactWidget, SidePanel } from '@jupyterlab/ui-components';
import { Poll } from '@lumino/polling';
import { Message } from '@lumino/messaging';
import { Panel, Widget } from '@lumino/widgets';
import * as React from 'react';

import { InsertHandler } from './components/FeatureDetail';
import { RaiseSidebar } from './components/Sidebar';
import { raiseIcon } from './icon';
import { CatalogModel } from './model';

/** How often the catalog is reloaded while the panel is visible. */
export const REFRESH_INTERVAL_MS = 30_000;

export class RaisePanel extends SidePanel {
  constructor(readonly model: CatalogModel, onInsert: InsertHandler) {
    super({ content: new Panel() }); // one view, not SidePanel's default accordion of sections
    this.id = 'raise-sidebar';
    this.addClass('jp-RaisePanel');
    this.title.icon = raiseIcon;
    this.title.caption = 'Raise';
    const heading = new Widget();
    heading.addClass('jp-RaisePanel-heading');
    const h2 = document.createElement('h2');
    h2.textContent = 'Raise';
    h2.title = 'Raise feature store';
    heading.node.appendChild(h2);
    this.header.addWidget(heading);
    const content = ReactWidget.create(<RaiseSidebar model={model} onInsert={onInsert} />);
    content.addClass('jp-RaisePanel-content');
    this.addWidget(content);
    this._poll = new Poll({
      auto: false,
      factory: () => this._load(),
      frequency: { interval: REFRESH_INTERVAL_MS, backoff: true, max: 10 * REFRESH_INTERVAL_MS },
      name: 'raise-featurestore:catalog',
      standby: () => !this.isVisible || 'when-hidden'
    });
  }

  dispose(): void {
    this._poll.dispose();
    super.dispose();
  }

  protected onAfterAttach(msg: Message): void {
    super.onAfterAttach(msg);
    if (this.isVisible) {
      this._shown(); // restored open: no show message comes
    }
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    this._shown();
  }

  /** Start polling on first sight; when shown again after a while, catch up at once. */
  private _shown(): void {
    if (!this._polling) {
      this._polling = true;
      void this._poll.start(); // its first tick loads the catalog
    } else if (!this.model.lastRefresh || Date.now() - this.model.lastRefresh.getTime() > 5_000) {
      void this._poll.refresh();
    }
  }

  private _load(): Promise<void> {
    if (!this._loaded) {
      this._loaded = true;
      return this.model.start();
    }
    return this.model.refresh();
  }

  private _poll: Poll;
  private _polling = false;
  private _loaded = false;
}
