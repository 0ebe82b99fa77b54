import type { Redis } from 'ioredis';

/** Events the trainer panel receives live (DESIGN.md, "Panel WebSocket"). */
export type LiveEvent =
  | {
      type: 'application.created';
      applicationId: string;
      userId: string;
      telegramId: string;
      createdAt: string;
    }
  | {
      type: 'plan.status';
      planId: string;
      userId: string;
      status: 'queued' | 'generating' | 'ready' | 'failed';
    }
  | { type: 'client.added'; userId: string; telegramId: string }
  | { type: 'client.removed'; userId: string; telegramId: string }
  /**
   * Internal, never forwarded to panels: a user's role changed, so every web instance closes their
   * open panel sockets (they may reconnect, and are admitted only if they still have a role).
   */
  | { type: 'access.changed'; userId: string }
  /** Internal, never forwarded: a panel session was logged out, so sockets it opened close. */
  | { type: 'session.ended'; sessionHash: string }
  | {
      type: 'broadcast.progress';
      broadcastId: string;
      total: number;
      sent: number;
      failed: number;
      pending: number;
    };

export interface LiveEventPublisher {
  /** Fire and forget: a live update is a convenience, never a reason to fail the action. */
  publish(tenantId: string, event: LiveEvent): void;
}

/** A publisher that can also rate-limit an event stream across every process (Redis SET NX PX). */
export interface ThrottledLiveEvents extends LiveEventPublisher {
  /** True for the first caller per key within `ms`, across every worker process. */
  throttle(key: string, ms: number): Promise<boolean>;
}

export function liveEventsChannel(prefix: string, tenantId: string): string {
  return `${prefix}:live:${tenantId}`;
}

/** Publishes through Redis pub/sub so every web instance can deliver to its own sockets. */
export function createLiveEventPublisher(redis: Redis, prefix: string): LiveEventPublisher {
  return {
    publish(tenantId, event) {
      redis.publish(liveEventsChannel(prefix, tenantId), JSON.stringify(event)).catch(() => {});
    },
  };
}

/** For processes or tests that have nowhere to publish. */
export const noLiveEvents: LiveEventPublisher = { publish() {} };
