import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { Store } from '../../src/store/index.js';
import { contentSuite } from './content-suite.js';
import { tempDir } from './store-helpers.js';

function withStore(): () => Store {
  let store: Store;
  beforeAll(async () => {
    store = await Store.open(await tempDir());
  });
  afterAll(async () => {
    await store.close();
    await rm(store.root, { recursive: true, force: true });
  });
  return () => store;
}

describe('content store conformance, one case at a time', () => {
  contentSuite(it, withStore());
});

describe.concurrent('content store conformance, all cases at once on one store', () => {
  contentSuite(it, withStore());
});
