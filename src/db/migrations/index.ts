import { Migration20261127000000Initial } from './Migration20261127000000Initial.ts';
import { Migration20261127010000Broadcasts } from './Migration20261127010000Broadcasts.ts';
import { Migration20261127020000Panel } from './Migration20261127020000Panel.ts';
import { Migration20261127030000Metrics } from './Migration20261127030000Metrics.ts';
import { Migration20261127040000TestResults } from './Migration20261127040000TestResults.ts';
import { Migration20261201000000OutboxParking } from './Migration20261201000000OutboxParking.ts';
import { Migration20261202000000Billing } from './Migration20261202000000Billing.ts';
import { Migration20261203000000PanelSessions } from './Migration20261203000000PanelSessions.ts';
import { Migration20261204000000Tenants } from './Migration20261204000000Tenants.ts';
import { Migration20261205000000MetricsRanges } from './Migration20261205000000MetricsRanges.ts';

/** Migrations are listed explicitly so they load the same under tsx, tests and a bundler. */
export const migrationsList = [
  { name: 'Migration20261127000000Initial', class: Migration20261127000000Initial },
  { name: 'Migration20261127010000Broadcasts', class: Migration20261127010000Broadcasts },
  { name: 'Migration20261127020000Panel', class: Migration20261127020000Panel },
  { name: 'Migration20261127030000Metrics', class: Migration20261127030000Metrics },
  { name: 'Migration20261127040000TestResults', class: Migration20261127040000TestResults },
  { name: 'Migration20261201000000OutboxParking', class: Migration20261201000000OutboxParking },
  { name: 'Migration20261202000000Billing', class: Migration20261202000000Billing },
  { name: 'Migration20261203000000PanelSessions', class: Migration20261203000000PanelSessions },
  { name: 'Migration20261204000000Tenants', class: Migration20261204000000Tenants },
  { name: 'Migration20261205000000MetricsRanges', class: Migration20261205000000MetricsRanges },
];
