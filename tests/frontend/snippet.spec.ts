import { YFile } from '@jupyter/ydoc';
import { CodeEditor } from '@jupyterlab/codeeditor';
import { Notebook, NotebookModel } from '@jupyterlab/notebook';
import { NBTestUtils } from '@jupyterlab/testutils';
import { Widget } from '@lumino/widgets';

import {
  featurePath,
  featureSnippet,
  insertAtCursor,
  insertIntoNotebook
} from '../../labextension/src/snippet';

const CLICKS = { org: 'acme', domain: 'mlplatform', project: 'recommendation', group: 'user-signals', name: 'click_count' };

/** A CodeMirror editor bound to its text as a notebook cell's is. */
function editorWith(text: string): { editor: CodeEditor.IEditor; model: CodeEditor.Model } {
  const model = new CodeEditor.Model({ sharedModel: new YFile() });
  model.sharedModel.setSource(text);
  const host = document.createElement('div');
  document.body.appendChild(host);
  return { editor: NBTestUtils.editorFactory({ host, model }), model };
}

/** A real notebook of code cells, attached to the page, its first cell active. */
function notebookOf(...sources: string[]): Notebook {
  const notebook = NBTestUtils.createNotebook();
  const model = new NotebookModel();
  model.fromJSON({
    cells: sources.map(source => ({ cell_type: 'code', source, metadata: {}, outputs: [], execution_count: null })),
    metadata: {},
    nbformat: 4,
    nbformat_minor: 5
  });
  notebook.model = model;
  Widget.attach(notebook, document.body);
  notebook.activeCellIndex = 0;
  return notebook;
}

describe('featureSnippet', () => {
  it('calls the SDK\'s FeatureStore.feature with the full path', () => {
    expect(featureSnippet(CLICKS)).toBe('fs.feature("acme/mlplatform/recommendation/user-signals/click_count")');
  });

  it('pins a version when one is given', () => {
    expect(featurePath(CLICKS, 'v2')).toBe('acme/mlplatform/recommendation/user-signals/click_count@v2');
    expect(featureSnippet(CLICKS, 'v2')).toBe('fs.feature("acme/mlplatform/recommendation/user-signals/click_count@v2")');
  });
});

describe('insertAtCursor', () => {
  it('inserts at the cursor of a real editor and leaves the cursor after the snippet', () => {
    const { editor, model } = editorWith('x = \nprint(x)');
    editor.setCursorPosition({ line: 0, column: 4 });
    insertAtCursor({ editor, source: model.sharedModel }, 'fs.feature("a/b")');
    expect(model.sharedModel.getSource()).toBe('x = fs.feature("a/b")\nprint(x)');
    expect(editor.getCursorPosition()).toEqual({ line: 0, column: 21 });
    editor.dispose();
  });

  it('replaces the selection', () => {
    const { editor, model } = editorWith('df = TODO.to_pandas()');
    editor.setSelection({ start: { line: 0, column: 5 }, end: { line: 0, column: 9 } });
    insertAtCursor({ editor, source: model.sharedModel }, 'fs.feature("a/b")');
    expect(model.sharedModel.getSource()).toBe('df = fs.feature("a/b").to_pandas()');
    editor.dispose();
  });

  it('replaces a selection made backwards', () => {
    const { editor, model } = editorWith('abc XYZ def');
    editor.setSelection({ start: { line: 0, column: 7 }, end: { line: 0, column: 4 } });
    insertAtCursor({ editor, source: model.sharedModel }, '1');
    expect(model.sharedModel.getSource()).toBe('abc 1 def');
    editor.dispose();
  });
});

describe('insertIntoNotebook', () => {
  const tracker = (content: Notebook | null): any => ({
    currentWidget: content && { id: 'notebook-1', title: { label: 'analysis.ipynb' }, content }
  });

  it('puts the snippet at the cursor of the active cell, in edit mode, with the notebook active', () => {
    const notebook = notebookOf('import raise_', 'features = []');
    notebook.activeCellIndex = 1;
    notebook.activeCell!.editor!.setCursorPosition({ line: 0, column: 12 });
    const shell = { activateById: jest.fn() };
    const result = insertIntoNotebook(shell, tracker(notebook), 'fs.feature("a/b/c/d/e")');
    expect(result).toEqual({ ok: true, message: 'Inserted into analysis.ipynb.' });
    expect(notebook.model!.sharedModel.cells.map(c => c.getSource())).toEqual([
      'import raise_',
      'features = [fs.feature("a/b/c/d/e")]'
    ]);
    expect(notebook.activeCell!.editor!.getCursorPosition()).toEqual({ line: 0, column: 35 });
    expect(notebook.mode).toBe('edit');
    expect(shell.activateById).toHaveBeenCalledWith('notebook-1');
    notebook.dispose();
  });

  it('says what to do without a notebook', () => {
    const shell = { activateById: jest.fn() };
    expect(insertIntoNotebook(shell, tracker(null), 'x')).toEqual({
      ok: false,
      message: 'Open a notebook first: the snippet goes into its active cell.'
    });
    expect(insertIntoNotebook(shell, null, 'x').ok).toBe(false);
    expect(shell.activateById).not.toHaveBeenCalled();
  });

  it('says what to do when no cell is active', () => {
    const content = { activeCell: null, mode: 'command' } as unknown as Notebook;
    const result = insertIntoNotebook({ activateById: jest.fn() }, tracker(content), 'x');
    expect(result).toEqual({ ok: false, message: 'Select a cell of analysis.ipynb first.' });
  });
});
