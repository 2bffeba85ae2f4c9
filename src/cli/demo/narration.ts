// How `interproc demo` lays out what it says: every line fits WIDTH columns, a speaker's
// label in front and its text wrapped under itself, so a narrow terminal (80 columns) shows
// the demo without breaking lines in the middle of words.

export const WIDTH = 80;

/**
 * `text` after `prefix`, wrapped at spaces to WIDTH columns; continuation lines are indented
 * to where the text starts (or by 4 columns when the prefix is wide). A word longer than a
 * whole line (a long path) is cut into pieces that fill lines.
 */
export function narrationLines(prefix: string, text: string): string {
  const indent = ' '.repeat(prefix.length <= WIDTH / 3 ? prefix.length : 4);
  const room = WIDTH - indent.length;
  const words = text.split(/ +/).flatMap((word) => (word.length <= room ? [word] : (word.match(new RegExp(`.{1,${room}}`, 'g')) ?? [])));
  const lines: string[] = [];
  let line = prefix;
  let lineHasWords = false;
  for (const word of words) {
    if (word === '') continue;
    if (lineHasWords && line.length + 1 + word.length > WIDTH) {
      lines.push(line);
      line = indent + word;
    } else {
      line += (lineHasWords ? ' ' : '') + word;
    }
    lineHasWords = true;
  }
  lines.push(line);
  return `${lines.join('\n')}\n`;
}

/** `n` with thousands separators: 1,000,000. */
export function count(n: number): string {
  return n.toLocaleString('en-US');
}

/** Milliseconds as the narration shows them: whole, or one decimal below 10. */
export function ms(milliseconds: number): string {
  return `${milliseconds < 10 ? milliseconds.toFixed(1) : Math.round(milliseconds)} ms`;
}
