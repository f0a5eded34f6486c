/**
 * The sidebar's own version and its check against the server extension's.
 *
 * FRONTEND_VERSION must equal package.json's version and the Python package's
 * (tests/frontend/test_routes_used.py checks all three).
 */
export const FRONTEND_VERSION = '0.1.0';

/** The Python distribution that ships both the server extension and this sidebar. */
export const DISTRIBUTION = 'raise-featurestore';

export const FIX_COMMAND = `pip install -U ${DISTRIBUTION}`;

/** What the sidebar knows of the server extension it talks to. */
export type VersionCheck =
  | { state: 'pending' }
  | { state: 'ok'; server: string }
  | { state: 'mismatch'; server: string | null }
  | { state: 'unreachable'; status: number; reason: string };

/** The check for a `/health` answer (`version` is the server extension's package version). */
export function compareVersions(
  serverVersion: string | null | undefined,
  frontend: string = FRONTEND_VERSION
): VersionCheck {
  if (typeof serverVersion !== 'string' || !serverVersion) {
    return { state: 'mismatch', server: null };
  }
  return serverVersion === frontend
    ? { state: 'ok', server: serverVersion }
    : { state: 'mismatch', server: serverVersion };
}

/** The message for the user, with what to do; null when all is well. */
export function versionMessage(
  check: VersionCheck,
  frontend: string = FRONTEND_VERSION
): string | null {
  switch (check.state) {
    case 'pending':
    case 'ok':
      return null;
    case 'mismatch': {
      const server =
        check.server === null
          ? 'did not report its version (it predates version reporting)'
          : `is version ${check.server}`;
      return (
        `The Raise server extension ${server}, but this sidebar is version ${frontend}. ` +
        `Run \`${FIX_COMMAND}\` in the environment that runs Jupyter, then restart the ` +
        'Jupyter server and reload this page.'
      );
    }
    case 'unreachable':
      if (check.status === 404) {
        return (
          'The Raise server extension is not running on this Jupyter server. Run ' +
          `\`${FIX_COMMAND}\` in the environment that runs Jupyter, check that ` +
          '`jupyter server extension list` shows raise_jupyter enabled, then restart the ' +
          'Jupyter server.'
        );
      }
      return `Cannot check the Raise server extension: ${check.reason}`;
  }
}
