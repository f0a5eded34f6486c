"""Real-browser tests (a package, so that its JupyterLab and Chromium end with its last test)."""
