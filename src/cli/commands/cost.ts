import { parseArgs } from 'node:util';
import { BUNDLED_PRICES, costLine, costReport, ec2Region, Prices, usd } from '../../engine/cost.js';
import { reconcile } from '../../engine/reconcile.js';
import type { Command } from '../command.js';
import { openEngine } from '../context.js';
import { print, printJson } from '../io.js';

export const costCommand: Command = {
  name: 'cost',
  usage: 'pcc cost [--json]',
  summary: 'what the hosts cost per provider: hourly prices, cost since start, storage per month',
  details:
    'Prices come from a bundled, dated table (AWS on-demand, us-east-1) or EC2_PRICES in config/project.env;\n' +
    'the source and date of each are shown. Spot hosts are billed at most the on-demand price shown.',
  async run(args, io) {
    const { values } = parseArgs({ args, options: { json: { type: 'boolean', default: false }, project: { type: 'string' } } });
    const engine = openEngine(io, values.project);
    const hosts = await reconcile(engine);
    const now = Date.now();
    const region = ec2Region(engine.config);
    const providers = costReport(new Prices(engine.config), hosts, region, now);
    if (values.json) {
      printJson(io, { currency: 'USD', at: new Date(now).toISOString(), region: region ?? null, bundledTable: { source: BUNDLED_PRICES.source, date: BUNDLED_PRICES.date }, providers });
      return 0;
    }
    if (providers.length === 0) print(io.stdout, 'no hosts — nothing costs anything');
    for (const entry of providers) {
      const billed = entry.hosts.filter((host) => host.cost);
      if (billed.length === 0) {
        print(io.stdout, `${entry.provider}: ${entry.hosts.length} host${entry.hosts.length === 1 ? '' : 's'} on this machine: no charge`);
        continue;
      }
      print(io.stdout, `${entry.provider}: running ${usd(entry.runningPerHour)}/h (${usd(entry.sinceStart)} since they started) · storage ${usd(entry.storagePerMonth)}/month`);
      for (const host of billed) {
        if (!host.cost) continue;
        const source = host.cost.instanceSource ?? host.cost.storageSource;
        const storage = host.cost.runningSince === undefined ? '' : ` · ${usd(host.cost.storagePerMonth)}/mo disk`;
        print(io.stdout, `  ${host.name}  ${host.instanceType ?? '-'}  ${host.state}  ${costLine(host.cost, now)}${storage}  (${source.source}${source.date ? `, ${source.date}` : ''})`);
        for (const note of host.cost.notes) print(io.stdout, `    ${note}`);
      }
      if (entry.unpriced.length > 0) print(io.stdout, `  not in the totals (no price): ${entry.unpriced.join(', ')}`);
    }
    return 0;
  },
};
