import type { IncomingMessage } from 'node:http';

// How the fake Bot API reads requests: the body formats and markup checks of the real one.

export type Params = Record<string, unknown>;

const MAX_BODY_BYTES = 1024 * 1024;

/** Accepts the markup as an object (JSON body) or a JSON string (form bodies), like Telegram does. */
export function parseMarkup(raw: unknown): unknown {
  if (raw === undefined || raw === null || raw === '') return undefined;
  const markup = typeof raw === 'string' ? parseJson(raw) : raw;
  if (typeof markup !== 'object' || markup === null) {
    return new Error("can't parse reply keyboard markup JSON object");
  }
  const rows = (markup as { inline_keyboard?: unknown }).inline_keyboard;
  for (const row of Array.isArray(rows) ? rows : []) {
    for (const button of Array.isArray(row) ? row : []) {
      const webAppUrl = (button as { web_app?: { url?: unknown } } | null)?.web_app?.url;
      if (webAppUrl !== undefined && !String(webAppUrl).startsWith('https://')) {
        return new Error(
          `inline keyboard button Web App URL '${String(webAppUrl)}' is invalid: Only HTTPS links are allowed`,
        );
      }
    }
  }
  return markup;
}

/** Reads the body as Telegram does: JSON, urlencoded or multipart. Returns an Error for bodies it rejects. */
export async function readParams(req: IncomingMessage): Promise<Params | Error> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size <= MAX_BODY_BYTES) chunks.push(chunk); // keep draining so the answer can still be sent
  }
  if (size > MAX_BODY_BYTES) return new Error('request entity too large');
  const raw = Buffer.concat(chunks);
  if (raw.length === 0) return {};
  const type = (req.headers['content-type'] ?? '').toLowerCase();
  if (type.startsWith('application/x-www-form-urlencoded')) {
    return Object.fromEntries(new URLSearchParams(raw.toString('utf8')));
  }
  if (type.startsWith('multipart/form-data')) {
    const boundary = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(req.headers['content-type'] ?? '');
    const value = boundary?.[1] ?? boundary?.[2];
    return value ? parseMultipart(raw, value) : new Error('multipart boundary is missing');
  }
  const parsed = parseJson(raw.toString('utf8'));
  const isObject = typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed);
  return isObject ? (parsed as Params) : new Error("can't parse JSON object");
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Enough multipart for Bot API calls: text fields as strings, files as a name/size summary. */
function parseMultipart(raw: Buffer, boundary: string): Params {
  const fields: Params = {};
  // latin1 maps bytes 1:1, so splitting cannot corrupt multi-byte UTF-8 inside a part.
  for (const section of raw.toString('latin1').split(`--${boundary}`).slice(1)) {
    if (section.startsWith('--')) break;
    const headerEnd = section.indexOf('\r\n\r\n');
    if (headerEnd < 0) continue;
    const headers = section.slice(0, headerEnd);
    const name = /(?:^|;)\s*name="([^"]*)"/im.exec(headers)?.[1];
    if (!name) continue;
    const body = section.slice(headerEnd + 4).replace(/\r\n$/, '');
    const filename = /filename="([^"]*)"/i.exec(headers)?.[1];
    fields[name] =
      filename === undefined ? Buffer.from(body, 'latin1').toString('utf8') : { filename, size: body.length };
  }
  return fields;
}
