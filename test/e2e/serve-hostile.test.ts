// Hostile input against a real `convnet serve` process: malformed upgrades, headers, cookies, WebSocket frames
// and bodies sent on raw loopback sockets. After every one the process must be alive and answer a valid request,
// and every bad HTTP request must get a 4xx with a message.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bodyOf, rawConnect, rawExchange, statusOf, upgradeRequest, wsFrame, type RawOutcome } from '../helpers/raw-http.js';
import { startServe, type ServeProcess } from '../helpers/serve.js';
import { tempDir } from '../helpers/temp.js';

let serve: ServeProcess;
let cleanup: () => void;

beforeAll(async () => {
  const t = tempDir();
  cleanup = t.cleanup;
  serve = await startServe(t.dir);
});

afterAll(async () => {
  await serve?.stop();
  cleanup?.();
});

const host = (): string => `127.0.0.1:${serve.port}`;

/** The process is running and answers a valid, authorised request. */
async function expectAlive(label: string): Promise<void> {
  expect(serve.child.exitCode, `${label}: the server process exited`).toBeNull();
  expect(serve.child.signalCode, `${label}: the server process was killed`).toBeNull();
  const res = await fetch(`${serve.origin}/api/app.ping`, { method: 'POST', headers: { Authorization: `Bearer ${serve.token}` } });
  expect(res.status, `${label}: ping after it`).toBe(200);
}

/** A 4xx status line and a non-empty human message in the body. */
function expect4xx(label: string, outcome: RawOutcome, status?: number): void {
  const got = statusOf(outcome);
  expect(got, `${label}: status (got ${JSON.stringify(outcome.text.slice(0, 120))})`).not.toBeNull();
  if (status !== undefined) {
    expect(got, `${label}: status`).toBe(status);
  } else {
    expect(got! >= 400 && got! < 500, `${label}: ${got} is not a 4xx`).toBe(true);
  }
  expect(bodyOf(outcome).trim().length, `${label}: the ${got} carries no message`).toBeGreaterThan(5);
}

