import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { FakeSentMessage } from '../../src/dev/fake-telegram-bot-api.ts';
import { TEST_BOT_TOKEN } from './init-data.ts';

export interface FakeTelegramProcess {
  apiRoot: string;
  state(): Promise<{ rateLimitHits: number; sentMessages: FakeSentMessage[] }>;
  stop(): Promise<void>;
}

/** Starts test/fakes/fake-telegram-process.ts and waits for its address line. */
export async function startFakeTelegramProcess(): Promise<FakeTelegramProcess> {
  const child = spawn('node_modules/.bin/node', ['--import', 'tsx', 'test/fakes/fake-telegram-process.ts'], {
    env: { ...process.env, FAKE_TOKEN: TEST_BOT_TOKEN },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const firstLine = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`fake Bot API process exited with ${code}`)));
  });
  const { apiRoot, controlUrl } = JSON.parse(firstLine) as { apiRoot: string; controlUrl: string };
  return {
    apiRoot,
    async state() {
      return (await fetch(`${controlUrl}/state`)).json();
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(killer);
    },
  };
}
