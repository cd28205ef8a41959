// `g2p-bridge mapper`: the example ID-account mapper alone, on its own port and database.
import { createReadStream, existsSync } from 'node:fs';
import { CsvLoadError, createMapperSimulator, type MapperSimulator } from '../../simulators/mapper/index.js';
import { parseCommandArgs } from '../args.js';
import { accessLine, listenArgs, runStandaloneSimulator } from '../simulator.js';

const HELP = `Usage: g2p-bridge mapper [serve] [--port N] [--host H] [--prefix /path] [--load file.csv]
       g2p-bridge mapper load <file.csv>

Runs the example ID-account mapper (G2P Connect resolve, link, unlink) on its own port, default
MAPPER_SIMULATOR_PORT (8002), with its own database: DATABASE_URL (schema example_mapper) or the embedded
database in DATA_DIR/mapper. Point the bridge at it with MAPPER_URL=http://127.0.0.1:<port><prefix>.

  serve            (default) answer requests until interrupted
  load <file.csv>  load a CSV (header id,fa[,name][,active]; the last row for an id wins) and exit

Options:
  --port N         port to listen on (0 picks a free one)
  --host H         interface to listen on (default HOST, else 127.0.0.1); beyond loopback every call
                   needs a bearer token with the admin role (the bridge's MAPPER_TOKEN)
  --prefix P       mount the routes under P (default: the root)
  --load FILE      load a CSV before serving (MAPPER_SIMULATOR_CSV does the same)

Endpoints and the CSV format: docs/mapper.md.`;

export async function run(argv: string[]): Promise<number> {
  const parsed = parseCommandArgs(
    argv,
    {
      port: { type: 'string' },
      host: { type: 'string' },
      prefix: { type: 'string' },
      load: { type: 'string' },
    },
    HELP,
    true,
  );
  if (!parsed) return 0;
  const [sub = 'serve', ...rest] = parsed.positionals;
  if (!['serve', 'load'].includes(sub) || (sub === 'load' ? rest.length !== 1 : rest.length !== 0)) {
    process.stderr.write(`${HELP}\n`);
    return 2;
  }
  const listen = listenArgs(parsed.values);
  if (!listen) return 2;

  const file = sub === 'load' ? rest[0] : parsed.values.load;
  if (file && !existsSync(file)) {
    process.stderr.write(`no such file: ${file}\n`);
    return 1;
  }

  let sim: MapperSimulator | undefined;
  return runStandaloneSimulator({
    name: 'mapper-simulator',
    dir: 'mapper',
    title: 'example mapper',
    host: parsed.values.host,
    listen,
    defaultPort: (config) => config.MAPPER_SIMULATOR_PORT,
    // The CSV is loaded before anything listens; `load` ends there.
    async prepare({ config, db, log }) {
      sim = await createMapperSimulator({ db, log, config });
      if (file) {
        try {
          const rows = await sim.loadCsv(createReadStream(file));
          const counts = await sim.store.counts();
          process.stdout.write(
            `loaded ${rows} rows from ${file} (${counts.total} ids, ${counts.active} linked)\n`,
          );
        } catch (error) {
          if (error instanceof CsvLoadError || (error as NodeJS.ErrnoException).code) {
            process.stderr.write(`${(error as Error).message}\n`);
            return 1;
          }
          throw error;
        }
      }
      return sub === 'load' ? 0 : null;
    },
    build: async () => sim!,
    banner: (_, url, access) => [
      `  for the bridge: MAPPER_URL=${url}`,
      accessLine(access),
      `  entries:        ${url}/admin/entries`,
    ],
  });
}
