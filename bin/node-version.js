// The Node.js versions this project runs on, checked before anything else by bin/start.js,
// bin/ensure-deps.js and bin/mfmb.js, so an old Node gets one clear sentence instead of a crash
// deep inside Vite or the feature-file reader.
// Plain JavaScript on purpose, with no dependency and conservative syntax (no top-level await,
// no ??, no ?.): it must run before anything is installed, on Node versions this project refuses.
import { readFileSync } from 'node:fs';

// package.json "engines".node is the one place the range is written; this is its fallback.
var FALLBACK_RANGE = '^20.19.0 || >=22.12.0';

// Why that range (kept short: it is printed).
var WHY = [
  'Vite 8 and its bundler (npm start, npm run build, the tests) need Node ^20.19.0 or >=22.12.0;',
  "reading compressed .npz files needs DecompressionStream('deflate-raw') (Node 20.12 or later).",
];

function parse(v) {
  var m = /^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?/.exec(String(v).trim());
  if (!m) return null;
  return [Number(m[1]), Number(m[2] || 0), Number(m[3] || 0)];
}

function cmp(a, b) {
  for (var i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
  return 0;
}

function satisfiesOne(v, cond) {
  var m = /^(\^|>=|>|<=|<|=)?\s*(v?\d+(?:\.\d+){0,2})$/.exec(cond);
  if (!m) return false;
  var want = parse(m[2]);
  var c = cmp(v, want);
  switch (m[1] || '=') {
    case '^':
      return c >= 0 && v[0] === want[0];
    case '>=':
      return c >= 0;
    case '>':
      return c > 0;
    case '<=':
      return c <= 0;
    case '<':
      return c < 0;
    default:
      return c === 0;
  }
}

/** Whether a version ("20.19.1" or "v20.19.1") lies in a range of the form "^20.19.0 || >=22.12.0". */
export function satisfies(version, range) {
  var v = parse(version);
  if (!v) return false;
  return range.split('||').some(function (alt) {
    var conds = alt.trim().split(/\s+/).filter(Boolean);
    return (
      conds.length > 0 &&
      conds.every(function (c) {
        return satisfiesOne(v, c);
      })
    );
  });
}

/** The supported range, from package.json "engines".node. */
export function nodeRange() {
  try {
    var pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
    return (pkg.engines && pkg.engines.node) || FALLBACK_RANGE;
  } catch (_e) {
    return FALLBACK_RANGE;
  }
}

/** The message for an unsupported Node, or null when this one is fine. */
export function nodeVersionProblem(version, what) {
  var range = nodeRange();
  if (satisfies(version, range)) return null;
  return [
    (what ? what + ': ' : '') +
      'Node.js ' +
      version +
      ' is too old; this project needs Node ' +
      range +
      ' (package.json "engines").',
  ]
    .concat(
      WHY.map(function (l) {
        return '  ' + l;
      }),
      ['  Install a current Node (https://nodejs.org/ or `nvm install 22`) and run this again.'],
    )
    .join('\n');
}

/** Prints the message and exits 1 when this Node is not supported. */
export function requireSupportedNode(what) {
  var problem = nodeVersionProblem(process.version, what);
  if (problem) {
    process.stderr.write(problem + '\n');
    process.exit(1);
  }
}
