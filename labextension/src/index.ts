/**
 * The Raise JupyterLab extension: a left sidebar that browses the feature store served by the
 * Raise server extension of this Jupyter server (DESIGN §6).
 */
import { ILayoutRestorer, JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { INotebookTracker } from '@jupyterlab/notebook';

import { RaiseClient } from './api';
import { CatalogModel } from './model';
import { insertIntoNotebook } from './snippet';
import { RaisePanel } from './widget';

export const PLUGIN_ID = 'raise-featurestore:sidebar';

export namespace CommandIDs {
  export const open = 'raise:open-sidebar';
  export const refresh = 'raise:refresh-catalog';
}

const plugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description: 'Browse, search and inspect the Raise feature store, and insert features into notebooks.',
  autoStart: true,
  optional: [INotebookTracker, ILayoutRestorer, ICommandPalette],
  activate: (
    app: JupyterFrontEnd,
    tracker: INotebookTracker | null,
    restorer: ILayoutRestorer | null,
    palette: ICommandPalette | null
  ): void => {
    const model = new CatalogModel(new RaiseClient(app.serviceManager.serverSettings));
    const panel = new RaisePanel(model, snippet => insertIntoNotebook(app.shell, tracker, snippet));
    app.shell.add(panel, 'left', { rank: 700 });
    restorer?.add(panel, panel.id);

    app.commands.addCommand(CommandIDs.open, {
      label: 'Show the Raise Sidebar',
      execute: () => app.shell.activateById(panel.id)
    });
    app.commands.addCommand(CommandIDs.refresh, {
      label: 'Refresh the Raise Catalog',
      execute: () => model.refresh()
    });
    palette?.addItem({ command: CommandIDs.open, category: 'Raise' });
    palette?.addItem({ command: CommandIDs.refresh, category: 'Raise' });
  }
};

export default plugin;
