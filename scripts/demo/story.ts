/**
 * The demos' output: a story a person reads, with the time since the start on each event
 * line. Headings are bold on a terminal; everything goes to stdout, nothing else does.
 */

const bold = (text: string) => (process.stdout.isTTY ? `\x1b[1m${text}\x1b[0m` : text);

export class Story {
  private readonly started = performance.now();
  private chapter = 0;

  constructor(private readonly write: (text: string) => void = (t) => process.stdout.write(t)) {}

  title(text: string, intro: string[]): void {
    this.line(bold(text));
    this.line(bold('='.repeat(text.length)));
    for (const line of intro) this.line(line);
  }

  /** A numbered part of the story. */
  heading(text: string): void {
    this.chapter += 1;
    this.line('');
    this.line(bold(`${this.chapter}. ${text}`));
  }

  /** Something that happened now. */
  event(text: string): void {
    this.line(`[${this.elapsed().padStart(6)}] ${text}`);
  }

  /** An explanation, indented under the events. */
  note(text: string): void {
    this.line(`         ${text}`);
  }

  /** Rows of cells, columns aligned, indented like notes. */
  table(header: readonly string[], rows: ReadonlyArray<readonly string[]>): void {
    const all = [header, ...rows];
    const widths = header.map((_, c) => Math.max(...all.map((row) => (row[c] ?? '').length)));
    for (const row of all) {
      this.note(
        row
          .map((cell, c) => (c === row.length - 1 ? cell : cell.padEnd(widths[c] ?? 0)))
          .join('  ')
          .trimEnd(),
      );
    }
  }

  line(text: string): void {
    this.write(`${text}\n`);
  }

  seconds(): number {
    return (performance.now() - this.started) / 1000;
  }

  private elapsed(): string {
    return `${this.seconds().toFixed(1)}s`;
  }
}

export function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`;
}
