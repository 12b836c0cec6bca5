/**
 * A static check for shell code that must run on bash 3.2, the bash of stock macOS: it finds
 * the constructs bash 3.2 lacks (associative arrays, namerefs, mapfile, case modification,
 * `&>>`, `|&`, coproc, `;&`, `wait -n`, `[[ -v`, negative subscripts, `${x@Q}`, ...) and the
 * expansion of an array that may be empty under `set -u`, which bash before 4.4 reports as an
 * unbound variable: `"${a[@]}"` must be written `${a[@]+"${a[@]}"}` (or avoided).
 * No bash 3.2 can be built here (its source is not reachable), so this is the check, and
 * the scripts' own tests run them on the bash of the machine.
 */

export interface Finding {
  line: number;
  rule: string;
  text: string;
}

interface Rule {
  name: string;
  pattern: RegExp;
  /** Checked on the line as written: the construct lives inside single quotes. */
  quoted?: boolean;
}

const RULES: Rule[] = [
  {
    name: 'associative array, nameref or case attribute (bash 4)',
    pattern: /\b(?:declare|typeset|local|readonly)\s+(?:-[a-zA-Z]*[Anlu][a-zA-Z]*)\b/,
  },
  { name: 'mapfile/readarray (bash 4)', pattern: /(?:^|[\s;|&(])(?:mapfile|readarray)\b/ },
  {
    name: 'case modification ${x,,} ${x^^} (bash 4)',
    pattern: /\$\{[A-Za-z_][A-Za-z0-9_]*(?:\[[^\]]*\])?(?:,|\^)/,
  },
  {
    name: 'transformation ${x@Q} (bash 4.4)',
    pattern: /\$\{[A-Za-z_][A-Za-z0-9_]*(?:\[[^\]]*\])?@[A-Za-z]\}/,
  },
  { name: '&>> (bash 4)', pattern: /&>>/ },
  { name: '|& (bash 4)', pattern: /\|&/ },
  { name: 'coproc (bash 4)', pattern: /(?:^|[\s;])coproc\b/ },
  { name: ';& or ;;& in case (bash 4)', pattern: /;;&|[^;];&/ },
  { name: 'wait -n (bash 4.3)', pattern: /\bwait\s+-n\b/ },
  { name: '-v test (bash 4.2)', pattern: /(?:\[\[|\btest|\[)\s+(?:!\s+)?-v\s/ },
  { name: 'negative subscript (bash 4.3)', pattern: /\$\{[A-Za-z_][A-Za-z0-9_]*\[-[0-9]+\]\}/ },
  { name: "printf '%(...)T' (bash 4.2)", pattern: /\bprintf\b.*%\([^)]*\)T/, quoted: true },
  {
    name: 'EPOCHSECONDS/EPOCHREALTIME/BASHPID (bash 4/5)',
    pattern: /\$\{?(?:EPOCHSECONDS|EPOCHREALTIME|BASHPID)\b/,
  },
  {
    name: 'shopt option of bash 4',
    pattern: /\bshopt\s+-s\s+(?:globstar|lastpipe|autocd|direxpand|checkjobs)\b/,
  },
  { name: 'read -i (bash 4)', pattern: /\bread\s+(?:-[a-zA-Z]*\s+)*-[a-zA-Z]*i\b/ },
];

/** `"${a[@]}"` or `${a[*]}` that is not inside `${a[@]+...}` / `${a[@]:-...}`. */
const ARRAY_EXPANSION = /\$\{([A-Za-z_][A-Za-z0-9_]*)\[[@*]\]([^}]*)\}/g;

/** Removes comments and single-quoted text (neither is code bash expands). */
function codeOf(line: string): string {
  let out = '';
  let quote = false;
  for (let i = 0; i < line.length; i += 1) {
    const c = line[i]!;
    if (quote) {
      if (c === "'") quote = false;
      continue;
    }
    if (c === "'" && line[i - 1] !== '\\' && line[i - 1] !== '$') {
      quote = true;
      continue;
    }
    if (c === '#' && (i === 0 || /\s/.test(line[i - 1]!))) break;
    out += c;
  }
  return out;
}

function setsNounset(text: string): boolean {
  return /^\s*set\s+(?:-[a-zA-Z]*u[a-zA-Z]*|-o\s+nounset)\b/m.test(text);
}

/** Findings in shell text; `nounset` says whether it runs under set -u (default: from the text). */
export function bash32Findings(text: string, nounset = setsNounset(text)): Finding[] {
  const findings: Finding[] = [];
  text.split('\n').forEach((raw, index) => {
    const code = codeOf(raw);
    for (const rule of RULES) {
      if (rule.pattern.test(rule.quoted ? raw : code))
        findings.push({ line: index + 1, rule: rule.name, text: raw.trim() });
    }
    if (!nounset) return;
    for (const match of code.matchAll(ARRAY_EXPANSION)) {
      const operator = match[2] ?? '';
      if (/^:?[-+=?]/.test(operator)) continue;
      // Inside a guard `${a[@]+"${a[@]}"}`: the text before it ends with the guard's opening.
      const before = code.slice(0, match.index);
      if (new RegExp(`\\$\\{${match[1]}\\[[@*]\\]:?[-+]"?$`).test(before)) continue;
      findings.push({
        line: index + 1,
        rule: `expansion of array ${match[1]} that may be empty under set -u (bash < 4.4): use \${${match[1]}[@]+"\${${match[1]}[@]}"}`,
        text: raw.trim(),
      });
    }
  });
  return findings;
}

/** The recipes of a Makefile as shell text (continuations joined, `$$` as `$`), one a line. */
export function makefileRecipes(text: string): string[] {
  const recipes: string[] = [];
  let current: string | undefined;
  for (const line of text.split('\n')) {
    if (current !== undefined) {
      current += ` ${line.replace(/^\t/, '').trimStart()}`;
    } else if (line.startsWith('\t')) {
      current = line.slice(1);
    } else {
      continue;
    }
    if (current.endsWith('\\')) {
      current = current.slice(0, -1).trimEnd();
      continue;
    }
    recipes.push(current.replace(/^[@+-]+/, '').replaceAll('$$', '$'));
    current = undefined;
  }
  return recipes;
}