describe('convnet serve under hostile input', () => {
  it('answers malformed WebSocket upgrades with a 4xx and a message, and stays up', async () => {
    const cases: Array<[string, string, number?]> = [
      ['Origin: null (sandboxed iframe, file: page)', upgradeRequest(`/ws?token=${serve.token}`, { Host: host(), Origin: 'null' }), 403],
      ['a foreign Origin', upgradeRequest(`/ws?token=${serve.token}`, { Host: host(), Origin: 'http://evil.example' }), 403],
      ['an Origin that is not a URL', upgradeRequest(`/ws?token=${serve.token}`, { Host: host(), Origin: 'http://[' }), 403],
      ['Host: [', upgradeRequest(`/ws?token=${serve.token}`, { Host: '[' }), 421],
      ['a foreign Host', upgradeRequest(`/ws?token=${serve.token}`, { Host: 'evil.example' }), 421],
      ['a malformed token cookie', upgradeRequest('/ws', { Host: host(), Cookie: 'convnet_token=%E0%A4%A' }), 401],
      ['a malformed per-port cookie', upgradeRequest('/ws', { Host: host(), Cookie: `convnet_token_${serve.port}=%E0%A4%A` }), 401],
      ['no token', upgradeRequest('/ws', { Host: host() }), 401],
      ['a malformed query', upgradeRequest('/ws?token=%ZZ&%E0', { Host: host() }), 401],
      ['another path', upgradeRequest(`/elsewhere?token=${serve.token}`, { Host: host() }), 404],
      ['an unknown WebSocket version', upgradeRequest(`/ws?token=${serve.token}`, { Host: host() }).replace('Version: 13', 'Version: 99')],
      ['a malformed subprotocol list', upgradeRequest(`/ws?token=${serve.token}`, { Host: host(), 'Sec-WebSocket-Protocol': 'a,,b c' })],
      ['no key', upgradeRequest(`/ws?token=${serve.token}`, { Host: host() }).replace(/Sec-WebSocket-Key: .*\r\n/, '')],
    ];
    for (const [label, request, status] of cases) {
      expect4xx(label, await rawExchange(serve.port, request), status);
      await expectAlive(label);
    }
  });

  it('closes a WebSocket that sends bad frames with a close code, and stays up', async () => {
    const big = Buffer.alloc(1024, 0x61);
    const cases: Array<[string, Buffer, number]> = [
      ['a message over the size limit', wsFrame(0x1, big, { announcedLength: 8 * 1024 * 1024 }), 1009],
      ['a text frame with invalid UTF-8', wsFrame(0x1, Buffer.from([0x7b, 0xff, 0xfe, 0xc3, 0x28, 0x7d])), 1007],
      ['a reserved opcode', wsFrame(0x3, Buffer.from('hi')), 1002],
      ['an unmasked frame', wsFrame(0x1, Buffer.from('{"id":1}'), { mask: false }), 1002],
      ['reserved bits set', wsFrame(0x1, Buffer.from('{}'), { rsv: 4 }), 1002],
      ['a fragmented ping', wsFrame(0x9, Buffer.from('x'), { fin: false }), 1002],
      ['a continuation with nothing to continue', wsFrame(0x0, Buffer.from('x')), 1002],
      ['a close frame with an invalid code', wsFrame(0x8, Buffer.from([0x03, 0xe7])), 1002],
    ];
    for (const [label, frame, code] of cases) {
      const conn = await rawConnect(serve.port);
      conn.socket.write(upgradeRequest(`/ws?token=${serve.token}`, { Host: host(), Origin: serve.origin }));
      expect(await conn.waitFor((b) => b.includes('\r\n\r\n'), 5000), `${label}: handshake`).toBe(true);
      expect(conn.received().toString('latin1'), label).toMatch(/^HTTP\/1\.1 101/);
      const start = conn.received().indexOf('\r\n\r\n') + 4;
      conn.socket.write(frame);
      const outcome = await conn.finish(5000);
      expect(outcome.closed, `${label}: the server closed the connection`).toBe(true);
      // The last frame the server sent is a close frame (opcode 8) with the protocol's code for the fault.
      const frames = outcome.bytes.subarray(start);
      const close = frames.lastIndexOf(0x88);
      expect(close, `${label}: a close frame`).toBeGreaterThanOrEqual(0);
      expect(frames.readUInt16BE(close + 2), `${label}: close code`).toBe(code);
      await expectAlive(label);
    }
  });

  it('answers malformed HTTP requests, headers and cookies with a 4xx and a message', async () => {
    const bearer = `Authorization: Bearer ${serve.token}`;
    const cases: Array<[string, string, number?]> = [
      ['a malformed token cookie', `GET / HTTP/1.1\r\nHost: ${host()}\r\nCookie: convnet_token=%E0%A4%A\r\n\r\n`, 401],
      ['a malformed per-port cookie', `GET / HTTP/1.1\r\nHost: ${host()}\r\nCookie: convnet_token_${serve.port}=%E0%A4%A\r\n\r\n`, 401],
      ['Host: [', `GET / HTTP/1.1\r\nHost: [\r\n\r\n`, 421],
      ['no Host', `GET / HTTP/1.1\r\n\r\n`],
      ['a garbage request line', 'HELLO THERE\r\n\r\n'],
      ['an unknown method', `BREW /pot HTTP/1.1\r\nHost: ${host()}\r\n\r\n`],
      ['a method the app does not use', `PROPFIND /api/app.ping HTTP/1.1\r\nHost: ${host()}\r\n${bearer}\r\n\r\n`, 405],
      ['a control character in a header', `GET / HTTP/1.1\r\nHost: ${host()}\r\nX-Odd: a\u0001b\r\n\r\n`],
      ['headers over the size limit', `GET / HTTP/1.1\r\nHost: ${host()}\r\nX-Big: ${'x'.repeat(64 * 1024)}\r\n\r\n`, 431],
      ['Content-Length and chunked together', `POST /api/app.ping HTTP/1.1\r\nHost: ${host()}\r\n${bearer}\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`],
      ['a bad chunk size', `POST /api/app.ping HTTP/1.1\r\nHost: ${host()}\r\n${bearer}\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n`],
      ['invalid JSON', `POST /api/app.ping HTTP/1.1\r\nHost: ${host()}\r\n${bearer}\r\nContent-Length: 5\r\n\r\n{nope`, 400],
      ['a malformed escape in the method name', `POST /api/%E0%A4%A HTTP/1.1\r\nHost: ${host()}\r\n${bearer}\r\nContent-Length: 2\r\n\r\n{}`],
      ['a malformed escape in a media path', `GET /media/thumb/%E0%A4%A HTTP/1.1\r\nHost: ${host()}\r\n${bearer}\r\n\r\n`],
      ['a malformed escape in a page path', `GET /%E0%A4%A HTTP/1.1\r\nHost: ${host()}\r\n${bearer}\r\n\r\n`],
    ];
    for (const [label, request, status] of cases) {
      expect4xx(label, await rawExchange(serve.port, request), status);
      await expectAlive(label);
    }
  });

  it('answers a 10 MB body with 413 and its message, declared or chunked', async () => {
    const body = Buffer.alloc(10 * 1024 * 1024, 0x20);
    const res = await fetch(`${serve.origin}/api/app.ping`, { method: 'POST', headers: { Authorization: `Bearer ${serve.token}` }, body });
    expect(res.status).toBe(413);
    expect((await res.json()).error.message).toMatch(/over 1048576 bytes/);
    await expectAlive('a 10 MB body');

    const head = `POST /api/app.ping HTTP/1.1\r\nHost: ${host()}\r\nAuthorization: Bearer ${serve.token}\r\nTransfer-Encoding: chunked\r\n\r\n`;
    const chunk = Buffer.concat([Buffer.from(`${(512 * 1024).toString(16)}\r\n`), Buffer.alloc(512 * 1024, 0x20), Buffer.from('\r\n')]);
    const chunked = await rawExchange(serve.port, [head, ...Array.from({ length: 20 }, () => chunk), '0\r\n\r\n']);
    expect4xx('a 10 MB chunked body', chunked, 413);
    await expectAlive('a 10 MB chunked body');
  });

  it('survives clients that reset the connection mid-body and mid-upgrade', async () => {
    for (let i = 0; i < 20; i++) {
      const body = await rawConnect(serve.port);
      body.socket.write(`POST /api/app.ping HTTP/1.1\r\nHost: ${host()}\r\nAuthorization: Bearer ${serve.token}\r\nContent-Length: 100\r\n\r\n{"a":`);
      body.socket.resetAndDestroy();
      // A refused upgrade answered into a connection the client has already reset.
      const refused = await rawConnect(serve.port);
      refused.socket.write(upgradeRequest('/ws', { Host: host(), Origin: 'http://evil.example' }));
      refused.socket.resetAndDestroy();
      const accepted = await rawConnect(serve.port);
      accepted.socket.write(upgradeRequest(`/ws?token=${serve.token}`, { Host: host() }));
      accepted.socket.resetAndDestroy();
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
    await expectAlive('connections reset mid-request');
  });
});
