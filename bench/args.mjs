// Command-line parsing for bench/run.mjs (kept separate so it can be tested without starting servers).

export const USAGE = `usage: node bench/run.mjs [options]          (npm run bench -- [options])
  sections (default: unsigned only; giving any of these runs exactly the ones given):
    --unsigned            apexdns vs Knot / NSD / PowerDNS, mixed load, no DO
    --signed              apexdns live signing vs Knot online / PowerDNS online, DO=1, + random-subdomain flood
    --scale               1M-record zone: load time, RSS (workers 1 and auto), SIGHUP reload under load
    --profile             apexdns (1 worker) under dnsperf with node --cpu-prof; prints the top frames
    --profile-signed      the same with live signing (the first --denial mode) and DO=1 on every query
    --shaping             in-process CPU per query: flattened apex (from the flattening cache) vs plain A
    --flood               live-signed zone: real-name throughput under a 90 % random-subdomain flood, with the
                          signing budget at its default and off (bench/flood.mjs; needs dnsperf)
    --tcp-hold            UDP throughput with and without 1,000 idle + 100 slow-loris TCP connections held open
                          (bench/tcp-hold.mjs; needs dnsperf)
    --caches              per-worker caches: hit rates, signatures and memory at 1 and 2 workers (bench/caches.mjs)
  options:
    --quick               short runs, fewer levels (~5 min for unsigned apexdns+knot)
    --only LIST           servers to run, comma separated: apexdns,knot,nsd,pdns
    --names N             hosts in the bench zone (default 10000; --scale: 500000 hosts = 1M A/AAAA)
    --count N             queries in the query file (default 500000, --quick 200000)
    --workers W           apexdns workers: a number or auto (default 1 with --pin, auto otherwise)
    --pin                 server on CPU 0 (1 thread), dnsperf on CPU 1
    --denial LIST         apexdns denial modes for --signed and --profile-signed, comma separated: compact,nsec3,nsec
                          (default compact,nsec)
    --seconds S --runs R  per dnsperf run / repetitions (default 15 / 3; --quick 5 / 1)
    --scale-qps Q         steady open-loop load during the SIGHUP reload (default 5000)
    --install             apt-get install missing peers (PowerDNS) instead of skipping them
    --kit DIR             the shared benchmark kit (default $APEXDNS_BENCH_KIT or /work/shared/bench)
    --out DIR             results directory (default bench/results)
`;

const SECTIONS = ['unsigned', 'signed', 'scale', 'profile', 'profile-signed', 'shaping', 'flood', 'tcp-hold', 'caches'];
const SERVERS = ['apexdns', 'knot', 'nsd', 'pdns'];
const DENIALS = ['compact', 'nsec3', 'nsec'];

/** Parses argv (without node and script) into a plain options object; throws Error with a message on bad input. */
export function parseArgs(argv) {
  const o = {
    sections: [],
    quick: false,
    only: null,
    names: null,
    count: null,
    workers: null,
    pin: false,
    seconds: null,
    runs: null,
    scaleQps: 5000,
    install: false,
    denials: ['compact', 'nsec'],
    kit: process.env.APEXDNS_BENCH_KIT || '/work/shared/bench',
    out: null,
    help: false,
  };
  const num = (flag, v) => {
    const n = Number(v);
    if (v === undefined || !Number.isInteger(n) || n <= 0) throw new Error(`${flag} needs a positive integer, got ${v ?? 'nothing'}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    const section = a.startsWith('--') ? a.slice(2) : '';
    if (SECTIONS.includes(section)) {
      if (!o.sections.includes(section)) o.sections.push(section);
      continue;
    }
    switch (a) {
      case '--quick': o.quick = true; break;
      case '--pin': o.pin = true; break;
      case '--install': o.install = true; break;
      case '-h': case '--help': o.help = true; break;
      case '--only': {
        const list = next().split(',').map((s) => s.trim()).filter(Boolean);
        for (const s of list) if (!SERVERS.includes(s)) throw new Error(`--only: unknown server ${s} (known: ${SERVERS.join(', ')})`);
        o.only = list;
        break;
      }
      case '--denial': {
        const list = next().split(',').map((s) => s.trim()).filter(Boolean);
        for (const d of list) if (!DENIALS.includes(d)) throw new Error(`--denial: unknown mode ${d} (known: ${DENIALS.join(', ')})`);
        o.denials = list;
        break;
      }
      case '--names': o.names = num(a, argv[++i]); break;
      case '--count': o.count = num(a, argv[++i]); break;
      case '--seconds': o.seconds = num(a, argv[++i]); break;
      case '--runs': o.runs = num(a, argv[++i]); break;
      case '--scale-qps': o.scaleQps = num(a, argv[++i]); break;
      case '--workers': {
        const v = next();
        o.workers = v === 'auto' ? 'auto' : num(a, v);
        break;
      }
      case '--kit': o.kit = next(); break;
      case '--out': o.out = next(); break;
      default: throw new Error(`unknown option ${a}`);
    }
  }
  if (o.sections.length === 0) o.sections.push('unsigned');
  o.workers ??= o.pin ? 1 : 'auto';
  o.seconds ??= o.quick ? 5 : 15;
  o.runs ??= o.quick ? 1 : 3;
  o.count ??= o.quick ? 200000 : 500000;
  return o;
}

/** Is `server` selected by --only (all are when --only is absent)? */
export function selected(o, server) {
  return o.only === null || o.only.includes(server);
}
