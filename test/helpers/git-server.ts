// Real git repositories for tests, and a smart-HTTP server for them on 127.0.0.1: a small node
// server in front of `git http-backend` (CGI), so `git ls-remote` and `git fetch` talk to it as
// to any git host. It records which protocol commands each request carried (ls-refs, fetch), so
// a test can assert that a build fetched nothing.

import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { writeTree, type Tree } from './testdir.js';

/** Commits and tags get the same ids on every run: fixed names, dates and no host config. */
const GIT_ENV = {
  PATH: process.env.PATH,
  HOME: '/dev/null',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_AUTHOR_NAME: 'Test',
  GIT_AUTHOR_EMAIL: 'test@example.invalid',
  GIT_AUTHOR_DATE: '2024-01-01T00:00:00Z',
  GIT_COMMITTER_NAME: 'Test',
  GIT_COMMITTER_EMAIL: 'test@example.invalid',
  GIT_COMMITTER_DATE: '2024-01-01T00:00:00Z',
};

export function git(dir: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd: dir, env: GIT_ENV, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

/** A work tree (with `.git`) that tests commit to; `serveAs` makes a bare copy the server serves. */
export class TestRepo {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = dir;
  }

  static create(dir: string, branch = 'main'): TestRepo {
    mkdirSync(dir, { recursive: true });
    git(dir, 'init', '-q', '-b', branch);
    return new TestRepo(dir);
  }

  /** Writes `tree` (on top of what is there), commits everything, returns the commit id. */
  commit(tree: Tree, message = 'change'): string {
    writeTree(this.dir, tree);
    git(this.dir, 'add', '-A');
    git(this.dir, 'commit', '-q', '--allow-empty', '-m', message);
    return git(this.dir, 'rev-parse', 'HEAD');
  }

  remove(path: string): void {
    rmSync(join(this.dir, path), { recursive: true, force: true });
  }

  /** An annotated tag (`message`) or a lightweight one. */
  tag(name: string, message?: string): void {
    if (message === undefined) git(this.dir, 'tag', name);
    else git(this.dir, 'tag', '-a', name, '-m', message);
  }

  /**
   * Adds `sub`'s current commit as a submodule at `path`, fetched by `url` (relative URLs such as
   * `../sub.git` resolve against the URL the superproject is fetched from). Not committed.
   */
  addSubmodule(path: string, sub: TestRepo, url: string): void {
    git(this.dir, '-c', 'protocol.file.allow=always', 'submodule', '--quiet', 'add', sub.dir, path);
    git(this.dir, 'config', '-f', '.gitmodules', `submodule.${path}.url`, url);
  }

  checkout(branch: string, create = false): void {
    git(this.dir, 'checkout', '-q', ...(create ? ['-b'] : []), branch);
  }

  /** Publishes every branch and tag to `bare` (a bare repo the server serves), forced. */
  push(bare: string): void {
    git(this.dir, 'push', '-q', '--force', '--mirror', bare);
  }
}

export interface GitRequest {
  /** `info/refs`, `git-upload-pack`, … */
  path: string;
  /** Protocol v2 commands in the request body: `ls-refs`, `fetch`. */
  commands: string[];
}

export interface GitServer {
  /** `http://127.0.0.1:PORT/NAME.git`: where a bare repo `ROOT/NAME.git` is served. */
  url(name: string): string;
  /** Makes (or refreshes) `ROOT/NAME.git` from a work tree's branches and tags. */
  publish(repo: TestRepo, name: string): void;
  requests: GitRequest[];
  /** How many requests asked for objects (a fetch or clone), as opposed to listing refs. */
  fetches(): number;
  close(): Promise<void>;
}

export async function startGitServer(root: string): Promise<GitServer> {
  mkdirSync(root, { recursive: true });
  const requests: GitRequest[] = [];
  const server = createServer((req, res) => {
    void serve(root, req, res, requests).catch((error: Error) => {
      if (!res.headersSent) res.writeHead(500);
      res.end(error.message);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: (name) => `http://127.0.0.1:${port}/${name}.git`,
    publish(repo, name) {
      const bare = join(root, `${name}.git`);
      mkdirSync(bare, { recursive: true });
      git(bare, 'init', '-q', '--bare');
      repo.push(bare);
      // The default branch a clone (or a URL without #REF) gets: the work tree's current one.
      git(bare, 'symbolic-ref', 'HEAD', git(repo.dir, 'symbolic-ref', 'HEAD'));
    },
    requests,
    fetches: () => requests.filter((r) => r.commands.includes('fetch')).length,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

async function serve(root: string, req: IncomingMessage, res: ServerResponse, requests: GitRequest[]): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const body = Buffer.concat(chunks);
  const url = new URL(req.url ?? '/', 'http://localhost');
  const plain = req.headers['content-encoding'] === 'gzip' ? gunzipSync(body) : body;
  const commands = [...plain.toString('latin1').matchAll(/command=([a-z-]+)/g)].map((m) => m[1]!);
  requests.push({ path: url.pathname.replace(/^.*\.git\//, ''), commands });
  const cgi = spawn('git', ['http-backend'], {
    env: {
      ...GIT_ENV,
      GIT_PROJECT_ROOT: root,
      GIT_HTTP_EXPORT_ALL: '1',
      REQUEST_METHOD: req.method ?? 'GET',
      PATH_INFO: decodeURIComponent(url.pathname),
      QUERY_STRING: url.search.slice(1),
      CONTENT_TYPE: req.headers['content-type'] ?? '',
      CONTENT_LENGTH: String(plain.length),
      REMOTE_ADDR: '127.0.0.1',
      // Protocol v2 is asked for in this header; http-backend reads it from the environment.
      GIT_PROTOCOL: String(req.headers['git-protocol'] ?? ''),
    },
    stdio: ['pipe', 'pipe', 'ignore'],
  });
  // http-backend may answer (an error, a refusal) before it reads the whole request body.
  cgi.stdin.on('error', () => {});
  cgi.stdin.end(plain);
  const output: Buffer[] = [];
  for await (const chunk of cgi.stdout) output.push(chunk as Buffer);
  const all = Buffer.concat(output);
  const split = all.indexOf('\r\n\r\n');
  const headerEnd = split === -1 ? all.indexOf('\n\n') : split;
  const headers = all.subarray(0, headerEnd).toString('latin1').split(/\r?\n/);
  let status = 200;
  for (const line of headers) {
    const [name, ...rest] = line.split(':');
    const value = rest.join(':').trim();
    if (name!.toLowerCase() === 'status') status = Number(value.split(' ')[0]);
    else if (name) res.setHeader(name, value);
  }
  res.writeHead(status);
  res.end(all.subarray(headerEnd + (split === -1 ? 2 : 4)));
}
