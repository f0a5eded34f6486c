import { Widget } from '@lumino/widgets';

import { raiseIcon } from '../../labextension/src/icon';
import { CatalogModel } from '../../labextension/src/model';
import { RaisePanel, REFRESH_INTERVAL_MS } from '../../labextension/src/widget';
import { FakeClient } from './fixtures';

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !condition(); i++) {
    await new Promise(resolve => setTimeout(resolve, 10));
  }
  expect(condition()).toBe(true);
}

function panelOn(fake: FakeClient): RaisePanel {
  const model = new CatalogModel(fake.asClient(), '0.1.0');
  return new RaisePanel(model, () => ({ ok: true, message: '' }));
}

describe('RaisePanel', () => {
  it('is a left panel titled Raise with its own icon', () => {
    const panel = panelOn(new FakeClient());
    expect(panel.id).toBe('raise-sidebar');
    expect(panel.title.caption).toBe('Raise');
    expect(panel.title.icon).toBe(raiseIcon);
    expect(raiseIcon.svgstr).toContain('<svg');
    expect(panel.node.querySelector('.jp-RaisePanel-heading h2')!.textContent).toBe('Raise');
    panel.dispose();
  });

  it('loads the catalog when first shown, and again when shown after a while', async () => {
    const fake = new FakeClient();
    const panel = panelOn(fake);
    expect(fake.calls).toEqual([]); // nothing before it is seen
    Widget.attach(panel, document.body);
    const nodes = (): number => panel.node.querySelectorAll('[data-testid="raise-node"]').length;
    await until(() => nodes() === 5); // opened down to the two feature groups
    expect(fake.callsOf('listOrganizations')).toHaveLength(1);
    expect(fake.callsOf('health')).toHaveLength(1);

    panel.hide();
    panel.model.lastRefresh = new Date(Date.now() - 60_000);
    panel.show();
    await until(() => fake.callsOf('listOrganizations').length === 2);
    panel.dispose();
  });

  it('reloads every 30 seconds while visible, and not while hidden', async () => {
    jest.useFakeTimers();
    try {
      const fake = new FakeClient();
      const panel = panelOn(fake);
      Widget.attach(panel, document.body);
      await jest.advanceTimersByTimeAsync(100); // the first load, then the poll starts
      expect(fake.callsOf('listOrganizations')).toHaveLength(1);
      await jest.advanceTimersByTimeAsync(REFRESH_INTERVAL_MS);
      expect(fake.callsOf('listOrganizations')).toHaveLength(2);
      expect(REFRESH_INTERVAL_MS).toBe(30_000);
      panel.hide();
      await jest.advanceTimersByTimeAsync(3 * REFRESH_INTERVAL_MS);
      expect(fake.callsOf('listOrganizations')).toHaveLength(2);
      panel.dispose();
    } finally {
      jest.useRealTimers();
    }
  });
});
