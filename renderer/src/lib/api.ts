// The one client the UI talks to. It uses the preload's IPC functions under Electron and a
// WebSocket to the loopback server in a browser; no component knows which.
import type { EventName, EventPayload, Input, MethodName, Output } from '../../../src/api/contract';
import type { ApiErrorBody, Reply } from '../../../src/api/errors';

/** What the Electron preload exposes on `window.convnet`. */
export interface PreloadBridge {
  api: Record<string, (input: unknown) => Promise<Reply>>;
  onEvent(listener: (event: string, payload: unknown) => void): () => void;
  /** Absolute paths of dropped files or folders (desktop only). */
  pathsForFiles?(files: File[]): string[];
  /** The system picker for folders or files (desktop only). */
  pickPaths?(kind: 'folders' | 'files'): Promise<string[]>;
}

declare global {
  interface Window {
    convnet?: PreloadBridge;
  }
}

/** A failed request, with the contract's error code and the message meant for the user. */
export class ApiCallError extends Error {
  readonly code: ApiErrorBody['code'];
  readonly details: unknown;
  constructor(body: ApiErrorBody) {
    super(body.message);
    this.code = body.code;
    this.details = body.details;
  }
}

interface Transport {
  readonly kind: 'ipc' | 'websocket';
  invoke(method: string, input: unknown): Promise<Reply>;
  onEvent(listener: (event: string, payload: unknown) => void): () => void;
  /** Called when a lost connection is back: events sent meanwhile were missed. */
  onReconnect(listener: () => void): () => void;
}

function ipcTransport(bridge: PreloadBridge): Transport {
  return {
    kind: 'ipc',
    invoke: (method, input) => {
      const fn = bridge.api[method];
      return fn ? fn(input) : Promise.resolve({ ok: false, error: { code: 'unknown_method', message: `Unknown method "${method}".` } });
    },
    onEvent: (listener) => bridge.onEvent(listener),
    // IPC has no connection to lose.
    onReconnect: () => () => undefined,
  };
}

function websocketTransport(): Transport {
  const listeners = new Set<(event: string, payload: unknown) => void>();
  const reconnectListeners = new Set<() => void>();
  let everOpen = false;
  const pending = new Map<number, (reply: Reply) => void>();
  let nextId = 1;
  let socket: WebSocket | null = null;
  let opening: Promise<WebSocket> | null = null;
  let retryMs = 250;

  // The token arrives once in the URL; keep it for reconnects, then tidy the address bar.
  const params = new URLSearchParams(location.search);
  const token = params.get('token') ?? sessionStorage.getItem('convnet.token') ?? '';
  if (params.has('token')) {
    sessionStorage.setItem('convnet.token', token);
    params.delete('token');
    const rest = params.toString();
    history.replaceState(null, '', location.pathname + (rest ? `?${rest}` : '') + location.hash);
  }

  function open(): Promise<WebSocket> {
    if (socket && socket.readyState === WebSocket.OPEN) {
      return Promise.resolve(socket);
    }
    opening ??= new Promise<WebSocket>((resolve, reject) => {
      const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
      const ws = new WebSocket(`${scheme}://${location.host}/ws?token=${encodeURIComponent(token)}`);
      ws.onopen = () => {
        socket = ws;
        opening = null;
        retryMs = 250;
        resolve(ws);
        if (everOpen) {
          reconnectListeners.forEach((l) => l());
        }
        everOpen = true;
      };
      ws.onerror = () => {
        opening = null;
        reject(new Error('Cannot reach the ConvNet Studio server.'));
      };
      ws.onclose = () => {
        socket = null;
        for (const [id, done] of pending) {
          pending.delete(id);
          done({ ok: false, error: { code: 'unavailable', message: 'The connection to the server closed.' } });
        }
        if (listeners.size > 0) {
          setTimeout(() => void open().catch(() => undefined), (retryMs = Math.min(retryMs * 2, 5000)));
        }
      };
      ws.onmessage = (message) => {
        const data = JSON.parse(String(message.data)) as
          | { type: 'reply'; id: number; reply: Reply }
          | { type: 'event'; event: string; payload: unknown };
        if (data.type === 'reply') {
          pending.get(data.id)?.(data.reply);
          pending.delete(data.id);
        } else {
          for (const listener of listeners) {
            listener(data.event, data.payload);
          }
        }
      };
    });
    return opening;
  }

  return {
    kind: 'websocket',
    async invoke(method, input) {
      const ws = await open();
      const id = nextId++;
      return new Promise<Reply>((resolve) => {
        pending.set(id, resolve);
        ws.send(JSON.stringify({ id, method, input }));
      });
    },
    onEvent(listener) {
      listeners.add(listener);
      void open().catch(() => undefined);
      return () => listeners.delete(listener);
    },
    onReconnect(listener) {
      reconnectListeners.add(listener);
      return () => reconnectListeners.delete(listener);
    },
  };
}

const transport: Transport = window.convnet ? ipcTransport(window.convnet) : websocketTransport();

/** Which host the UI is talking to: `ipc` under Electron, `websocket` in browser mode. */
export const transportKind = transport.kind;

/** Calls one contract method; rejects with ApiCallError carrying the user-facing message. */
export async function call<M extends MethodName>(method: M, ...input: undefined extends Input<M> ? [Input<M>?] : [Input<M>]): Promise<Output<M>> {
  const reply = await transport.invoke(method, input[0] ?? {});
  if (!reply.ok) {
    throw new ApiCallError(reply.error);
  }
  return reply.result as Output<M>;
}

/** Subscribes to one contract event; returns the unsubscribe function. */
export function on<E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void): () => void {
  return transport.onEvent((name, payload) => {
    if (name === event) {
      listener(payload as EventPayload<E>);
    }
  });
}

/** Subscribes to the connection coming back after a loss (browser mode); returns the unsubscribe function. */
export function onReconnect(listener: () => void): () => void {
  return transport.onReconnect(listener);
}

/** URL of a media route (image bytes by id); same-origin in both hosts, so the path is enough. */
export function mediaUrl(path: string): string {
  return path;
}
