// Runs one of scripts/provision-*.sh: idempotent installers that print their progress on
// stderr (passed through to ours) and their results on stdout as NAME=value lines.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export async function runProvisionScript(name: string): Promise<{ get(variable: string): string }> {
  const script = path.join(root, 'scripts', name);
  const stdout = await new Promise<string>((resolve, reject) => {
    const child = spawn('bash', [script], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.on('error', reject);
    child.on('exit', (code, signal) => (code === 0 ? resolve(out) : reject(new Error(`${script} failed (exit ${code ?? signal}); its messages are above`))));
  });
  const vars = new Map(
    stdout
      .split('\n')
      .map((l) => /^([A-Z_]+)=(.*)$/.exec(l.trim()))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => [m[1]!, m[2]!.trim()]),
  );
  return {
    get(variable: string): string {
      const v = vars.get(variable);
      if (!v) throw new Error(`${script} printed no ${variable}=... line; its output was:\n${stdout}`);
      return v;
    },
  };
}
