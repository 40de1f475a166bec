import { EventEmitter } from 'node:events';
import type { EventName, EventPayload } from './contract.js';

/** A listener that receives every event with its name, as hosts forward them. */
export type AnyEventListener = (event: EventName, payload: unknown) => void;

/** Typed event bus: services emit contract events; hosts subscribe and forward. */
export class EventBus {
  private readonly emitter = new EventEmitter();

  constructor() {
    this.emitter.setMaxListeners(100);
  }

  /** Sends one event to every subscriber. */
  emit<E extends EventName>(event: E, payload: EventPayload<E>): void {
    this.emitter.emit('event', event, payload);
  }

  /** Subscribes to every event; returns the unsubscribe function. */
  onAny(listener: AnyEventListener): () => void {
    this.emitter.on('event', listener);
    return () => this.emitter.off('event', listener);
  }

  /** Subscribes to one event; returns the unsubscribe function. */
  on<E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void): () => void {
    const wrapped: AnyEventListener = (name, payload) => {
      if (name === event) {
        listener(payload as EventPayload<E>);
      }
    };
    return this.onAny(wrapped);
  }
}
