/** The e2e suite's progress lines, on stderr. */
export const progress = (line: string): void => {
  process.stderr.write(`[e2e] ${line}\n`);
};
