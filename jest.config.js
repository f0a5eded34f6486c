// Jest for the sidebar (tests/frontend/*.spec.ts[x]), on JupyterLab's own test setup.
const jestJupyterLab = require('@jupyterlab/testutils/lib/jest-config');

// Packages published as ES modules, which babel turns into CommonJS for jest.
const esModules = [
  '@codemirror',
  '@jupyter/react-components',
  '@jupyter/web-components',
  '@jupyter/ydoc',
  '@jupyterlab/',
  '@lezer',
  '@marijn',
  '@microsoft',
  'exenv-es6',
  'lib0',
  'marked',
  'nanoid',
  'vscode-ws-jsonrpc',
  'y-protocols',
  'y-websocket',
  'yjs'
].join('|');

const base = jestJupyterLab(__dirname);

module.exports = {
  ...base,
  automock: false,
  reporters: ['default'],
  roots: ['<rootDir>/tests/frontend'],
  setupFiles: [...base.setupFiles, '<rootDir>/tests/frontend/quiet-jsdom.js'],
  testRegex: 'tests/frontend/.*\\.spec\\.tsx?$',
  transformIgnorePatterns: [`/node_modules/(?!${esModules}).+`]
};
