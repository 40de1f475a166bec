// Raw loopback sockets for hostile-input tests: bytes no well-behaved client (fetch, ws) would send.
import net from 'node:net';

/** What came back on one raw connection: everything the server wrote, and whether it closed the connection. */
export interface RawOutcome {
  text: string;
  bytes: Buffer;
  closed: boolean;
}

/** A connected raw socket and everything it has received so far. */
export interface RawConnection {
  socket: net.Socket;
  received(): Buffer;
  /** Resolves once the received bytes satisfy `until` (true) or the time runs out (false). */
  waitFor(until: (bytes: Buffer) => boolean, ms: number): Promise<boolean>;
  /** Waits until the server closes (or `ms` passes), then ends the connection. */
  finish(ms: number): Promise<RawOutcome>;
}

/** Opens a raw TCP connection to 127.0.0.1:port. */
export async function rawConnect(port: number): Promise<RawConnection> {
  const socket = net.connect({ host: '127.0.0.1', port });
  let bytes = Buffer.alloc(0);
  let closed = false;
  const listeners = new Set<() => void>();
  const notify = (): void => listeners.forEach((l) => l());
  socket.on('data', (d: Buffer) => {
    bytes = Buffer.concat([bytes, d]);
    notify();
  });
  // A reset is one way for a server to close; it is not a test error.
  socket.on('error', () => undefined);
  socket.on('close', () => {
    closed = true;
    notify();
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const waitFor = (until: (b: Buffer) => boolean, ms: number): Promise<boolean> =>
    new Promise((resolve) => {
      const check = (): void => {
        if (until(bytes) || closed) {
          done(until(bytes));
        }
      };
      const done = (value: boolean): void => {
        clearTimeout(timer);
        listeners.delete(check);
        resolve(value);
      };
      const timer = setTimeout(() => done(false), ms);
      listeners.add(check);
      check();
    });
  return {
    socket,
    received: () => bytes,
    waitFor,
    async finish(ms) {
      await waitFor(() => closed, ms);
      const outcome = { text: bytes.toString('latin1'), bytes, closed };
      socket.destroy();
      return outcome;
    },
  };
}

/** Sends `data` (in pieces, if several) on a fresh connection and returns what the server answered within `ms`. */
export async function rawExchange(port: number, data: Array<string | Buffer> | string | Buffer, ms = 3000): Promise<RawOutcome> {
  const conn = await rawConnect(port);
  for (const piece of Array.isArray(data) ? data : [data]) {
    if (conn.socket.destroyed) {
      break;
    }
    await new Promise<void>((resolve) => conn.socket.write(piece, () => resolve()));
  }
  // Stop as soon as one whole response has arrived (status line, headers, and a body of its Content-Length).
  await conn.waitFor((b) => responseComplete(b.toString('latin1')), ms);
  return conn.finish(200);
}

/** Whether `text` holds a complete HTTP response with a Content-Length body. */
function responseComplete(text: string): boolean {
  const end = text.indexOf('\r\n\r\n');
  if (end < 0) {
    return false;
  }
  const length = /\r\ncontent-length:\s*(\d+)/i.exec(text.slice(0, end))?.[1];
  return length !== undefined && Buffer.byteLength(text.slice(end + 4), 'latin1') >= Number(length);
}

/** The status code of a raw HTTP response, or null when none came. */
export function statusOf(outcome: RawOutcome): number | null {
  const match = /^HTTP\/1\.1 (\d{3})/.exec(outcome.text);
  return match ? Number(match[1]) : null;
}

/** The body of a raw HTTP response (after the blank line). */
export function bodyOf(outcome: RawOutcome): string {
  const end = outcome.text.indexOf('\r\n\r\n');
  return end < 0 ? '' : outcome.text.slice(end + 4);
}

/** A WebSocket opening handshake for `path` with extra header lines. */
export function upgradeRequest(path: string, headers: Record<string, string>): string {
  const lines = [`GET ${path} HTTP/1.1`, 'Upgrade: websocket', 'Connection: Upgrade', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Version: 13'];
  for (const [name, value] of Object.entries(headers)) {
    lines.push(`${name}: ${value}`);
  }
  return lines.join('\r\n') + '\r\n\r\n';
}

export interface FrameOptions {
  fin?: boolean;
  /** Masked as RFC 6455 requires of clients; false sends the payload bare (a protocol error). */
  mask?: boolean;
  /** RSV1-3 bits (must be 0 without extensions). */
  rsv?: number;
  /** Length to announce instead of the payload's own (to claim an oversize message). */
  announcedLength?: number;
}

/** One hand-built WebSocket frame. */
export function wsFrame(opcode: number, payload: Buffer, options: FrameOptions = {}): Buffer {
  const { fin = true, mask = true, rsv = 0 } = options;
  const length = options.announcedLength ?? payload.length;
  const head: number[] = [(fin ? 0x80 : 0) | ((rsv & 7) << 4) | (opcode & 0x0f)];
  const maskBit = mask ? 0x80 : 0;
  if (length < 126) {
    head.push(maskBit | length);
  } else if (length < 65536) {
    head.push(maskBit | 126, length >> 8, length & 0xff);
  } else {
    const big = Buffer.alloc(8);
    big.writeBigUInt64BE(BigInt(length));
    head.push(maskBit | 127, ...big);
  }
  if (!mask) {
    return Buffer.concat([Buffer.from(head), payload]);
  }
  const key = Buffer.from([0x12, 0x34, 0x56, 0x78]);
  const body = Buffer.from(payload.map((b, i) => b ^ key[i % 4]!));
  return Buffer.concat([Buffer.from(head), key, body]);
}
