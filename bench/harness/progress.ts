/** Progress on stderr while the bench runs (stdout carries only the final table). */
const started = Date.now();

export function progress(section: string, message: string): void {
  const s = Math.round((Date.now() - started) / 1000);
  const clock = `${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
  process.stderr.write(`[bench ${clock}] ${section}: ${message}\n`);
}
