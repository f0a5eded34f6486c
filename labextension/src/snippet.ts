/**
 * The code the insert button puts into a notebook, and how it goes in at the cursor.
 */
import type { CodeEditor } from '@jupyterlab/codeeditor';
import type { INotebookTracker } from '@jupyterlab/notebook';

import type { IInsertResult } from './components/FeatureDetail';

export interface IFeaturePath {
  org: string;
  domain: string;
  project: string;
  group: string;
  name: string;
}

/** The feature's full path (`org/domain/project/group/feature[@version]`). */
export function featurePath(feature: IFeaturePath, version?: string | null): string {
  const path = [feature.org, feature.domain, feature.project, feature.group, feature.name].join('/');
  return version ? `${path}@${version}` : path;
}

/**
 * `fs.feature("org/domain/project/group/feature")`: the SDK's accessor (FeatureStore.feature)
 * with the full path, which resolves whatever project `fs` was opened on. Without a version it
 * reads the newest one, as the SDK does.
 */
export function featureSnippet(feature: IFeaturePath, version?: string | null): string {
  // Catalog names are [A-Za-z0-9_-] words, so a JSON string is also a Python string literal.
  return `fs.feature(${JSON.stringify(featurePath(feature, version))})`;
}

/** The parts of a cell that an insertion touches (a notebook cell, or a stand-in in tests). */
export interface IInsertTarget {
  editor: Pick<
    CodeEditor.IEditor,
    'getSelection' | 'getOffsetAt' | 'getPositionAt' | 'setCursorPosition' | 'focus'
  >;
  source: { updateSource(start: number, end: number, value: string): void };
}

/** Put `text` in place of the editor's selection (at its cursor when nothing is selected). */
export function insertAtCursor(target: IInsertTarget, text: string): void {
  const { editor } = target;
  const selection = editor.getSelection();
  const a = editor.getOffsetAt(selection.start);
  const b = editor.getOffsetAt(selection.end);
  const start = Math.min(a, b);
  target.source.updateSource(start, Math.max(a, b), text);
  const after = editor.getPositionAt(start + text.length);
  if (after) {
    editor.setCursorPosition(after);
  }
  editor.focus();
}

/**
 * Insert into the active cell of the current notebook (the last one the user worked in), at its
 * cursor, and leave that cell's editor focused in edit mode so typing goes on from there.
 */
export function insertIntoNotebook(
  shell: { activateById(id: string): void },
  tracker: Pick<INotebookTracker, 'currentWidget'> | null,
  snippet: string
): IInsertResult {
  const panel = tracker?.currentWidget ?? null;
  if (!panel) {
    return { ok: false, message: 'Open a notebook first: the snippet goes into its active cell.' };
  }
  const cell = panel.content.activeCell;
  if (!cell || !cell.editor) {
    return { ok: false, message: `Select a cell of ${panel.title.label} first.` };
  }
  shell.activateById(panel.id);
  panel.content.mode = 'edit';
  insertAtCursor({ editor: cell.editor, source: cell.model.sharedModel }, snippet);
  return { ok: true, message: `Inserted into ${panel.title.label}.` };
}
