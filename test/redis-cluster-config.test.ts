import test from 'ava';
import { loadConfig } from '../src/config/env.ts';
import { queuePrefixOf } from '../src/queue/queues.ts';

// Cluster mode's configuration; test/redis-cluster.test.ts runs the system on a real cluster.
test('REDIS_CLUSTER_NODES: host:port seeds, or URLs carrying the password and TLS', (t) => {
  const plain = loadConfig({ REDIS_CLUSTER_NODES: ' 10.0.0.1:6379, 10.0.0.2:6380 ' }).redis;
  t.deepEqual(plain.cluster, {
    kind: 'cluster',
    nodes: [
      { host: '10.0.0.1', port: 6379 },
      { host: '10.0.0.2', port: 6380 },
    ],
    username: undefined,
    password: undefined,
    tls: false,
  });
  t.is(plain.url, undefined);
  const managed = loadConfig({
    REDIS_CLUSTER_NODES: 'rediss://app:s%40cret@cache-1.example:6379,cache-2.example:6379',
  }).redis.cluster;
  t.like(managed, { username: 'app', password: 's@cret', tls: true });
  t.is(managed?.nodes[1]?.host, 'cache-2.example');
  t.is(loadConfig({}).redis.cluster, undefined, 'single-node by default');
});

test('REDIS_CLUSTER_NODES: a bad entry, or both REDIS_URL and the cluster, stop the boot naming it', (t) => {
  t.throws(() => loadConfig({ REDIS_CLUSTER_NODES: '10.0.0.1' }), {
    message: /^Invalid REDIS_CLUSTER_NODES: /,
  });
  t.throws(() => loadConfig({ REDIS_CLUSTER_NODES: 'http://10.0.0.1:80' }), {
    message: /^Invalid REDIS_CLUSTER_NODES: /,
  });
  t.throws(() => loadConfig({ REDIS_URL: 'redis://127.0.0.1:6379', REDIS_CLUSTER_NODES: '127.0.0.1:7000' }), {
    message: 'Invalid REDIS_CLUSTER_NODES: set either REDIS_URL or REDIS_CLUSTER_NODES, not both',
  });
});

test('single-node deployments keep their queue keys; a cluster gets a hash tag per queue', (t) => {
  const single = loadConfig({ QUEUE_PREFIX: 'coach' }).redis;
  t.is(queuePrefixOf(single, 'plans'), 'coach');
  const cluster = loadConfig({ QUEUE_PREFIX: 'coach', REDIS_CLUSTER_NODES: '127.0.0.1:7000' }).redis;
  t.is(queuePrefixOf(cluster, 'plans'), '{coach:plans}');
  t.is(queuePrefixOf(cluster, 'notifications'), '{coach:notifications}');
});
