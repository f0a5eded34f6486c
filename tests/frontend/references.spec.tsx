/**
 * The References section of a blob feature's detail: the references among its latest values,
 * each image with the thumbnail the server drew (never the blob itself).
 */
import { act, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import * as React from 'react';

import { RaiseApiError } from '../../labextension/src/api';
import { blobFileName, formatBytes, thumbnailSrc } from '../../labextension/src/components/BlobReferences';
import { RaiseSidebar } from '../../labextension/src/components/Sidebar';
import { CatalogModel, isBlobDtype } from '../../labextension/src/model';
import { blobSample, FakeClient, feature, PNG_BASE64 } from './fixtures';

const PROJECT = 'acme/mlplatform/recommendation';
const PRODUCTS = `${PROJECT}/products`;

/** A fake whose products group has a blob feature (`image`) and an int64 one (`price_cents`). */
function productsFake(): FakeClient {
  const fake = new FakeClient();
  fake.features[PRODUCTS] = [
    feature(PRODUCTS, 'image', { dtype: 'blob_ref<image/png|image/jpeg>', description: 'Product photos' }),
    feature(PRODUCTS, 'manual', { dtype: 'blob_ref' }),
    feature(PRODUCTS, 'price_cents', { dtype: 'int64' })
  ];
  fake.blobSampleAnswers[`${PRODUCTS}/image@v1`] = [
    blobSample('s3://products/images/p1.png', { size_bytes: 1234, status: 'valid' }),
    blobSample('s3://products/images/nested/p2.jpg', {
      content_type: 'image/jpeg',
      size_bytes: 3 * 1024 * 1024,
      thumbnail: { uri: 's3://products/images/nested/p2.jpg', content_type: 'image/png', width: 96, height: 72, data: 'QUJD' }
    }),
    blobSample('s3://products/images/gone.png', {
      size_bytes: 0,
      status: 'missing',
      thumbnail: null,
      error: 's3://products/images/gone.png does not exist: there is nothing to preview.'
    }),
    blobSample('s3://products/docs/spec.pdf', { content_type: 'application/pdf', size_bytes: 512, thumbnail: null })
  ];
  return fake;
}

async function renderSidebar(fake: FakeClient): Promise<CatalogModel> {
  const model = new CatalogModel(fake.asClient(), '0.1.0');
  render(<RaiseSidebar model={model} onInsert={() => ({ ok: true, message: '' })} />);
  await act(() => model.start());
  return model;
}

/** Opens the products group in the tree and shows one of its features' detail. */
async function showFeature(name: string): Promise<HTMLElement> {
  const group = screen.getAllByTestId('raise-node').find(el => el.dataset.kind === 'group' && el.dataset.path === PRODUCTS)!;
  fireEvent.click(group);
  const row = await waitFor(() => {
    const found = screen.queryAllByTestId('raise-feature').find(el => el.dataset.path === `${PRODUCTS}/${name}`);
    expect(found).toBeTruthy();
    return found!;
  });
  fireEvent.click(row);
  const detail = await screen.findByTestId('raise-detail');
  await waitFor(() => expect(screen.getByTestId('raise-detail-title').textContent).toBe(`${name}@v1`));
  await waitFor(() => expect(detail.getAttribute('aria-busy')).toBe('false'));
  return detail;
}

async function references(state = 'ready'): Promise<HTMLElement> {
  const section = await screen.findByTestId('raise-blob-references');
  await waitFor(() => expect(section.dataset.state).toBe(state));
  return section;
}

describe('a blob feature\'s references', () => {
  it('lists them with file name, content type, size and status, each image with the server\'s thumbnail', async () => {
    const fake = productsFake();
    await renderSidebar(fake);
    await showFeature('image');
    const section = await references();
    expect(within(screen.getByTestId('raise-detail-references')).getByRole('heading').textContent).toBe('References');
    expect(fake.callsOf('blobSamples')).toEqual([[PRODUCTS, 'image@v1', { limit: 8, size: 96 }]]);

    const items = within(section).getAllByTestId('raise-blob-reference');
    expect(items.map(i => [i.dataset.uri, i.dataset.status, i.dataset.contentType])).toEqual([
      ['s3://products/images/p1.png', 'valid', 'image/png'],
      ['s3://products/images/nested/p2.jpg', 'unchecked', 'image/jpeg'],
      ['s3://products/images/gone.png', 'missing', 'image/png'],
      ['s3://products/docs/spec.pdf', 'unchecked', 'application/pdf']
    ]);
    const names = items.map(i => within(i).getByTestId('raise-blob-name'));
    expect(names.map(n => [n.textContent, n.getAttribute('title')])).toEqual([
      ['p1.png', 's3://products/images/p1.png'],
      ['p2.jpg', 's3://products/images/nested/p2.jpg'],
      ['gone.png', 's3://products/images/gone.png'],
      ['spec.pdf', 's3://products/docs/spec.pdf']
    ]);
    expect(items.map(i => within(i).getByTestId('raise-blob-type').textContent)).toEqual([
      'image/png',
      'image/jpeg',
      'image/png',
      'application/pdf'
    ]);
    expect(items.map(i => within(i).getByTestId('raise-blob-size').textContent)).toEqual(['1.2 KiB', '3 MiB', '0 B', '512 B']);
    expect(within(items[0]).getByTestId('raise-blob-size').getAttribute('title')).toBe('1,234 bytes');
    expect(items.map(i => within(i).getByTestId('raise-blob-status').textContent)).toEqual([
      'valid',
      'unchecked',
      'missing',
      'unchecked'
    ]);
    expect(items[0].textContent).toBe('p1.pngimage/png · 1.2 KiB · valid');

    const images = within(section).getAllByTestId('raise-blob-thumbnail') as HTMLImageElement[];
    expect(images.map(img => [img.getAttribute('src'), img.getAttribute('alt'), img.getAttribute('width'), img.getAttribute('height')])).toEqual([
      [`data:image/png;base64,${PNG_BASE64}`, 'p1.png', '40', '30'],
      ['data:image/png;base64,QUJD', 'p2.jpg', '96', '72'] // the thumbnail is a PNG whatever the blob's type
    ]);
    expect(within(items[0]).getByTestId('raise-blob-thumbnail')).toBe(images[0]);
    // nothing but data: URLs: the browser never asks for a blob
    expect(Array.from(section.querySelectorAll('img')).every(img => img.getAttribute('src')!.startsWith('data:image/png;base64,'))).toBe(true);
    expect(section.innerHTML).not.toContain('src="s3://');
  });

  it('shows why a reference has no thumbnail, and nothing for one that is not an image', async () => {
    await renderSidebar(productsFake());
    await showFeature('image');
    const items = within(await references()).getAllByTestId('raise-blob-reference');
    const gone = items[2];
    expect(within(gone).queryByTestId('raise-blob-thumbnail')).toBeNull();
    expect(within(gone).getByTestId('raise-blob-error').textContent).toBe(
      's3://products/images/gone.png does not exist: there is nothing to preview.'
    );
    const pdf = items[3];
    expect(within(pdf).queryByTestId('raise-blob-thumbnail')).toBeNull();
    expect(within(pdf).queryByTestId('raise-blob-error')).toBeNull();
    expect(pdf.querySelector('.jp-RaiseBlob-preview')!.textContent).toBe('');
    expect(within(items[0]).queryByTestId('raise-blob-error')).toBeNull();
  });

  it('is not there for a feature of another type, which asks for no references', async () => {
    const fake = productsFake();
    await renderSidebar(fake);
    await showFeature('price_cents');
    await waitFor(() => expect(screen.getByTestId('raise-stats').dataset.state).toBe('ready'));
    expect(screen.getByTestId('raise-detail-dtype').textContent).toBe('int64');
    expect(screen.queryByTestId('raise-detail-references')).toBeNull();
    expect(screen.queryByTestId('raise-blob-references')).toBeNull();
    expect(fake.callsOf('blobSamples')).toEqual([]);
    expect(screen.getByTestId('raise-detail-lineage')).toBeTruthy(); // the other sections are there
  });

  it('says when no reference has been written yet (a plain blob_ref feature)', async () => {
    const fake = productsFake();
    await renderSidebar(fake);
    await showFeature('manual');
    const section = await references();
    expect(fake.callsOf('blobSamples')).toEqual([[PRODUCTS, 'manual@v1', { limit: 8, size: 96 }]]);
    expect(within(section).getByTestId('raise-blob-references-empty').textContent).toBe('No references written yet');
    expect(within(section).queryAllByTestId('raise-blob-reference')).toEqual([]);
    expect(within(section).queryByRole('alert')).toBeNull();
  });

  it('shows the server\'s message when the references cannot be listed, the rest of the detail still there', async () => {
    const fake = productsFake();
    fake.failures.blobSamples = new RaiseApiError(
      "alice@acme may not preview the blobs of 'acme/mlplatform/recommendation/products'.",
      403,
      'PERMISSION_DENIED'
    );
    await renderSidebar(fake);
    await showFeature('image');
    const section = await references('error');
    const error = within(section).getByTestId('raise-blob-references-error');
    expect(error.textContent).toBe("alice@acme may not preview the blobs of 'acme/mlplatform/recommendation/products'.");
    expect(error.getAttribute('role')).toBe('alert');
    expect(error.dataset.code).toBe('PERMISSION_DENIED');
    expect(within(section).queryAllByTestId('raise-blob-reference')).toEqual([]);
    expect(screen.getByTestId('raise-detail-dtype').textContent).toBe('blob_ref<image/png|image/jpeg>');
    expect(screen.getByTestId('raise-detail-commits').textContent).toMatch(/^30,000 rows written/);
  });

  it('says it is loading until the references arrive', async () => {
    const fake = productsFake();
    let answer!: () => void;
    const slow = new Promise<void>(resolve => (answer = resolve));
    const blobSamples = fake.blobSamples.bind(fake);
    fake.blobSamples = async (...args) => {
      await slow;
      return blobSamples(...args);
    };
    await renderSidebar(fake);
    await showFeature('image');
    const section = screen.getByTestId('raise-blob-references');
    expect(section.dataset.state).toBe('loading');
    expect(section.getAttribute('aria-busy')).toBe('true');
    expect(within(section).getByTestId('raise-blob-references-loading').textContent).toBe('Loading references…');
    await act(async () => answer());
    await references();
    expect(screen.queryByTestId('raise-blob-references-loading')).toBeNull();
    expect(screen.getAllByTestId('raise-blob-thumbnail')).toHaveLength(2);
  });

  it('keeps them on the poll, and reloads them when the group is written or the last load failed', async () => {
    const fake = productsFake();
    fake.failures.blobSamples = new RaiseApiError('The object store is unreachable.', 503, 'UNAVAILABLE');
    const model = await renderSidebar(fake);
    await showFeature('image');
    await references('error');
    expect(screen.getByTestId('raise-blob-references-error').textContent).toBe('The object store is unreachable.');

    delete fake.failures.blobSamples; // a failure is retried on the refresh
    await act(() => model.refresh());
    await references();
    expect(screen.getAllByTestId('raise-blob-reference')).toHaveLength(4);
    expect(fake.callsOf('blobSamples')).toHaveLength(2);

    fake.blobSampleAnswers[`${PRODUCTS}/image@v1`] = [blobSample('s3://products/images/p9.png')];
    await act(() => model.refresh()); // nothing written since: the poll keeps them
    expect(fake.callsOf('blobSamples')).toHaveLength(2);
    expect(screen.getAllByTestId('raise-blob-reference')).toHaveLength(4);

    fake.commitLog = [
      ...fake.commitLog,
      { commit_id: 3, kind: 'append', rows: 1, actor: 'ada', committed_at: '2026-12-07T10:00:00+00:00' }
    ];
    await act(() => model.refresh()); // a new commit: its values may be other references
    await references();
    expect(fake.callsOf('blobSamples')).toHaveLength(3);
    expect(screen.getAllByTestId('raise-blob-reference').map(i => i.dataset.uri)).toEqual(['s3://products/images/p9.png']);
  });

  it('drops the references of a feature that is no longer selected', async () => {
    const fake = productsFake();
    let answer!: () => void;
    const slow = new Promise<void>(resolve => (answer = resolve));
    const blobSamples = fake.blobSamples.bind(fake);
    fake.blobSamples = async (path, name, options) => {
      if (name === 'image@v1') {
        await slow;
      }
      return blobSamples(path, name, options);
    };
    const model = await renderSidebar(fake);
    let first!: Promise<void>;
    act(() => {
      first = model.select({ groupPath: PRODUCTS, name: 'image', version: null });
    });
    await waitFor(() => expect(model.detail!.loading).toBe(false));
    await act(() => model.select({ groupPath: PRODUCTS, name: 'manual', version: null }));
    await act(async () => {
      answer();
      await first;
    });
    expect(model.detail!.ref.name).toBe('manual');
    expect(model.detail!.references.samples).toEqual([]);
    expect(screen.getByTestId('raise-blob-references-empty').textContent).toBe('No references written yet');
  });
});

describe('isBlobDtype', () => {
  it.each([
    ['blob_ref', true],
    ['blob_ref<image/png|image/jpeg>', true],
    ['int64', false],
    ['string', false],
    ['', false]
  ])('%p is a blob type: %p', (dtype, blob) => {
    expect(isBlobDtype(dtype)).toBe(blob);
  });
});

describe('formatBytes', () => {
  it.each([
    [0, '0 B'],
    [512, '512 B'],
    [1023, '1023 B'],
    [1024, '1 KiB'],
    [1234, '1.2 KiB'],
    [20 * 1024 + 300, '20 KiB'],
    [3 * 1024 * 1024, '3 MiB'],
    [5.5 * 1024 ** 3, '5.5 GiB'],
    [-1, '—']
  ])('writes %p bytes as %p', (bytes, text) => {
    expect(formatBytes(bytes)).toBe(text);
  });
});

describe('blobFileName', () => {
  it.each([
    ['s3://products/images/p1.png', 'p1.png'],
    ['gs://bucket/a/b/c.jpeg', 'c.jpeg'],
    ['https://cdn.example.com/img/p%201.png?sig=abc#x', 'p%201.png'],
    ['file:///data/images/p1.png', 'p1.png'],
    ['/data/images/p1.png', 'p1.png'],
    ['s3://products/images/', 'images'],
    ['s3://bucket', 'bucket']
  ])('names %p %p', (uri, name) => {
    expect(blobFileName(uri)).toBe(name);
  });
});

describe('thumbnailSrc', () => {
  it('is a data: URL of the server\'s PNG, whatever type it claims beyond the raster ones', () => {
    const thumbnail = { uri: 's3://x/y.png', content_type: 'image/png', width: 1, height: 1, data: PNG_BASE64 };
    expect(thumbnailSrc(thumbnail)).toBe(`data:image/png;base64,${PNG_BASE64}`);
    expect(thumbnailSrc({ ...thumbnail, content_type: 'image/jpeg' })).toBe(`data:image/jpeg;base64,${PNG_BASE64}`);
    expect(thumbnailSrc({ ...thumbnail, content_type: 'text/html' })).toBe(`data:image/png;base64,${PNG_BASE64}`);
  });
});
