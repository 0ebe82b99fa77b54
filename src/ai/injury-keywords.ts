import type { BodyArea } from './exercise-library.ts';

const INJURY_PATTERNS: Record<BodyArea, RegExp> = {
  knee: /\bknees?\b|menisc|\bacl\b|patell|(?<!\p{L})колен|мениск/iu,
  lower_back: /\bback\b|spine|spinal|lumbar|\bdiscs?\b|sciatica|hernia|(?<!\p{L})спин|поясниц|позвон|грыж/iu,
  shoulder: /shoulder|rotator|(?<!\p{L})плеч/iu,
  wrist: /wrist|carpal|запяст/iu,
  ankle: /ankle|achilles|голеностоп|лодыж|ахилл/iu,
  neck: /\bneck\b|cervical|(?<!\p{L})ше(?:я|и|ю|е|йн)/iu,
  hip: /\bhips?\b|pelvi|(?<!\p{L})бедр|(?<!\p{L})таз/iu,
};
const NO_INJURY = /^(?:no|none|nope|nothing|n\/?a|нет|ничего|не было|отсутствуют|-+|—)?[.!]?$/iu;

/**
 * Reads the free-text injuries answer (English or Russian). `injured` is true for anything but an
 * empty or "no"-style answer; `areas` lists the body areas it mentions, in a fixed order.
 */
export function findInjuries(text: string | undefined): { injured: boolean; areas: BodyArea[] } {
  const injuryText = text?.trim() ?? '';
  const injured = injuryText !== '' && !NO_INJURY.test(injuryText);
  const areas = (Object.keys(INJURY_PATTERNS) as BodyArea[]).filter(
    (area) => injured && INJURY_PATTERNS[area].test(injuryText),
  );
  return { injured, areas };
}
