// The relay a step's ssh mount shows, over real unix sockets: a stand-in agent that records
// what reaches it and answers each message with its type + 100.

import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { relaySocket, type RelaySocket } from '../../src/exec/ssh-agent-relay.js';

const message = (type: number, payload = Buffer.alloc(0)) => Buffer.concat([Buffer.from([0, 0, 0, payload.length + 1, type]), payload]);

describe('ssh agent relay', () => {
  let dir: string;
  let agent: Server;
  let received: number[];
  let relay: RelaySocket;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tsbuild-relay-test-'));
    received = [];
    agent = createServer((socket) => {
      let buffered = Buffer.alloc(0);
      socket.on('data', (chunk: Buffer) => {
        buffered = Buffer.concat([buffered, chunk]);
        while (buffered.length >= 4 && buffered.length >= 4 + buffered.readUInt32BE(0)) {
          const type = buffered[4]!;
          received.push(type);
          buffered = buffered.subarray(4 + buffered.readUInt32BE(0));
          socket.write(message(type + 100));
        }
      });
    });
    await new Promise<void>((done) => agent.listen(join(dir, 'agent.sock'), done));
    relay = await relaySocket(join(dir, 'agent.sock'), join(dir, 'relay.sock'), { uid: process.getuid!(), gid: process.getgid!(), mode: 0o640 });
  });

  afterEach(async () => {
    await relay.close();
    await new Promise<void>((done) => agent.close(() => done()));
    rmSync(dir, { recursive: true, force: true });
  });

  /** Sends `bytes` (in one write) and collects what comes back until the relay ends the connection. */
  async function exchange(bytes: Buffer, endAfterWrite = true): Promise<Buffer> {
    const client: Socket = connect(join(dir, 'relay.sock'));
    const chunks: Buffer[] = [];
    client.on('data', (chunk: Buffer) => chunks.push(chunk));
    await new Promise<void>((done) => client.once('connect', done));
    if (endAfterWrite) client.end(bytes);
    else client.write(bytes);
    await new Promise<void>((done) => client.once('close', () => done()));
    return Buffer.concat(chunks);
  }

  it('has the mode asked for', () => {
    expect(statSync(relay.path).mode & 0o777).toBe(0o640);
    expect(statSync(relay.path).isSocket()).toBe(true);
  });

  it('passes listing and signing to the agent and answers the rest itself with a failure, in order', async () => {
    const sign = message(13, Buffer.from('key and data'));
    const replies = await exchange(Buffer.concat([message(11), message(17, Buffer.from('a key')), sign, message(19), message(22), message(27)]));
    expect(replies).toEqual(Buffer.concat([message(111), message(5), message(113), message(5), message(5), message(5)]));
    expect(received).toEqual([11, 13]);
  });

  it('answers an empty message with a failure', async () => {
    expect(await exchange(Buffer.from([0, 0, 0, 0]))).toEqual(message(5));
    expect(received).toEqual([]);
  });

  it('drops a connection that announces a message over 256 KiB, before reading it', async () => {
    const header = Buffer.alloc(5);
    header.writeUInt32BE(256 * 1024 + 1, 0);
    header[4] = 11;
    expect(await exchange(header, false)).toEqual(Buffer.alloc(0));
    expect(received).toEqual([]);
  });

  it('close() ends open connections and removes the socket', async () => {
    const client = connect(relay.path);
    await new Promise<void>((done) => client.once('connect', done));
    const closed = new Promise<void>((done) => client.once('close', () => done()));
    client.on('error', () => {});
    await relay.close();
    await closed;
    expect(() => statSync(relay.path)).toThrow(/ENOENT/);
  });
});
