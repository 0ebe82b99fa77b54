import type { Browser, Page } from 'playwright-core';
import { launchUrl, miniAppInitData, openInTelegram, type TelegramPage } from './browser.ts';

/** The trainer panel opened from Telegram by an admin, once its first screen (Applications) shows. */
export async function openPanelInTelegram(
  browser: Browser,
  baseUrl: string,
  telegramId: number,
  firstName: string,
): Promise<TelegramPage> {
  const url = launchUrl(baseUrl, '/panel/', {
    initData: miniAppInitData({ id: telegramId, first_name: firstName }),
  });
  const tg = await openInTelegram(browser, url);
  await tg.page.getByRole('heading', { name: 'Applications', level: 2 }).waitFor();
  return tg;
}

/** The panel's sections (tabs on a phone, a sidebar on a desktop). */
export const panelNav = (page: Page) => page.getByRole('navigation', { name: 'Panel sections' });

/** Opens a section the way a person does, and waits for its heading. */
export async function goToSection(page: Page, section: string): Promise<void> {
  await panelNav(page).getByRole('button', { name: section, exact: true }).click();
  await page.getByRole('heading', { name: section, level: 2 }).waitFor();
}
