/** Helpers for end-to-end tests: certificates, CLI runs, waiting on conditions. */
import { execFileSync, spawn, type ChildProcess, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const CLI = join(import.meta.dirname, '../../dist/surfaces/cli/main.js');

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `gridgate-${prefix}-`));
}

export interface Pki {
  readonly dir: string;
  readonly ca: string;
  readonly serverCert: string;
  readonly serverKey: string;
  readonly clientCert: string;
  readonly clientKey: string;
  /** A second, unrelated CA and a client certificate it signed. */
  readonly otherCa: string;
  readonly strangerCert: string;
  readonly strangerKey: string;
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
}

function issue(dir: string, name: string, ca: string, cn: string, ext: string): void {
  openssl(dir, ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`]);
  writeFileSync(join(dir, `${name}.ext`), ext);
  openssl(dir, [
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    `${ca}.pem`,
    '-CAkey',
    `${ca}.key`,
    '-CAcreateserial',
    '-out',
    `${name}.pem`,
    '-days',
    '2',
    '-extfile',
    `${name}.ext`,
  ]);
}

/** A throw-away PKI made with openssl: a CA, a server for 127.0.0.1 and a client, plus a stranger. */
export function makePki(): Pki {
  const dir = tempDir('pki');
  for (const ca of ['ca', 'other']) {
    openssl(dir, [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      `${ca}.key`,
      '-out',
      `${ca}.pem`,
      '-days',
      '2',
      '-subj',
      `/CN=gridgate test ${ca}`,
    ]);
  }
  issue(dir, 'server', 'ca', 'rtu.test', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  issue(dir, 'client', 'ca', 'scada-master', 'extendedKeyUsage=clientAuth\n');
  issue(dir, 'stranger', 'other', 'stranger', 'extendedKeyUsage=clientAuth\n');
  const p = (f: string): string => join(dir, f);
  return {
    dir,
    ca: p('ca.pem'),
    serverCert: p('server.pem'),
    serverKey: p('server.key'),
    clientCert: p('client.pem'),
    clientKey: p('client.key'),
    otherCa: p('other.pem'),
    strangerCert: p('stranger.pem'),
    strangerKey: p('stranger.key'),
  };
}

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the built CLI to completion. */
export function runCli(args: readonly string[], timeoutMs = 20_000): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, GRIDGATE_LOG_LEVEL: 'warn' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`gridgate ${args.join(' ')} did not finish in ${timeoutMs} ms\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Starts a long-running CLI command and resolves with the first stdout line matching `ready`. */
export function startCli(
  args: readonly string[],
  ready: RegExp,
): Promise<{ child: ChildProcessWithoutNullStreams; line: string; output: () => string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args]);
    let out = '';
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => ready.test(l));
      if (line !== undefined) resolve({ child, line, output: () => out });
    });
    child.on('close', (code) => reject(new Error(`gridgate ${args.join(' ')} exited with ${String(code)} before ready:\n${out}\n${err}`)));
  });
}

/** The JSON objects a CLI printed one a line (`--json`); a line that is not JSON fails the test. */
export function jsonLines(out: string): Record<string, unknown>[] {
  return out
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** Resolves when `check` returns true, polling every 10 ms; rejects after `timeoutMs`. */
export async function until(check: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * Starts `socat` with two linked ptys (a serial line) and returns their paths; `cleanups` gets
 * what stops it (waiting for it to exit).
 */
export async function ptyPair(cleanups: (() => Promise<void> | void)[]): Promise<[string, string]> {
  const child: ChildProcess = spawn('socat', ['-d', '-d', 'pty,raw,echo=0', 'pty,raw,echo=0'], { stdio: ['ignore', 'ignore', 'pipe'] });
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  );
  let err = '';
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  await until(() => /starting data transfer loop/.test(err), 5000, 'socat pty pair');
  const paths = [...err.matchAll(/PTY is (\S+)/g)].map((x) => x[1]!);
  if (paths.length !== 2) throw new Error(`socat gave ${paths.length} ptys: ${err}`);
  return [paths[0]!, paths[1]!];
}
