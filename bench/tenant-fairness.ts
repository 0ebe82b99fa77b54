import { Broadcast } from '../src/db/entities/index.ts';
import { DEFAULT_TENANT_ID, forkForTenant } from '../src/db/orm.ts';
import type { FakeSentMessage } from '../src/dev/fake-telegram-bot-api.ts';
import { createBroadcast } from '../src/domain/broadcasts.ts';
import { submitSurvey } from '../src/domain/surveys.ts';
import { validAnswers } from '../test/helpers/init-data.ts';
import { seedUsers } from '../test/helpers/seed.ts';
import { startTestSystem, type TestSystem } from '../test/helpers/test-system.ts';

const BROADCAST_TEXT = 'The gym is closed on Monday; a home workout is in the app.';

/** The most arrivals at one bot's fake within any 1-second window. */
function peakPerSecond(messages: FakeSentMessage[]): number {
  const times = messages.map((m) => m.at).sort((a, b) => a - b);
  let peak = 0;
  for (let start = 0, end = 0; end < times.length; end++) {
    while (times[end]! - times[start]! >= 1000) start++;
    peak = Math.max(peak, end - start + 1);
  }
  return peak;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

async function until<T>(what: string, probe: () => Promise<T | undefined | false> | T | undefined | false) {
  const deadline = Date.now() + 180_000;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * Two coaches on one deployment, each with its own bot on the fake fleet (Telegram's real limits:
 * 30/s per bot, 1/s per chat, 429 beyond). Coach A broadcasts to N clients (default 1,000); while
 * A's bot works through it, a client of coach B submits a survey. Measures B's plan-message delay
 * (survey accepted → message received by B's fake) during A's broadcast against the same delay
 * with no broadcast (baseline), interleaved over `rounds`, plus each bot's peak rate in any 1 s
 * window and its 429s.
 *
 *   npm run bench -- fairness [recipients] [rounds]
 */
export async function tenantFairness(recipients = 1_000, rounds = 3): Promise<Record<string, number>> {
  const system = await startTestSystem({
    tenants: [{ slug: 'b' }],
    env: { LOG_LEVEL: 'warn' },
  });
  try {
    const b = system.tenants.b!;
    const em = system.em();
    const [owner] = await seedUsers(em, [9_000_000_000], { role: 'owner' });
    for (let start = 0; start < recipients; start += 1000) {
      const ids = Array.from(
        { length: Math.min(1000, recipients - start) },
        (_, i) => 9_000_000_001 + start + i,
      );
      await seedUsers(system.em(), ids, { isClient: true });
    }
    let nextClient = 9_100_000_001;
    const baseline: number[] = [];
    const during: number[] = [];
    const sentByA = () => system.telegram.sentMessages.filter((m) => m.text === BROADCAST_TEXT).length;

    for (let round = 0; round < rounds; round++) {
      baseline.push(await planMessageDelay(system, b.id, nextClient++));

      const before = sentByA();
      const broadcast = await createBroadcast(system.em(), {
        tenantId: DEFAULT_TENANT_ID,
        actorId: owner!.id,
        text: BROADCAST_TEXT,
        segment: 'clients',
      });
      // A's bot is busy and every recipient's job is queued before B's client submits.
      await until('the broadcast is sending', async () => {
        const row = await system.em().findOne(Broadcast, { id: broadcast.id }, { refresh: true });
        return row?.status === 'sending' && sentByA() - before >= Math.min(50, recipients / 2);
      });
      during.push(await planMessageDelay(system, b.id, nextClient++));
      const sentWhenB = sentByA() - before;
      process.stderr.write(
        `  round ${round + 1}: baseline ${baseline.at(-1)} ms, during A's broadcast ${during.at(-1)} ms (A had sent ${sentWhenB}/${recipients})\n`,
      );
      await until('the broadcast is delivered', () => sentByA() - before === recipients);
    }

    const extra = during.map((value, index) => value - baseline[index]!);
    return {
      recipients,
      rounds,
      baselineMedianMs: median(baseline),
      duringBroadcastMedianMs: median(during),
      extraMedianMs: median(extra),
      extraMaxMs: Math.max(...extra),
      extraLimitMs: 2_000,
      peakPerSecondBotA: peakPerSecond(system.telegram.sentMessages),
      peakPerSecondBotB: peakPerSecond(b.telegram.sentMessages),
      ceilingPerSecond: 30,
      rateLimited429BotA: system.telegram.rateLimitHits,
      rateLimited429BotB: b.telegram.rateLimitHits,
    };
  } finally {
    await system.stop();
  }
}

/** A new client of `tenantId` submits a survey; ms from the accepted survey to its plan message. */
async function planMessageDelay(system: TestSystem, tenantId: string, telegramId: number): Promise<number> {
  const fake = system.tenants.b!.telegram;
  const em = forkForTenant(system.orm, tenantId);
  const [user] = await seedUsers(em, [telegramId], { tenantId });
  await submitSurvey(em, { tenantId, userId: user!.id, answers: validAnswers, plansPerDay: 10 });
  const accepted = Date.now();
  const message = await until('the plan message', () =>
    fake.sentMessages.find((m) => m.chatId === String(telegramId)),
  );
  return message.at - accepted;
}
