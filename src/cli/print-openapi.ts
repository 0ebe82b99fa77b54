import { openApi } from '../http/route-table.ts';

/** Prints the OpenAPI document the web process serves at /api/openapi.json (for client generators). */
process.stdout.write(`${JSON.stringify(openApi(), null, 2)}\n`);
