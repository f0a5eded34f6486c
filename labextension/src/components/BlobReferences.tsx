/**
 * The References section of a `blob_ref` feature's detail: the distinct references among its
 * latest values (file name, content type, size, validation status) and, for images, the
 * thumbnail the server drew. The browser never fetches a blob: an image shows from the `data:`
 * URL of the server's PNG, and a reference the server could not draw says why.
 */
import * as React from 'react';

import { IBlobSample, IBlobThumbnail } from '../api';
import { IDetail } from '../model';

const BYTE_UNITS = ['KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/** A size in bytes, written short: `512 B`, `1.2 KiB`, `34 MiB`. */
export function formatBytes(bytes: number | null | undefined): string {
  if (typeof bytes !== 'number' || !Number.isFinite(bytes) || bytes < 0) {
    return '—';
  }
  if (bytes < 1024) {
    return `${bytes} B`;
  }
  let value = bytes;
  let unit = 'B';
  for (const next of BYTE_UNITS) {
    if (value < 1024) {
      break;
    }
    value /= 1024;
    unit = next;
  }
  const text = value < 10 ? value.toFixed(1).replace(/\.0$/, '') : Math.round(value).toString();
  return `${text} ${unit}`;
}

/** The last segment of a blob's URI (its query and fragment left out), or the URI when it has none. */
export function blobFileName(uri: string): string {
  const rest = uri.includes('://') ? uri.slice(uri.indexOf('://') + 3) : uri;
  const path = rest.replace(/[?#].*$/, '').replace(/\/+$/, '');
  const name = path.slice(path.lastIndexOf('/') + 1);
  return name || uri;
}

const RASTER_TYPES = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp']);

/** The `data:` URL of a thumbnail the server drew (a PNG unless it says another raster type). */
export function thumbnailSrc(thumbnail: IBlobThumbnail): string {
  const type = RASTER_TYPES.has(thumbnail.content_type) ? thumbnail.content_type : 'image/png';
  return `data:${type};base64,${thumbnail.data}`;
}

function BlobReference(props: { sample: IBlobSample }): JSX.Element {
  const { sample } = props;
  const name = blobFileName(sample.uri);
  const { thumbnail } = sample;
  return (
    <li
      className={`jp-RaiseBlob jp-mod-${sample.status}`}
      data-testid="raise-blob-reference"
      data-uri={sample.uri}
      data-status={sample.status}
      data-content-type={sample.content_type}
    >
      <div className="jp-RaiseBlob-preview">
        {thumbnail ? (
          <img
            className="jp-RaiseBlob-thumbnail"
            data-testid="raise-blob-thumbnail"
            src={thumbnailSrc(thumbnail)}
            alt={name}
            width={thumbnail.width}
            height={thumbnail.height}
          />
        ) : sample.error ? (
          <div className="jp-RaiseBlob-error" data-testid="raise-blob-error">
            {sample.error}
          </div>
        ) : null}
      </div>
      <div className="jp-RaiseBlob-name" data-testid="raise-blob-name" title={sample.uri}>
        {name}
      </div>
      <div className="jp-RaiseBlob-meta">
        <span data-testid="raise-blob-type">{sample.content_type}</span>
        {' · '}
        <span data-testid="raise-blob-size" title={typeof sample.size_bytes === 'number' ? `${sample.size_bytes.toLocaleString('en-US')} bytes` : undefined}>
          {formatBytes(sample.size_bytes)}
        </span>
        {' · '}
        <span className={`jp-RaiseBlob-status jp-mod-${sample.status}`} data-testid="raise-blob-status">
          {sample.status}
        </span>
      </div>
    </li>
  );
}

export function BlobReferences(props: { detail: IDetail }): JSX.Element | null {
  const { loading, samples, error } = props.detail.references;
  const state = loading ? 'loading' : error ? 'error' : samples ? 'ready' : 'none';
  if (state === 'none') {
    return null; // not a blob feature, or no feature: the detail says why
  }
  return (
    <div className="jp-RaiseBlobs" data-testid="raise-blob-references" data-state={state} aria-busy={loading}>
      {error && (
        <div className="jp-RaiseDetail-error" role="alert" data-testid="raise-blob-references-error" data-code={error.code}>
          {error.message}
        </div>
      )}
      {samples &&
        (samples.length ? (
          <ul className={`jp-RaiseBlobs-list${loading ? ' jp-mod-loading' : ''}`}>
            {samples.map(sample => (
              <BlobReference key={sample.uri} sample={sample} />
            ))}
          </ul>
        ) : (
          <div className="jp-RaiseDetail-muted" data-testid="raise-blob-references-empty">
            No references written yet
          </div>
        ))}
      {loading && (
        <div className="jp-RaiseDetail-muted" data-testid="raise-blob-references-loading">
          Loading references…
        </div>
      )}
    </div>
  );
}
