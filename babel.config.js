// Used by jest only (babel-jest turns the ES modules of node_modules into CommonJS).
module.exports = require('@jupyterlab/testutils/lib/babel.config');
