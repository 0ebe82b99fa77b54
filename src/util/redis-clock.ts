/**
 * Lua that sets `now` to Redis's clock in ms (with µs precision), for scripts that share limits
 * across processes: only one clock is read, so the worker machines' clocks never matter.
 */
export const REDIS_NOW_MS = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000`;
