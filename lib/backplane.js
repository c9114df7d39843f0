'use strict';

// The backplane interface: what a Topics hub needs from whatever carries its
// publishes to other processes (and theirs to it). lib/redis-backplane.js is
// the implementation on Redis pub/sub; any object with these members works.
//
//   id: string
//     This instance's id, unique across the processes sharing the backplane.
//     A backplane that hears its own publishes back (Redis does) drops them
//     by this id: the hub has already delivered them locally.
//   start(deliver): Promise<void> | void
//     Called once by the hub. deliver(topic: string, payload: Buffer,
//     binary: boolean) is what the backplane calls for each message another
//     instance published on a topic it was asked to subscribe to.
//   stop(): Promise<void> | void
//     Lets go of connections; deliver is not called afterwards.
//   subscribe(topic): Promise<void> | void
//     The hub has its first local subscriber of `topic`.
//   unsubscribe(topic): Promise<void> | void
//     The hub's last local subscriber of `topic` left.
//   publish(topic, payload: Buffer, binary: boolean): void
//     Send to the other instances. Must not throw or block because the
//     transport is away: the hub has delivered locally already.
//
// A backplane that is an EventEmitter gets the errors of its subscribe and
// unsubscribe promises as 'error' events (when it has a listener).

/** The methods a backplane must have (checked by checkBackplane() in lib/options.js). */
const BACKPLANE_METHODS = Object.freeze(['start', 'stop', 'subscribe', 'unsubscribe', 'publish']);

/**
 * @typedef {object} Backplane
 * @property {string} id
 * @property {(deliver: (topic: string, payload: Buffer, binary: boolean) => void) => Promise<void>|void} start
 * @property {() => Promise<void>|void} stop
 * @property {(topic: string) => Promise<void>|void} subscribe
 * @property {(topic: string) => Promise<void>|void} unsubscribe
 * @property {(topic: string, payload: Buffer, binary: boolean) => void} publish
 */

module.exports = { BACKPLANE_METHODS };
