import type { Config } from '../config/env.ts';
import { createOfflinePlanProvider } from './offline-plan-generator.ts';
import { createOpenAiPlanProvider } from './openai-plan-provider.ts';
import type { PlanProvider } from './plan-provider.ts';

export function createPlanProvider(config: Config['ai']): PlanProvider {
  if (config.provider === 'openai') {
    return createOpenAiPlanProvider({
      apiKey: config.apiKey!,
      ...(config.baseUrl ? { baseUrl: config.baseUrl } : {}),
      model: config.model,
      timeoutMs: config.timeoutMs,
    });
  }
  return createOfflinePlanProvider();
}
